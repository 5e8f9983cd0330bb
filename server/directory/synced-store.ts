/**
 * Where a connected tenant's synced directory (users and groups in the file provider's record shape)
 * is kept, in generations of collections of their own, switched by one single-document write:
 *
 *  - `dirview_<tenant>_<generation>`: every record, packed — documents of up to PACK records each,
 *    as one gzipped JSON string (`_id` "u<n>" / "g<n>"), and last a `~meta` document with their
 *    counts. Gzipped because every byte goes through FerretDB's JSON encoding on the write and on
 *    each node's read: 100,000 users are ~40 MB of JSON, a few MB gzipped.
 *    Written by plain inserts after a full sync (nothing is read or replaced: FerretDB v1 scans the
 *    collection for every replace, which made storing 100,000 users take seconds);
 *  - `dirview_<tenant>_<overlay>_ovl`: what incremental syncs changed since, one document per user
 *    or group (`_id` "u:<id>" / "g:<id>", its record as JSON, or null when it is gone), carried into
 *    each next overlay, with a `~meta` document written last. Small by design: beyond OVERLAY_LIMIT
 *    entries the sync writes a new generation instead.
 *
 * Which generation and overlay are current is named by the sync state (`directoryGeneration`,
 * `directoryOverlay`), written by the sync in the same write that switches the expansions. A sync
 * that fails or dies leaves that pointer alone, so readers never see a half-written generation;
 * what it wrote is dropped (a dropped collection is one cheap command), or swept by the next sync.
 * Readers (./synced-view.ts) keep the current generation in memory and reload only when the pointer
 * changes; reading the pointer is one `_id` look-up, so every node sees a switch at its next read.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { mongo, type Connection } from 'mongoose';
import type { DirectoryGroupRecord, DirectoryUserRecord } from './model';

/** Records per packed document: ~1,000 users are a few hundred KB of JSON, far below 16 MB. */
const PACK = 1000;
/** Documents per insert: a few MB per round trip. */
const INSERT_BATCH = 8;
const META = '~meta';
const zip = promisify(gzip);
const unzip = promisify(gunzip);

export type ViewUser = Omit<DirectoryUserRecord, '_id'>;
export type ViewGroup = Omit<DirectoryGroupRecord, '_id'>;

/** One generation as read back, or as handed over by the sync that wrote it. */
export interface ViewRecords {
  users: ViewUser[];
  groups: ViewGroup[];
}

/** What an incremental sync changed: the records as they are now, and the ids that are gone. */
export interface ViewChanges {
  users: ViewUser[];
  groups: ViewGroup[];
  removedUserIds: string[];
  removedGroupIds: string[];
}

/** The overlay's entries, in the order they were first changed. */
export interface OverlayEntries {
  users: Map<string, ViewUser | null>;
  groups: Map<string, ViewGroup | null>;
}

interface PackedDoc {
  _id: string;
  gz: mongo.Binary;
}
interface MetaDoc {
  _id: typeof META;
  json: string;
}
interface OverlayDoc {
  _id: string;
  json: string | null;
}

/** A generation or overlay whose collection is gone or incomplete (a newer switch dropped it): read the pointer again. */
export class GenerationGone extends Error {}

export const VIEW_PREFIX = 'dirview_';

