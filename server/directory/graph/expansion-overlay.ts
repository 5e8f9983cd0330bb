/**
 * The overlay of expansions an incremental sync rewrote (`dirsync_<tenant>_<overlay>_ovl`), held by
 * readers in memory: per affected group its whole expansion (or a tombstone when the group is gone)
 * and the replaced user buckets. Written as a few packed documents of gzipped JSON (`_id` "p<n>")
 * and a `~packed` document last that counts them, so a reader takes it in one read and a writer in
 * one insert: the overlay is small by design (sync.ts caps it), while rewriting its groups as one
 * document per chunk cost ~0.4 s of inserts for 100 changes in a tenant of 100,000 users, and each
 * node's reads of them as much again. Overlays written before (one document per head, chunk,
 * tombstone or bucket) are still read. Owns only the overlay's format: ./store.ts decides what goes in.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { mongo, type Collection } from 'mongoose';

const zip = promisify(gzip);
const unzip = promisify(gunzip);

/** The last document of a packed overlay: how many packs it has. */
export const PACKED = '~packed';
/** Raw JSON per pack: a few MB, far below 16 MB once gzipped. */
const PACK_BYTES = 4_000_000;

/** A group's expansion as the overlay holds it (`head` as stored in the generation's collection). */
export interface OverlayGroup<Head> {
  head: Head;
  userIds: string[];
  addresses: string[];
}

/** An overlay in memory: null for a group that is gone. */
export interface OverlayData<Head> {
  groups: Map<string, OverlayGroup<Head> | null>;
  /** User buckets replaced by the overlay, by bucket number. */
  buckets: Map<number, { userIds: string[]; addresses: string[] }>;
}

type PackEntry<Head> = ['g', string, OverlayGroup<Head> | null] | ['b', number, { userIds: string[]; addresses: string[] }];

interface PackDoc {
  _id: string;
  gz: mongo.Binary;
}
interface PackedMeta {
  _id: typeof PACKED;
  packs: number;
}

/** Writes the overlay into an empty collection: the packs, then `~packed` (which marks it complete). */
export async function writePackedOverlay<Head>(coll: Collection, data: OverlayData<Head>, signal?: AbortSignal): Promise<void> {
  const packs: Array<Promise<PackDoc>> = [];
  let pending: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (!pending.length) return;
    const _id = `p${String(packs.length).padStart(6, '0')}`;
    // Compressed on the thread pool while this thread serialises the next pack.
    packs.push(zip(`[${pending.join(',')}]`, { level: 1 }).then((z) => ({ _id, gz: new mongo.Binary(z) })));
    pending = [];
    bytes = 0;
  };
  const add = (entry: PackEntry<Head>) => {
    const json = JSON.stringify(entry);
    pending.push(json);
    bytes += json.length;
    if (bytes >= PACK_BYTES) flush();
  };
  for (const [id, group] of data.groups) add(['g', id, group]);
  for (const [n, bucket] of data.buckets) add(['b', n, bucket]);
  flush();
  const docs = await Promise.all(packs);
  signal?.throwIfAborted();
  if (docs.length) await coll.insertMany(docs as never[], { ordered: false });
  signal?.throwIfAborted();
  await coll.insertOne({ _id: PACKED, packs: docs.length } satisfies PackedMeta as never);
}

/**
 * Reads an overlay whole. `legacy` turns the documents of an overlay written before packing (no
 * `~packed` document) into the same shape. Null when it is gone or was dropped while read (packs missing).
 */
export async function readOverlay<Head>(
  coll: Collection,
  reviveHead: (head: Head) => Head,
  legacy: (docs: Array<Record<string, unknown>>) => OverlayData<Head>,
): Promise<OverlayData<Head> | null> {
  const docs = (await coll.find({}).toArray()) as Array<Record<string, unknown>>;
  // Nothing at all: dropped (an older overlay without entries had no collection either: read as empty, kept by no one).
  if (!docs.length) return null;
  const meta = docs.find((d) => d._id === PACKED) as unknown as PackedMeta | undefined;
  if (!meta) return legacy(docs);
  const packs = (docs.filter((d) => d._id !== PACKED) as unknown as PackDoc[]).sort((a, b) => (a._id < b._id ? -1 : 1));
  if (packs.length !== meta.packs) return null;
  const texts = await Promise.all(packs.map((p) => unzip(p.gz.buffer)));
  const data: OverlayData<Head> = { groups: new Map(), buckets: new Map() };
  for (const text of texts) {
    for (const entry of JSON.parse(text.toString('utf8')) as Array<PackEntry<Head>>) {
      if (entry[0] === 'g') data.groups.set(entry[1], entry[2] ? { ...entry[2], head: reviveHead(entry[2].head) } : null);
      else data.buckets.set(entry[1], entry[2]);
    }
  }
  return data;
}
