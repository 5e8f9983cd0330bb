/**
 * The continuity mailbox as each user reads it: per user and folder, the message summaries and their
 * search text in a few documents keyed by `_id`, and a head document (`<tenant>:<user>:<folder>:head`)
 * listing those chunks with their time span. Owns only the index: the mailbox entries stay the record
 * of what a user has (a missing or unreadable head is rebuilt from them).
 *
 * Why this shape: FerretDB v1 uses an index only for a filter that is exactly {_id}; anything else reads
 * every document of the collection. Measured on the embedded database with a 5,000-message mailbox,
 * `find({tenantId, userId, folder}).sort().limit(51)` took 0.9–3.5 s. Here every read and write names
 * one `_id`:
 * - a chunk is **immutable**: written once under a new random `_id` (`<tenant>:<user>:<folder>:<rand>`),
 *   never updated, deleted once no head lists it. So a process keeps the chunks it read or wrote
 *   decoded in memory (index-cache.ts) and a search is one head look-up plus filtering rows it already
 *   holds; a cached chunk can never be stale, whichever node wrote its successor.
 * - the head is switched by **one write** (replace by `_id`) after the new chunks exist, so a reader sees
 *   the old set or the new one, never half of a change.
 * - new rows go to a small tail chunk (at most TAIL_ROWS rows, rewritten under a new id on each
 *   delivery); a run of full tails is merged into one chunk of CHUNK_ROWS, so a delivery writes ~25
 *   rows, not the ~125 of an append into a 250-row chunk, and a search reads ~CHUNK_ROWS-row chunks.
 * Rows are one deflated JSON string per chunk: as sub-documents FerretDB converts every field (a
 * 500-row chunk: 50–500 ms to read, as a string 10–80 ms; deflated, a third of the bytes again).
 *
 * FerretDB v1 also scans for every update and delete, even by `_id`: switching a head and dropping
 * the old tail cost one scan each of the heads and the chunks. So both are spread over SHARDS
 * collections by a hash of the mailbox (a scan reads one shard: at 2,000 mailboxes a delivery cost
 * ~200 ms of database CPU in one collection). And a mailbox without a head is empty, not "mail from
 * before the index", once its tenant is marked indexed (mailboxindexstate): the first delivery to each
 * mailbox no longer scans every mailbox entry to find out. The mark is set after one whole-tenant
 * reindex, which the tenant's first index write runs (for an existing installation: the migration).
 *
 * Writes are serialised per user and folder inside this process. With several nodes, two deliveries
 * to one user at the same moment can each switch the head and one row set is left out of the index
 * (never the message itself: `reindexTenant`, run by the retention sweeper once a day, restores it from the entries).
 */
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ParsedMail } from 'mailparser';
import { Schema, type Connection } from 'mongoose';
import { claimByInsert, insertIgnoringDuplicates } from '../db/claims';
import { defineModel } from '../db/connection';
import { bodyText } from './message';
import { createChunkCache } from './index-cache';
import type { MailboxEntryRecord } from './model';

/** Rows of a merged chunk. */
export const CHUNK_ROWS = 250;
/** Rows of a tail chunk: what a delivery rewrites at most. */
export const TAIL_ROWS = 50;
/** Decoded rows a process keeps (~1 KB each: ~50 MB, ten 5,000-message mailboxes). */
const CACHE_ROWS = 50_000;
/** An unlisted chunk younger than this may belong to a write in progress: the orphan sweep leaves it. */
const ORPHAN_GRACE_MS = 10 * 60_000;
/** How long chunks no head lists wait to be deleted together (see dropLater). */
const DROP_DELAY_MS = 2_000;
/** Body text kept for search: the opening of each message (what fits the time budget of a search). */
const TEXT_CHARS = 300;

export interface IndexRow {
  /** The message id (the mailbox entry's last _id part). */
  m: string;
  /** receivedAt, ms. */
  at: number;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  date: number | null;
  preview: string;
  att: boolean;
  via: string | null;
  /** Protection's verdict and action for the copy (absent: not judged). */
  sec?: { v: string | null; a: string } | null;
  /** Lower-cased sender, recipients, subject and body text: what search matches. */
  text: string;
}