export function createSyncedStore(conn: Connection) {
  const db = () => {
    if (!conn.db) throw new Error('database not connected');
    return conn.db;
  };
  const baseName = (tenantId: string, generation: string) => `${VIEW_PREFIX}${tenantId}_${generation}`;
  const overlayName = (tenantId: string, overlay: string) => `${VIEW_PREFIX}${tenantId}_${overlay}_ovl`;

  async function insertAll(name: string, docs: Array<PackedDoc | MetaDoc | OverlayDoc>, signal?: AbortSignal): Promise<void> {
    const coll = db().collection<PackedDoc | MetaDoc | OverlayDoc>(name);
    for (let i = 0; i < docs.length; i += INSERT_BATCH) {
      signal?.throwIfAborted();
      await coll.insertMany(docs.slice(i, i + INSERT_BATCH), { ordered: false });
    }
  }

  async function drop(name: string): Promise<void> {
    try {
      await db().dropCollection(name);
    } catch (err) {
      if ((err as { codeName?: string }).codeName !== 'NamespaceNotFound') throw err;
    }
  }

  return {
    /** Writes a whole generation (inserts only; the `~meta` document last marks it complete). */
    async writeGeneration(tenantId: string, generation: string, records: ViewRecords, signal?: AbortSignal): Promise<void> {
      const packs: Array<Promise<PackedDoc>> = [];
      const pack = (prefix: string, list: unknown[]) => {
        let n = 0;
        for (let i = 0; i < list.length; i += PACK, n++) {
          const _id = `${prefix}${String(n).padStart(6, '0')}`;
          // Compressed on the thread pool (both cores) while this thread packs the next.
          packs.push(zip(JSON.stringify(list.slice(i, i + PACK)), { level: 1 }).then((z) => ({ _id, gz: new mongo.Binary(z) })));
        }
        return n;
      };
      const meta = { users: pack('u', records.users), groups: pack('g', records.groups) };
      const docs: Array<PackedDoc | MetaDoc> = await Promise.all(packs);
      docs.push({ _id: META, json: JSON.stringify(meta) });
      await insertAll(baseName(tenantId, generation), docs, signal);
    },

    /** Reads a whole generation back, in the order it was written. */
    async readGeneration(tenantId: string, generation: string): Promise<ViewRecords> {
      const docs = await db().collection<PackedDoc | MetaDoc>(baseName(tenantId, generation)).find({}).toArray();
      const meta = docs.find((d): d is MetaDoc => d._id === META);
      if (!meta) throw new GenerationGone(`directory generation ${generation} is not complete`);
      const counts = JSON.parse(meta.json) as { users: number; groups: number };
      const packs = async (prefix: string, count: number) => {
        const found = (docs.filter((d) => d._id.startsWith(prefix)) as PackedDoc[]).sort((a, b) => (a._id < b._id ? -1 : 1));
        if (found.length !== count) throw new GenerationGone(`directory generation ${generation} is not complete`);
        const texts = await Promise.all(found.map((d) => unzip(d.gz.buffer)));
        return texts.flatMap((t) => JSON.parse(t.toString('utf8')) as unknown[]);
      };
      return { users: (await packs('u', counts.users)) as ViewUser[], groups: (await packs('g', counts.groups)) as ViewGroup[] };
    },

    /**
     * Writes a new overlay: the previous overlay's entries with these changes on top (inserts only).
     * Returns how many entries it holds.
     */
    async writeOverlay(tenantId: string, overlay: string, previous: OverlayEntries, changes: ViewChanges, signal?: AbortSignal): Promise<number> {
      const users = new Map(previous.users);
      const groups = new Map(previous.groups);
      for (const u of changes.users) users.set(u.id, u);
      for (const id of changes.removedUserIds) users.set(id, null);
      for (const g of changes.groups) groups.set(g.id, g);
      for (const id of changes.removedGroupIds) groups.set(id, null);
      const docs: OverlayDoc[] = [];
      // `_id`s keep the order entries were first changed (new users are appended in that order).
      let n = 0;
      const seq = () => String(n++).padStart(7, '0');
      for (const [id, u] of users) docs.push({ _id: `u:${seq()}:${id}`, json: u ? JSON.stringify(u) : null });
      for (const [id, g] of groups) docs.push({ _id: `g:${seq()}:${id}`, json: g ? JSON.stringify(g) : null });
      docs.push({ _id: META, json: JSON.stringify({ entries: docs.length }) });
      await insertAll(overlayName(tenantId, overlay), docs, signal);
      return users.size + groups.size;
    },

    /** An overlay's entries (it is small: one read). */
    async readOverlay(tenantId: string, overlay: string): Promise<OverlayEntries> {
      const docs = (await db().collection<OverlayDoc>(overlayName(tenantId, overlay)).find({}).toArray()).sort((a, b) => (a._id < b._id ? -1 : 1));
      const meta = docs.find((d) => d._id === META);
      if (!meta || (JSON.parse(meta.json!) as { entries: number }).entries !== docs.length - 1)
        throw new GenerationGone(`directory overlay ${overlay} is not complete`);
      const out: OverlayEntries = { users: new Map(), groups: new Map() };
      for (const d of docs) {
        if (d._id === META) continue;
        const id = d._id.slice(d._id.indexOf(':', 2) + 1);
        if (d._id.startsWith('u:')) out.users.set(id, d.json ? (JSON.parse(d.json) as ViewUser) : null);
        else out.groups.set(id, d.json ? (JSON.parse(d.json) as ViewGroup) : null);
      }
      return out;
    },

    dropGeneration: (tenantId: string, generation: string) => drop(baseName(tenantId, generation)),
    dropOverlay: (tenantId: string, overlay: string) => drop(overlayName(tenantId, overlay)),

    /**
     * Drops every collection of the tenant's synced directory and sync store (`dirview_`, `dirsync_`)
     * that is not named in `keep`: what a sync that died left behind. Call only under the sync lease.
     */
    async sweep(tenantId: string, keep: Set<string>): Promise<string[]> {
      const prefixes = [`${VIEW_PREFIX}${tenantId}_`, `dirsync_${tenantId}_`];
      const names = (await db().listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
      const dropped: string[] = [];
      for (const name of names) {
        const prefix = prefixes.find((p) => name.startsWith(p));
        if (!prefix) continue;
        // Exactly "<prefix><generation>[_src|_exp|_ovl]": a tenant id may hold "_", so "a_b"'s collections
        // also start with tenant "a"'s prefix, but never have this shape (generations hold no "_").
        const m = /^([0-9a-z]+)(_src|_exp|_ovl)?$/.exec(name.slice(prefix.length));
        if (!m || keep.has(m[1])) continue;
        await drop(name);
        dropped.push(name);
      }
      return dropped;
    },
  };
}
export type SyncedStore = ReturnType<typeof createSyncedStore>;
