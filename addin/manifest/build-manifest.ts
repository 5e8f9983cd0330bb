/**
 * The production manifest: the committed manifest.xml (the https://localhost:3000 development
 * variant) with every URL moved to LIFEBOAT_PUBLIC_URL. `npm run build:manifest` writes it to
 * server/public/build/manifest.xml (or `--out <file>`), which the server serves at /addin/manifest.xml.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { manifestPublicUrl } from '../../server/config';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const DEV_MANIFEST = path.join(REPO_ROOT, 'manifest.xml');
export const BUILT_MANIFEST = path.join(REPO_ROOT, 'server', 'public', 'build', 'manifest.xml');
export const DEV_ORIGIN = 'https://localhost:3000';

/** The OnMessageSend launch event the manifest must declare (addin/commands/onsend.ts registers the handler). */
export const SEND_HANDLER = { type: 'OnMessageSend', functionName: 'onMessageSendHandler', sendMode: 'SoftBlock' } as const;
/** The event runtime's files: the page for browser runtimes, a stable-named script for classic Outlook on Windows. */
export const EVENT_RUNTIME = { page: '/addin/commands.html', script: '/addin/launchevent.js' } as const;

export class ManifestUrlError extends Error {}

/** Checks a public URL for the manifest: absolute https, no query or fragment; returns it without a trailing slash. */
export function manifestBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ManifestUrlError(`LIFEBOAT_PUBLIC_URL must be an absolute https:// URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:') {
    throw new ManifestUrlError(`LIFEBOAT_PUBLIC_URL must be an https:// URL: Outlook loads add-ins only over HTTPS (got "${raw}")`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new ManifestUrlError(`LIFEBOAT_PUBLIC_URL must not carry a query, fragment or credentials (got "${raw}")`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function xmlAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** The manifest text for `publicUrl` (the development variant when it is undefined). */
export function renderManifest(publicUrl: string | undefined, template = readFileSync(DEV_MANIFEST, 'utf8')): string {
  if (!template.includes(DEV_ORIGIN)) throw new Error(`${DEV_MANIFEST} no longer uses ${DEV_ORIGIN}; update build-manifest.ts`);
  const launch = `<LaunchEvent Type="${SEND_HANDLER.type}" FunctionName="${SEND_HANDLER.functionName}" SendMode="${SEND_HANDLER.sendMode}"/>`;
  if (!template.includes(launch)) throw new Error(`${DEV_MANIFEST} must declare ${launch} (the send block during continuity events)`);
  for (const file of Object.values(EVENT_RUNTIME)) {
    if (!template.includes(`${DEV_ORIGIN}${file}`)) throw new Error(`${DEV_MANIFEST} must name the event runtime ${file}`);
  }
  if (publicUrl === undefined || publicUrl === '') return template;
  const base = xmlAttr(manifestBaseUrl(publicUrl));
  return template
    .split(DEV_ORIGIN)
    .join(base)
    .replace(/development variant: every URL is [^\n]*\n/, `built for ${base}.\n`);
}

if (require.main === module) {
  // A build tool (`npm run build`), not the server: its one variable comes from server/config.ts unchecked.
  const publicUrl = manifestPublicUrl();
  const outFlag = process.argv.indexOf('--out');
  const out = outFlag > 0 && process.argv[outFlag + 1] ? path.resolve(process.argv[outFlag + 1]) : BUILT_MANIFEST;
  try {
    const text = renderManifest(publicUrl);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, text);
    console.log(`wrote ${path.relative(process.cwd(), out)} for ${publicUrl ? manifestBaseUrl(publicUrl) : `${DEV_ORIGIN} (LIFEBOAT_PUBLIC_URL is unset)`}`);
  } catch (err) {
    if (err instanceof ManifestUrlError) {
      console.error(`build:manifest: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}