interface ChunkRecord {
  _id: string;
  tenantId: string;
  /** The rows as one deflated JSON document (binary in one piece is what FerretDB moves cheapest). */
  z: Buffer;
  /** When it was written (ms): the orphan sweep spares young chunks. */
  w: number;
}
interface ChunkSpan {
  id: string;
  count: number;
  minAt: number;
  maxAt: number;
}
interface HeadRecord {
  _id: string;
  tenantId: string;
  chunks: ChunkSpan[];
}

const chunkSchema = new Schema<ChunkRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    z: { type: Buffer, required: true },
    w: { type: Number, required: true },
  },
  { versionKey: false },
);
const stateSchema = new Schema<StateRecord>({ _id: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });
// Spans are plain sub-documents written whole (no per-field casting needed).
const headSchema = new Schema<HeadRecord>(
  { _id: { type: String, required: true }, tenantId: { type: String, required: true }, chunks: { type: Schema.Types.Mixed, default: [] } },
  { versionKey: false },
);

/** Collections the heads and chunks are spread over (see above). */
export const SHARDS = 256;

/** The shard of a mailbox folder key (`<tenant>:<user>:<folder>`): FNV-1a, as two hex digits. */
export function shardOf(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return ((h >>> 0) % SHARDS).toString(16).padStart(2, '0');
}

/** The folder key of a chunk id (`<key>:<rand>`) or head id (`<key>:head`). */
const keyOfId = (id: string) => id.slice(0, id.lastIndexOf(':'));

interface StateRecord {
  _id: string;
  at: Date;
}

export function mailboxIndexModels(conn: Connection) {
  const chunksIn = (shard: string) => defineModel(conn, `MailboxIndexChunk_${shard}`, chunkSchema, `mailboxindexchunks_${shard}`);
  const headsIn = (shard: string) => defineModel(conn, `MailboxIndexHead_${shard}`, headSchema, `mailboxindexheads_${shard}`);
  const shards = Array.from({ length: SHARDS }, (_, n) => n.toString(16).padStart(2, '0'));
  return {
    /** The chunks of a mailbox folder (`<tenant>:<user>:<folder>`). */
    chunks: (key: string) => chunksIn(shardOf(key)),
    /** The chunks collection holding a chunk id. */
    chunkById: (id: string) => chunksIn(shardOf(keyOfId(id))),
    heads: (key: string) => headsIn(shardOf(key)),
    /** Every shard (tenant-wide work: reindex, tests). */
    all: () => shards.map((shard) => ({ chunks: chunksIn(shard), heads: headsIn(shard) })),
    /** Tenants whose every mailbox entry is in the index (a missing head is an empty mailbox). */
    state: defineModel(conn, 'MailboxIndexState', stateSchema, 'mailboxindexstate'),
  };
}

/** The body as plain text (what search matches besides the headers). */
export function plainText(parsed: ParsedMail): string {
  return bodyText(parsed).slice(0, TEXT_CHARS);
}

const messageIdOf = (entryId: string) => entryId.slice(entryId.lastIndexOf(':') + 1);

export function rowOf(e: MailboxEntryRecord, body: string): IndexRow {
  return {
    m: messageIdOf(e._id),
    at: e.receivedAt.getTime(),
    from: e.from,
    to: e.to,
    cc: e.cc,
    subject: e.subject,
    date: e.date ? e.date.getTime() : null,
    preview: e.preview,
    att: e.hasAttachments,
    via: e.viaGroup,
    sec: e.security ? { v: e.security.verdict, a: e.security.action } : null,
    text: [e.from, ...e.to, ...e.cc, e.viaGroup ?? '', e.subject, body || e.preview].join('\n').toLowerCase(),
  };
}

/** Newest first: receivedAt, then message id. */
const newer = (a: IndexRow, b: IndexRow) => b.at - a.at || (a.m < b.m ? 1 : a.m > b.m ? -1 : 0);
const before = (row: IndexRow, pos: { at: number; m: string }) => row.at < pos.at || (row.at === pos.at && row.m < pos.m);

