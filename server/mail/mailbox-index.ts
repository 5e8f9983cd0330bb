/**
 * The continuity mailbox as each user reads it: per user and folder, the message summaries and their
 * search text in a few large documents keyed by `_id` (`<tenant>:<user>:<folder>:<n>`, up to
 * CHUNK_ROWS rows each) and a head document listing the chunks with their time span.
 *
 * Why: FerretDB v1 uses an index only for a filter that is exactly {_id}; anything else reads every
 * document of the collection. Measured on the embedded database with a 5,000-message mailbox, the
 * plain `find({tenantId, userId, folder}).sort().limit(51)` takes 0.9–3.5 s and 50 parallel look-ups
 * by _id 0.2–0.9 s. Here the first page is the head plus one or two chunks, and a search reads every
 * chunk of the user's two folders (twenty look-ups for 5,000 messages) and nobody else's. Rows are
 * stored as one JSON string per chunk: a 500-row chunk as sub-documents took 50–500 ms to read, as
 * a string 10–80 ms; deflated, a third of the bytes again.
 *
 * Writes are read-modify-write of one chunk, serialised per user and folder inside this process (a
 * single writer per mailbox; with several nodes two deliveries to one user at once can lose a row
 * here, never the message itself: `reindexTenant` restores it from the mailbox entries). A head
 * that is missing is built from the mailbox entries once (mail stored before this index existed).
 * This module owns only the index: the mailbox entries stay the record of what a user has.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ParsedMail } from 'mailparser';
import { Schema, type Connection } from 'mongoose';
import sanitizeHtml from 'sanitize-html';
import { defineModel } from '../db/connection';
import type { MailboxEntryRecord } from './model';

export const CHUNK_ROWS = 250;
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
  /**
   * The rows as one deflated JSON document: FerretDB converts every field of a nested object (measured
   * ~0.3 ms a row) and its cost grows with the bytes it moves; binary in one piece is the cheapest.
   */
  z: Buffer;
}
interface ChunkSpan {
  n: number;
  count: number;
  minAt: number;
  maxAt: number;
}
interface HeadRecord {
  _id: string;
  tenantId: string;
  chunks: ChunkSpan[];
}

// Rows and spans are plain sub-documents written whole (no per-field casting needed).
const chunkSchema = new Schema<ChunkRecord>(
  { _id: { type: String, required: true }, tenantId: { type: String, required: true }, z: { type: Buffer, required: true } },
  { versionKey: false },
);
const headSchema = new Schema<HeadRecord>(
  { _id: { type: String, required: true }, tenantId: { type: String, required: true }, chunks: { type: Schema.Types.Mixed, default: [] } },
  { versionKey: false },
);

export function mailboxIndexModels(conn: Connection) {
  return { chunks: defineModel(conn, 'MailboxIndexChunk', chunkSchema), heads: defineModel(conn, 'MailboxIndexHead', headSchema) };
}

