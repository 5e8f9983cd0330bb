/**
 * The overlay of expansions an incremental sync rewrote (`dirsync_<tenant>_<overlay>_ovl`), held by
 * readers in memory: per affected group its whole expansion (or a tombstone when the group is gone)
 * and the replaced user buckets. Written as a few packed documents of gzipped JSON (`_id` "p<n>")
 * and a `~packed` document last that counts them, so a reader takes it in one read and a writer in
 * one insert: the overlay is small by design (sync.ts caps it), while rewriting its groups as one
 * document per chunk cost ~0.4 s of inserts for 100 changes in a tenant of 100,000 users, and each
 * node's reads of them as much again. Overlays written before (one document per head, chunk,
 * tombstone or bucket) are still read. Owns the overlay's format and the chain of overlays held in
 * memory: ./store.ts decides what goes in.
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

/** Overlays merged in order: the later wins per group and per bucket. */
export function mergeOverlays<Head>(parts: Array<OverlayData<Head>>): OverlayData<Head> {
  if (parts.length === 1) return parts[0];
  const merged: OverlayData<Head> = { groups: new Map(), buckets: new Map() };
  for (const part of parts) {
    for (const [id, group] of part.groups) merged.groups.set(id, group);
    for (const [n, bucket] of part.buckets) merged.buckets.set(n, bucket);
  }
  return merged;
}

/**
 * Per tenant, the overlays of its current chain in memory, each read once (an overlay is never
 * changed after it was written), and the chain merged: a chain that extends the one held merges only
 * what is new. A failed or incomplete read is not kept: the next read tries again.
 */
export function createOverlayCache<Head>(read: (tenantId: string, overlay: string) => Promise<OverlayData<Head> | null>) {
  type Data = OverlayData<Head>;
  const overlays = new Map<string, Map<string, Promise<Data | null>>>();
  const chains = new Map<string, { key: string; data: Promise<Data | null> }>();
  const keepUnlessFailed = (data: Promise<Data | null>, forget: () => void) => {
    data.then((d) => d ?? forget(), forget);
    return data;
  };
  const mine = (tenantId: string) => {
    let held = overlays.get(tenantId);
    if (!held) overlays.set(tenantId, (held = new Map()));
    return held;
  };

  /** One overlay; null when it is gone or was dropped while read (a newer sync replaced it). */
  function one(tenantId: string, overlay: string): Promise<Data | null> {
    const held = mine(tenantId);
    const hit = held.get(overlay);
    if (hit) return hit;
    const data = read(tenantId, overlay);
    held.set(overlay, data);
    return keepUnlessFailed(data, () => held.get(overlay) === data && held.delete(overlay));
  }

  return {
    /** A chain of overlays (oldest first) merged; null when one of them is gone. */
    chain(tenantId: string, chain: string[]): Promise<Data | null> {
      const key = chain.join(' ');
      const hit = chains.get(tenantId);
      if (hit?.key === key) return hit.data;
      const held = mine(tenantId);
      for (const id of held.keys()) if (!chain.includes(id)) held.delete(id); // only this chain's overlays stay
      const from = hit && key.startsWith(`${hit.key} `) ? hit : null;
      const data = (async (): Promise<Data | null> => {
        const earlier: Data | null = from ? await from.data : { groups: new Map(), buckets: new Map() };
        const parts = await Promise.all((from ? chain.slice(from.key.split(' ').length) : chain).map((id) => one(tenantId, id)));
        return earlier && parts.every(Boolean) ? mergeOverlays([earlier, ...(parts as Data[])]) : null;
      })();
      const entry = { key, data };
      chains.set(tenantId, entry);
      return keepUnlessFailed(data, () => chains.get(tenantId) === entry && chains.delete(tenantId));
    },

    /** Hands over an overlay this node just wrote after `previous` (the chain `previousChain` merged). */
    prime(tenantId: string, previousChain: string[], previous: Data, overlay: string, data: Data): void {
      mine(tenantId).set(overlay, Promise.resolve(data));
      chains.set(tenantId, { key: [...previousChain, overlay].join(' '), data: Promise.resolve(mergeOverlays([previous, data])) });
    },

    /** The tenant has no overlays now (its expansions were written anew). */
    forget(tenantId: string): void {
      overlays.delete(tenantId);
      chains.delete(tenantId);
    },
  };
}