const pack = (rows: IndexRow[]) => deflateRawSync(JSON.stringify(rows), { level: 1 });
const unpack = (z: Buffer | { buffer: Buffer }) => JSON.parse(inflateRawSync(Buffer.isBuffer(z) ? z : z.buffer).toString()) as IndexRow[];
/** A head written before chunks were immutable (spans numbered, not named) is rebuilt. */
const current = (h: HeadRecord | null) => (h && h.chunks.every((s) => typeof s.id === 'string') ? h : null);

export type Folder = 'inbox' | 'sent';
export interface Mailbox {
  tenantId: string;
  userId: string;
}

export function createMailboxIndex(conn: Connection, deps: { mailbox: { find: (filter: object) => { lean: <T>() => PromiseLike<T> } } }) {
  const models = mailboxIndexModels(conn);
  const cache = createChunkCache<IndexRow>(CACHE_ROWS);
  const queues = new Map<string, Promise<unknown>>();
  const base = (box: Mailbox, folder: Folder) => `${box.tenantId}:${box.userId}:${folder}`;

  /** Runs one write at a time per mailbox folder (in this process). */
  function serial<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    queues.set(key, next);
    void next
      .finally(() => {
        if (queues.get(key) === next) queues.delete(key);
      })
      .catch(() => {});
    return next;
  }

  const readHead = async (key: string) => current(await models.heads(key).findById(`${key}:head`).lean<HeadRecord>());

  /** A chunk's rows (shared with the cache: never change them), or null when no longer stored. */
  async function rowsOf(id: string): Promise<IndexRow[] | null> {
    const cached = cache.get(id);
    if (cached) return cached;
    const chunk = await models.chunkById(id).findById(id).lean<ChunkRecord>();
    if (!chunk) return null;
    const rows = unpack(chunk.z);
    cache.set(id, rows);
    return rows;
  }

  /** Writes rows (oldest first) as a new chunk under a new id. */
  async function writeChunk(key: string, tenantId: string, rows: IndexRow[]): Promise<ChunkSpan> {
    const id = `${key}:${randomBytes(6).toString('base64url')}`;
    await models.chunks(key).collection.insertOne({ _id: id, tenantId, z: pack(rows), w: Date.now() } as never);
    cache.set(id, rows);
    return { id, count: rows.length, minAt: Math.min(...rows.map((r) => r.at)), maxAt: Math.max(...rows.map((r) => r.at)) };
  }

  /**
   * The one write that makes a new chunk set current; the chunks it no longer lists go a moment later.
   * `first`: the caller found no current head, so an insert (no scan) usually does; a head of the old
   * format or another node's first write in between make it a replace after all.
   */
  async function switchHead(key: string, tenantId: string, chunks: ChunkSpan[], dropped: string[], first = false): Promise<HeadRecord> {
    const head = { _id: `${key}:head`, tenantId, chunks };
    if (!(first && (await claimByInsert(models.heads(key), head)))) await models.heads(key).replaceOne({ _id: head._id }, head, { upsert: true });
    dropLater(dropped);
    return head;
  }

  // Chunks no head lists any more are deleted together, one command per shard every DROP_DELAY_MS, not one
  // per delivery: FerretDB v1 reads (and decodes) every chunk of the shard for each delete, even by _id
  // (bench:protect --users 2000: most of the database's CPU per message). An unlisted chunk is never read
  // again (a head never lists an old id anew), so the delay is harmless; after a crash, the retention
  // sweeper's reindex drops what was left.
  const unlisted = new Map<string, Set<string>>();
  let dropTimer: NodeJS.Timeout | null = null;
  let dropping: Promise<void> = Promise.resolve();
  function dropLater(ids: string[]): void {
    for (const id of ids) {
      cache.delete(id);
      const shard = shardOf(keyOfId(id));
      unlisted.set(shard, (unlisted.get(shard) ?? new Set()).add(id));
    }
    if (ids.length && !dropTimer) {
      dropTimer = setTimeout(() => void dropUnlisted(), DROP_DELAY_MS);
      dropTimer.unref();
    }
  }
  /** Deletes the unlisted chunks now (one command per shard); a failure keeps them for the next round. */
  function dropUnlisted(): Promise<void> {
    if (dropTimer) clearTimeout(dropTimer);
    dropTimer = null;
    const batches = [...unlisted];
    unlisted.clear();
    dropping = dropping.then(async () => {
      for (const [, ids] of batches) {
        const list = [...ids];
        try {
          await models.chunkById(list[0]!).deleteMany({ _id: { $in: list } });
        } catch {
          dropLater(list);
        }
      }
    });
    return dropping;
  }

  /** Replaces a folder's whole index by these rows. */
  async function writeAll(key: string, tenantId: string, rows: IndexRow[], old: HeadRecord | null): Promise<HeadRecord> {
    const sorted = [...rows].sort((a, b) => -newer(a, b)); // oldest first
    const spans: ChunkSpan[] = [];
    for (let i = 0; i < sorted.length; i += CHUNK_ROWS) spans.push(await writeChunk(key, tenantId, sorted.slice(i, i + CHUNK_ROWS)));
    return switchHead(key, tenantId, spans, old?.chunks.map((s) => s.id) ?? [], !old);
  }

  /**
   * Writes one folder's first index: from the mailbox entries (a scan) for a tenant not yet marked indexed,
   * else from `fresh` alone (a marked tenant's mailbox without a head had no entries). `fresh` rows (with
   * their body text) win over the ones built from entries. Called (serialised) right after finding no
   * current head, so it does not read the head again.
   */
  async function build(box: Mailbox, folder: Folder, fresh: IndexRow[], fromEntries: boolean): Promise<HeadRecord> {
    const key = base(box, folder);
    const entries = fromEntries ? await deps.mailbox.find({ tenantId: box.tenantId, userId: box.userId, folder }).lean<MailboxEntryRecord[]>() : [];
    const rows = new Map<string, IndexRow>();
    for (const e of entries) if (!rows.has(messageIdOf(e._id))) rows.set(messageIdOf(e._id), rowOf(e, ''));
    for (const r of fresh) rows.set(r.m, r);
    return writeAll(key, box.tenantId, [...rows.values()], null);
  }

  async function head(box: Mailbox, folder: Folder): Promise<HeadRecord> {
    const key = base(box, folder);
    const found = await readHead(key);
    if (found) return found;
    // An empty mailbox of a marked tenant: nothing to write until its first message.
    if (await isMarked(box.tenantId)) return { _id: `${key}:head`, tenantId: box.tenantId, chunks: [] };
    return serial(key, async () => (await readHead(key)) ?? build(box, folder, [], true));
  }

  // Read each time (one _id read per routed batch): a database restored from before the index is unmarked again.
  const marking = new Map<string, Promise<void>>();
  const isMarked = async (tenantId: string) => Boolean(await models.state.findById(tenantId, { _id: 1 }).lean());
  const mark = (tenantId: string) => insertIgnoringDuplicates(models.state, [{ _id: tenantId, at: new Date() }]);
  /** Before a tenant's first index write: one whole-tenant reindex, then the mark (once per tenant, single-flight here). */
  async function ready(tenantId: string): Promise<void> {
    if (await isMarked(tenantId)) return;
    let pending = marking.get(tenantId);
    if (!pending) {
      pending = reindexTenant(tenantId).finally(() => marking.delete(tenantId));
      marking.set(tenantId, pending);
    }
    await pending;
  }

  /** The rows of every chunk a head lists; null when one was dropped meanwhile (read the head again). */
  async function allRows(h: HeadRecord): Promise<IndexRow[][] | null> {
    const chunks = await Promise.all(h.chunks.map((s) => rowsOf(s.id)));
    return chunks.every((c) => c !== null) ? (chunks as IndexRow[][]) : null;
  }

  /** Adds rows after the newest ones: into the tail chunk, merging a run of full tails into one chunk. */
  async function append(key: string, tenantId: string, h: HeadRecord, rows: IndexRow[]): Promise<void> {
    const spans = [...h.chunks];
    // Idempotent: routing again after a crash adds rows the last chunks already hold.
    const known = new Set<string>();
    for (const s of spans.slice(-2)) for (const r of (await rowsOf(s.id)) ?? []) known.add(r.m);
    const added = rows.filter((r) => !known.has(r.m) && known.add(r.m));
    if (!added.length) return;
    const dropped: string[] = [];
    const last = spans[spans.length - 1];
    let pending = added;
    if (last && last.count < TAIL_ROWS) {
      pending = [...((await rowsOf(last.id)) ?? []), ...added];
      dropped.push(spans.pop()!.id);
    }
    pending.sort((a, b) => -newer(a, b));
    for (let i = 0; i < pending.length; i += TAIL_ROWS) spans.push(await writeChunk(key, tenantId, pending.slice(i, i + TAIL_ROWS)));
    // Full tails at the end that together make a merged chunk become one.
    let run = 0;
    while (run < spans.length && spans[spans.length - 1 - run]!.count <= TAIL_ROWS) run++;
    const tails = spans.slice(spans.length - run).filter((s) => s.count === TAIL_ROWS);
    if (tails.length * TAIL_ROWS >= CHUNK_ROWS && tails.length === run) {
      const merged: IndexRow[] = [];
      for (const s of tails) merged.push(...((await rowsOf(s.id)) ?? []));
      merged.sort((a, b) => -newer(a, b));
      spans.splice(spans.length - run, run, await writeChunk(key, tenantId, merged));
      dropped.push(...tails.map((s) => s.id));
    }
    await switchHead(key, tenantId, spans, dropped);
  }

  /**
   * Makes every index of a tenant equal to its mailbox entries (one scan of them), keeping the body
   * text already indexed, and drops chunks no head lists: after the sweeper removed entries, to repair,
   * or before the tenant's first index write. Then the tenant is marked indexed.
   */
  async function reindexTenant(tenantId: string): Promise<void> {
    const shards = models.all();
    const stored = (await Promise.all(shards.map((s) => s.chunks.find({ tenantId }, { _id: 1, w: 1 }).lean<Array<{ _id: string; w?: number }>>()))).flat();
    const entries = await deps.mailbox.find({ tenantId }).lean<MailboxEntryRecord[]>();
    const byKey = new Map<string, MailboxEntryRecord[]>();
    for (const e of entries) {
      const key = `${e.tenantId}:${e.userId}:${e.folder}`;
      byKey.set(key, [...(byKey.get(key) ?? []), e]);
    }
    const heads = (await Promise.all(shards.map((s) => s.heads.find({ tenantId }, { _id: 1 }).lean<Array<{ _id: string }>>()))).flat();
    for (const h of heads) if (!byKey.has(keyOfId(h._id))) byKey.set(keyOfId(h._id), []);
    const listed = new Set<string>();
    for (const [key, list] of byKey) {
      await serial(key, async () => {
        const old = await models.heads(key).findById(`${key}:head`).lean<HeadRecord>();
        const known = new Map<string, string>();
        const chunks = current(old) ? await allRows(old!) : null;
        for (const rows of chunks ?? []) for (const r of rows) known.set(r.m, r.text);
        const rows = list.map((e) => {
          const row = rowOf(e, '');
          return { ...row, text: known.get(row.m) ?? row.text };
        });
        const written = await writeAll(key, tenantId, rows, current(old));
        for (const s of written.chunks) listed.add(s.id);
      });
    }
    // Chunks of an interrupted write, or numbered ones from before chunks were immutable.
    const orphans = stored.filter((c) => !listed.has(c._id) && (c.w ?? 0) < Date.now() - ORPHAN_GRACE_MS).map((c) => c._id);
    dropLater(orphans);
    await dropUnlisted();
    await mark(tenantId);
  }

  /**
   * Takes entries the retention sweep deleted out of their folders' index: only the chunks that held one are
   * written anew (the rest keep their ids and stay cached), and no mailbox entries are read. A folder whose
   * head lists a chunk no longer stored is left to the next whole-tenant reindex.
   */
  async function remove(entries: Array<Pick<MailboxEntryRecord, '_id' | 'tenantId' | 'userId' | 'folder'>>): Promise<void> {
    const gone = new Map<string, Set<string>>();
    for (const e of entries) {
      const key = `${e.tenantId}:${e.userId}:${e.folder}`;
      gone.set(key, (gone.get(key) ?? new Set()).add(messageIdOf(e._id)));
    }
    for (const [key, ids] of gone) {
      await serial(key, async () => {
        for (let attempt = 0; attempt < 3; attempt++) {
          const h = await readHead(key);
          if (!h) return;
          const rows = await allRows(h);
          if (!rows) continue; // a writer elsewhere switched the head meanwhile: read it again
          const spans: ChunkSpan[] = [];
          const dropped: string[] = [];
          for (const [i, span] of h.chunks.entries()) {
            const kept = rows[i]!.filter((r) => !ids.has(r.m));
            if (kept.length === rows[i]!.length) spans.push(span);
            else {
              dropped.push(span.id);
              if (kept.length) spans.push(await writeChunk(key, h.tenantId, kept));
            }
          }
          if (dropped.length) await switchHead(key, h.tenantId, spans, dropped);
          return;
        }
      });
    }
  }

  return {
    models,

    /** Adds freshly routed mailbox entries (idempotent: a row already among the newest is not added twice). */
    async add(entries: Array<{ entry: MailboxEntryRecord; body: string }>): Promise<void> {
      const groups = new Map<string, { box: Mailbox; folder: Folder; rows: IndexRow[] }>();
      for (const { entry, body } of entries) {
        const key = `${entry.tenantId}:${entry.userId}:${entry.folder}`;
        const g = groups.get(key) ?? { box: { tenantId: entry.tenantId, userId: entry.userId }, folder: entry.folder, rows: [] };
        g.rows.push(rowOf(entry, body));
        groups.set(key, g);
      }
      await Promise.all([...new Set(entries.map(({ entry }) => entry.tenantId))].map(ready));
      // Each mailbox's index on its own (serialised per mailbox, side by side across them): a batch's
      // placement waits for the slowest mailbox, not for the sum of them.
      await Promise.all(
        [...groups].map(([key, g]) =>
          serial(key, async () => {
            const found = await readHead(key);
            // First mail for this mailbox: its tenant's older mail is indexed already (ready), so its rows alone.
            if (!found) await build(g.box, g.folder, g.rows, false);
            else await append(key, g.box.tenantId, found, g.rows);
          }),
        ),
      );
    },

    /** Newest first, `limit` rows after the cursor position; `since`: only rows received from then on. */
    async page(box: Mailbox, folder: Folder, options: { after?: { at: number; m: string }; since?: number; limit: number }) {
      for (let attempt = 0; ; attempt++) {
        const h = await head(box, folder);
        const out: IndexRow[] = [];
        let dropped = false;
        // Newest chunk first; an older chunk is read only while it can hold rows newer than the page's last one.
        for (const span of [...h.chunks].sort((a, b) => b.maxAt - a.maxAt)) {
          if (options.since !== undefined && span.maxAt < options.since) break;
          if (out.length > options.limit && span.maxAt < out[options.limit]!.at) break;
          const rows = await rowsOf(span.id);
          if (!rows) {
            dropped = true;
            break;
          }
          for (const r of rows) if ((options.since === undefined || r.at >= options.since) && (!options.after || before(r, options.after))) out.push(r);
          out.sort(newer);
        }
        // A writer switched the head while this read it: read the new one (at most twice more).
        if (!dropped || attempt >= 2) return out.slice(0, options.limit + 1);
      }
    },

    /** Rows of both folders whose text holds every term, newest first. Reads only this user's chunks. */
    async search(box: Mailbox, terms: string[], options: { after?: { at: number; m: string }; limit: number }) {
      const found: Array<IndexRow & { folder: Folder }> = [];
      await Promise.all(
        (['inbox', 'sent'] as const).map(async (folder) => {
          let chunks: IndexRow[][] | null = null;
          for (let attempt = 0; !chunks && attempt < 3; attempt++) chunks = await allRows(await head(box, folder));
          for (const rows of chunks ?? [])
            for (const r of rows) if (terms.every((t) => r.text.includes(t)) && (!options.after || before(r, options.after))) found.push({ ...r, folder });
        }),
      );
      found.sort(newer);
      return found.slice(0, options.limit + 1);
    },

    reindexTenant,
    remove,
    /** Deletes now the chunks no head lists (a clean stop; tests). */
    dropUnlisted,
  };
}

export type MailboxIndex = ReturnType<typeof createMailboxIndex>;
