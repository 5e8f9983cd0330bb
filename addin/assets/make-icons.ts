/**
 * Draws the add-in's icons (a lifebuoy) as PNGs: `npx tsx addin/assets/make-icons.ts`.
 * The PNGs are committed; this script is how they were made (no image tools needed).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

// 192 and 512: the continuity inbox installed as an app (Android and desktop browsers ask for these).
export const ICON_SIZES = [16, 32, 64, 80, 128, 192, 512] as const;

type RGBA = [number, number, number, number];
const RED: RGBA = [209, 52, 56, 255];
const WHITE: RGBA = [255, 255, 255, 255];
const OUTLINE: RGBA = [50, 49, 48, 255];
const CLEAR: RGBA = [0, 0, 0, 0];

/** The colour at a point of the unit square (0..1). */
function shade(x: number, y: number): RGBA {
  const dx = x - 0.5;
  const dy = y - 0.5;
  const r = Math.hypot(dx, dy);
  const outer = 0.48;
  const inner = 0.22;
  const line = 0.045;
  if (r > outer || r < inner) return CLEAR;
  if (r > outer - line || r < inner + line) return OUTLINE;
  // Two red and two white bands, turned 45°.
  const angle = Math.atan2(dy, dx) + Math.PI / 4;
  const quadrant = Math.floor(((angle + 2 * Math.PI) % (2 * Math.PI)) / (Math.PI / 2));
  return quadrant % 2 === 0 ? RED : WHITE;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** An RGBA PNG of the icon at `size` pixels, 4×4 supersampled. */
export function drawIcon(size: number): Buffer {
  const samples = 4;
  const rows: Buffer[] = [];
  for (let py = 0; py < size; py++) {
    const row = Buffer.alloc(1 + size * 4); // filter byte 0 (None)
    for (let px = 0; px < size; px++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const c = shade((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size);
          // premultiplied accumulation
          acc[0] += c[0] * c[3];
          acc[1] += c[1] * c[3];
          acc[2] += c[2] * c[3];
          acc[3] += c[3];
        }
      }
      const a = acc[3] / (samples * samples);
      const o = 1 + px * 4;
      row[o] = acc[3] ? Math.round(acc[0] / acc[3]) : 0;
      row[o + 1] = acc[3] ? Math.round(acc[1] / acc[3]) : 0;
      row[o + 2] = acc[3] ? Math.round(acc[2] / acc[3]) : 0;
      row[o + 3] = Math.round(a);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

if (require.main === module) {
  for (const size of ICON_SIZES) {
    const file = path.join(__dirname, `icon-${size}.png`);
    writeFileSync(file, drawIcon(size));
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}