/** The body as plain text (what search matches besides the headers). */
export function plainText(parsed: ParsedMail): string {
  const text = parsed.text ?? (parsed.html ? sanitizeHtml(parsed.html, { allowedTags: [], allowedAttributes: {} }) : '');
  return text.replace(/\s+/g, ' ').trim().slice(0, TEXT_CHARS);
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

export type Folder = 'inbox' | 'sent';
export interface Mailbox {
  tenantId: string;
  userId: string;
}

export function createMailboxIndex(conn: Connection, deps: { mailbox: { find: (filter: object) => { lean: <T>() => PromiseLike<T> } } }) {
  const models = mailboxIndexModels(conn);
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

  async function writeAll(key: string, tenantId: string, rows: IndexRow[]): Promise<void> {
    rows.sort((a, b) => -newer(a, b)); // oldest first: chunk 0 is the oldest
    const chunks: ChunkSpan[] = [];
    for (let i = 0, n = 0; i < rows.length; i += CHUNK_ROWS, n++) {
      const part = rows.slice(i, i + CHUNK_ROWS);
      await models.chunks.replaceOne({ _id: `${key}:${n}` }, { _id: `${key}:${n}`, tenantId, z: pack(part) }, { upsert: true });
      chunks.push({ n, count: part.length, minAt: part[0]!.at, maxAt: part[part.length - 1]!.at });
    }
    await models.heads.replaceOne({ _id: `${key}:head` }, { _id: `${key}:head`, tenantId, chunks }, { upsert: true });
  }

  /** Builds one folder's index from the mailbox entries (a scan: once per mailbox, or to repair). */
  async function build(box: Mailbox, folder: Folder): Promise<HeadRecord> {
    const key = base(box, folder);
    const entries = await deps.mailbox.find({ tenantId: box.tenantId, userId: box.userId, folder }).lean<MailboxEntryRecord[]>();
    const seen = new Set<string>();
    const rows = entries.map((e) => rowOf(e, '')).filter((r) => !seen.has(r.m) && seen.add(r.m));
    await writeAll(key, box.tenantId, rows);
    return (await models.heads.findById(`${key}:head`).lean<HeadRecord>())!;
  }

  async function head(box: Mailbox, folder: Folder): Promise<HeadRecord> {
    const key = base(box, folder);
    const found = await models.heads.findById(`${key}:head`).lean<HeadRecord>();
    return found ?? serial(key, async () => (await models.heads.findById(`${key}:head`).lean<HeadRecord>()) ?? build(box, folder));
  }

  const rowsOf = async (key: string, n: number): Promise<IndexRow[]> => {
    const chunk = await models.chunks.findById(`${key}:${n}`).lean<ChunkRecord>();
    return chunk ? unpack(chunk.z) : [];
  };

  return {
    models,

    /** Adds freshly routed mailbox entries (idempotent: a row already in the newest chunk is not added twice). */
    async add(entries: Array<{ entry: MailboxEntryRecord; body: string }>): Promise<void> {
      const groups = new Map<string, { box: Mailbox; folder: Folder; rows: IndexRow[] }>();
      for (const { entry, body } of entries) {
        const key = `${entry.tenantId}:${entry.userId}:${entry.folder}`;
        const g = groups.get(key) ?? { box: { tenantId: entry.tenantId, userId: entry.userId }, folder: entry.folder, rows: [] };
        g.rows.push(rowOf(entry, body));
        groups.set(key, g);
      }
      for (const [key, g] of groups) {
        await serial(key, async () => {
          const found = await models.heads.findById(`${key}:head`).lean<HeadRecord>();
          if (!found) {
            // First mail for this mailbox (or mail from before the index): build it, body text for the new rows included.
            const built = await build(g.box, g.folder);
            if (built.chunks.length) await this_addToLast(key, g.box.tenantId, built, g.rows, true);
            return;
          }
          await this_addToLast(key, g.box.tenantId, found, g.rows, false);
        });
      }
    },

    /** Newest first, `limit` rows after the cursor position; `since`: only rows received from then on. */
    async page(box: Mailbox, folder: Folder, options: { after?: { at: number; m: string }; since?: number; limit: number }) {
      const key = base(box, folder);
      const h = await head(box, folder);
      const out: IndexRow[] = [];
      // Newest chunk first; an older chunk is read only while it can hold rows newer than the page's last one.
      const spans = [...h.chunks].sort((a, b) => b.maxAt - a.maxAt);
      for (const span of spans) {
        if (options.since !== undefined && span.maxAt < options.since) break;
        if (out.length > options.limit && span.maxAt < out[options.limit]!.at) break;
        const rows = (await rowsOf(key, span.n)).filter(
          (r) => (options.since === undefined || r.at >= options.since) && (!options.after || before(r, options.after)),
        );
        out.push(...rows);
        out.sort(newer);
      }
      return out.slice(0, options.limit + 1);
    },

    /** Rows of both folders whose text holds every term, newest first. Reads only this user's chunks. */
    async search(box: Mailbox, terms: string[], options: { after?: { at: number; m: string }; limit: number }) {
      const found: Array<IndexRow & { folder: Folder }> = [];
      await Promise.all(
        (['inbox', 'sent'] as const).map(async (folder) => {
          const key = base(box, folder);
          const h = await head(box, folder);
          const chunks = await Promise.all(h.chunks.map((s) => rowsOf(key, s.n)));
          for (const rows of chunks)
            for (const r of rows) if (terms.every((t) => r.text.includes(t)) && (!options.after || before(r, options.after))) found.push({ ...r, folder });
        }),
      );
      found.sort(newer);
      return found.slice(0, options.limit + 1);
    },

    /**
     * Makes every index of a tenant equal to its mailbox entries (one scan of them), keeping the body
     * text already indexed: after the sweeper removed entries, or to repair an index.
     */
    async reindexTenant(tenantId: string): Promise<void> {
      const entries = await deps.mailbox.find({ tenantId }).lean<MailboxEntryRecord[]>();
      const byKey = new Map<string, MailboxEntryRecord[]>();
      for (const e of entries) {
        const key = `${e.tenantId}:${e.userId}:${e.folder}`;
        byKey.set(key, [...(byKey.get(key) ?? []), e]);
      }
      const heads = await models.heads.find({ tenantId }).lean<HeadRecord[]>();
      for (const h of heads) if (!byKey.has(h._id.slice(0, -':head'.length))) byKey.set(h._id.slice(0, -':head'.length), []);
      for (const [key, list] of byKey) {
        await serial(key, async () => {
          const current = await models.heads.findById(`${key}:head`).lean<HeadRecord>();
          const known = new Map<string, string>();
          for (const span of current?.chunks ?? []) for (const r of await rowsOf(key, span.n)) known.set(r.m, r.text);
          const rows = list.map((e) => {
            const row = rowOf(e, '');
            return { ...row, text: known.get(row.m) ?? row.text };
          });
          await writeAll(key, tenantId, rows);
          const kept = Math.ceil(rows.length / CHUNK_ROWS);
          for (let n = kept; n < (current?.chunks.length ?? 0); n++) await models.chunks.deleteOne({ _id: `${key}:${n}` });
        });
      }
    },

    /** Rebuilds one mailbox's index from its entries (repair). */
    async rebuild(box: Mailbox): Promise<void> {
      for (const folder of ['inbox', 'sent'] as const) await serial(base(box, folder), () => build(box, folder));
    },
  };

  async function this_addToLast(key: string, tenantId: string, h: HeadRecord, rows: IndexRow[], replaceKnown: boolean): Promise<void> {
    const spans = [...h.chunks];
    let last = spans[spans.length - 1];
    let lastRows = last ? await rowsOf(key, last.n) : [];
    for (const row of rows) {
      const i = lastRows.findIndex((r) => r.m === row.m);
      if (i >= 0) {
        if (replaceKnown) lastRows[i] = row; // the built row had no body text
        continue;
      }
      if (!last || lastRows.length >= CHUNK_ROWS) {
        if (last) await models.chunks.replaceOne({ _id: `${key}:${last.n}` }, { _id: `${key}:${last.n}`, tenantId, z: pack(lastRows) }, { upsert: true });
        last = { n: last ? last.n + 1 : 0, count: 0, minAt: row.at, maxAt: row.at };
        spans.push(last);
        lastRows = [];
      }
      lastRows.push(row);
    }
    if (!last) return;
    last.count = lastRows.length;
    last.minAt = Math.min(...lastRows.map((r) => r.at));
    last.maxAt = Math.max(...lastRows.map((r) => r.at));
    await models.chunks.replaceOne({ _id: `${key}:${last.n}` }, { _id: `${key}:${last.n}`, tenantId, z: pack(lastRows) }, { upsert: true });
    await models.heads.replaceOne({ _id: `${key}:head` }, { _id: `${key}:head`, tenantId, chunks: spans }, { upsert: true });
  }
}

export type MailboxIndex = ReturnType<typeof createMailboxIndex>;
