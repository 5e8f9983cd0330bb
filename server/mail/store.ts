/**
 * Raw MIME plus the message document. A message up to INLINE_BYTES is one document (raw inline);
 * a larger one is an upload marker, then its chunks, then the message document (the commit point).
 * Only inserts and look-ups by _id are used on the hot path: on FerretDB v1 (SQLite) updates and
 * deletes scan the collection even when filtered by _id, inserts and findById do not.
 */
import type { Logger } from 'pino';
import { insertIgnoringDuplicates } from '../db/claims';
import type { Marker, RoutingJournal } from './journal';
import type { Spool, SpoolTicket } from './spool';
import { CHUNK_BYTES, INLINE_BYTES, type MailChunkRecord, type MailMessageRecord, type MailModels, type StoredRecipient } from './model';

export interface NewMessage {
  tenantId: string;
  messageId: string;
  direction: 'inbound' | 'outbound';
  mailFrom: string;
  recipients: StoredRecipient[];
  raw: Buffer;
  remoteAddress?: string | null;
  helo?: string | null;
  userId?: string | null;
  receivedAt: Date;
}

export class MissingContentError extends Error {}

export const messageKey = (tenantId: string, messageId: string) => `${tenantId}:${messageId}`;

interface Prepared {
  chunks: MailChunkRecord[];
  record: MailMessageRecord;
  marker: Marker;
}

function prepare(m: NewMessage): Prepared {
  const key = messageKey(m.tenantId, m.messageId);
  const inline = m.raw.length <= INLINE_BYTES;
  const count = inline ? 0 : Math.ceil(m.raw.length / CHUNK_BYTES);
  const chunks: MailChunkRecord[] = [];
  for (let n = 0; n < count; n++) {
    chunks.push({
      _id: `${key}:${n}`,
      tenantId: m.tenantId,
      messageKey: key,
      n,
      data: m.raw.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES),
      createdAt: m.receivedAt,
    });
  }
  const record: MailMessageRecord = {
    _id: key,
    tenantId: m.tenantId,
    messageId: m.messageId,
    direction: m.direction,
    receivedAt: m.receivedAt,
    mailFrom: m.mailFrom,
    recipients: m.recipients,
    size: m.raw.length,
    chunks: count,
    raw: inline ? m.raw.toString('latin1') : null,
    remoteAddress: m.remoteAddress ?? null,
    ...(m.helo ? { helo: m.helo } : {}),
    userId: m.userId ?? null,
  };
  return { chunks, record, marker: { _id: key, tenantId: m.tenantId, receivedAt: m.receivedAt } };
}

/** Large messages: the upload marker, then the chunks (≤ 2 per insert: 8 MB), before the message document. */
async function writeChunks(models: MailModels, p: Prepared): Promise<void> {
  if (!p.chunks.length) return;
  await insertIgnoringDuplicates(models.uploads, [{ _id: p.record._id, tenantId: p.record.tenantId, chunks: p.chunks.length, createdAt: p.record.receivedAt }]);
  for (let i = 0; i < p.chunks.length; i += 2) await insertIgnoringDuplicates(models.chunks, p.chunks.slice(i, i + 2));
}

/**
 * Stores a message durably. When this resolves, the raw MIME and its metadata (and, with a journal,
 * its "to be routed" marker) are in the database; only then may the receiver answer 250. Re-running
 * it with the same id is harmless. On failure its journal entry is given up (it was never accepted).
 */
export async function storeMessage(models: MailModels, m: NewMessage, journal?: RoutingJournal): Promise<string> {
  const p = prepare(m);
  try {
    await writeChunks(models, p);
    await Promise.all([insertIgnoringDuplicates(models.messages, [p.record]), journal?.write([p.marker])]);
  } catch (err) {
    journal?.done([p.record._id]);
    throw err;
  }
  return p.record._id;
}

export interface StoredMessage {
  key: string;
  record: MailMessageRecord;
  raw: Buffer;
  /** Stored as its journal entry only: routing copies the record to the messages collection. */
  inJournalOnly: boolean;
  /** Resolves once the database has it (at once without a spool): routing may start then. */
  persisted: Promise<void>;
}

/** Messages accepted through the spool and not yet in the database, in bytes, beyond which new ones wait (451). */
const SPOOL_BACKLOG_BYTES = 64 * 1024 * 1024;
/**
 * While the receiver is busy, spooled batches wait up to this long to be written to the database
 * together (measured: at 5 connections the receive rate rose by about a tenth).
 */
const PERSIST_PATIENCE_MS = 50;
/** A failed background write to the database is tried again after this long (the spool keeps the messages). */
const PERSIST_RETRY_MS = 1000;

/**
 * Group commit for the receiver: messages arriving while a batch is being written are written
 * together as the next batch, and each caller is answered only when its batch is durable. With a
 * spool (spool.ts) that is one append + fdatasync to the local spool file, and the batch goes to the
 * routing journal in the database in the background (batches in order, retried until written);
 * without one it is one insertMany into the journal (one SQLite transaction). Routing copies the
 * records to the messages collection later. Large (chunked) messages are stored on their own.
 */
export function createBatchedStore(
  models: MailModels,
  journal: RoutingJournal,
  options: { maxBatch?: number; maxInFlight?: number; spool?: () => Spool | null; logger?: Logger } = {},
) {
  const maxBatch = options.maxBatch ?? 100;
  const maxInFlight = options.maxInFlight ?? 1;
  type Pending = Prepared & { raw: Buffer; resolve: (s: StoredMessage) => void; reject: (err: unknown) => void };
  const queue: Pending[] = [];
  let writing = 0;
  let timer: NodeJS.Immediate | null = null;
  let unpersistedBytes = 0;
  let unpersisted = 0;
  // Spooled batches waiting for the database, written in order; whatever waits when a write ends goes
  // in the next one (up to maxBatch messages), so a burst costs few inserts.
  const waiting: { spool: Spool; ticket: SpoolTicket; records: MailMessageRecord[]; done: () => void }[] = [];
  let persistRunning = false;
  /** Settles when the running persist loop has emptied `waiting`. */
  let persisted: Promise<void> = Promise.resolve();

  /** The journal write of a spooled batch, after the ones before it, retried until it succeeds. */
  function persistLater(spool: Spool, ticket: SpoolTicket, records: MailMessageRecord[]): Promise<void> {
    unpersistedBytes += records.reduce((n, r) => n + r.size, 0);
    unpersisted += records.length;
    return new Promise<void>((done) => {
      waiting.push({ spool, ticket, records, done });
      void persistWaiting();
    });
  }

  async function persistWaiting(): Promise<void> {
    if (persistRunning) return;
    persistRunning = true;
    let finished = () => {};
    persisted = new Promise<void>((resolve) => (finished = resolve));
    while (waiting.length) {
      // While the receiver is busy, a little patience makes fewer, larger inserts (at most PERSIST_PATIENCE_MS).
      const since = Date.now();
      while ((writing > 0 || queue.length > 0) && waiting.reduce((n, g) => n + g.records.length, 0) < maxBatch && Date.now() - since < PERSIST_PATIENCE_MS) {
        await new Promise((r) => setTimeout(r, 2));
      }
      const group = [waiting.shift()!];
      while (waiting.length && group.reduce((n, g) => n + g.records.length, 0) + waiting[0]!.records.length <= maxBatch) group.push(waiting.shift()!);
      const records = group.flatMap((g) => g.records);
      for (;;) {
        try {
          await journal.write(records);
          break;
        } catch (err) {
          options.logger?.warn({ err, messages: records.length }, 'writing spooled messages to the database failed; retrying (they are safe in the spool)');
          await new Promise((r) => setTimeout(r, PERSIST_RETRY_MS));
        }
      }
      for (const g of group) {
        unpersistedBytes -= g.records.reduce((n, r) => n + r.size, 0);
        unpersisted -= g.records.length;
        g.spool.settled(g.ticket, g.records.length);
        g.done();
      }
    }
    persistRunning = false;
    finished();
  }

  /** Resolves when the batch is durable; `persisted` when it is in the database (wrapped: a promise resolving to a promise would wait for both). */
  async function write(batch: { record: MailMessageRecord; raw: Buffer }[]): Promise<{ persisted: Promise<void> }> {
    const records = batch.map((p) => p.record);
    const spool = options.spool?.() ?? null;
    if (spool && unpersistedBytes < SPOOL_BACKLOG_BYTES) {
      const ticket = await spool.append(batch).catch((err: unknown) => {
        options.logger?.error({ err }, 'appending to the mail spool failed; storing straight to the database');
        return null;
      });
      if (ticket) return { persisted: persistLater(spool, ticket, records) };
    }
    await journal.write(records);
    return { persisted: Promise.resolve() };
  }

  function flush(): void {
    if (timer) clearImmediate(timer);
    timer = null;
    if (!queue.length) return;
    const current = queue.splice(0, maxBatch);
    writing++;
    write(current)
      .then(
        ({ persisted }) => current.forEach((p) => p.resolve({ key: p.record._id, record: p.record, raw: p.raw, inJournalOnly: true, persisted })),
        (err) => {
          journal.done(current.map((p) => p.record._id));
          current.forEach((p) => p.reject(err));
        },
      )
      .finally(() => {
        writing--;
        // What arrived meanwhile is the next batch.
        if (queue.length) schedule();
      });
  }
  function schedule(): void {
    // One batch in flight; the next fills up meanwhile (SQLite writes one transaction at a time).
    if (writing >= maxInFlight || timer) return;
    // setImmediate, not setTimeout(0): the latter waits at least 1 ms, on every batch.
    timer = setImmediate(flush);
  }

  const store = (m: NewMessage): Promise<StoredMessage> => {
    const p = prepare(m);
    if (p.chunks.length)
      return storeMessage(models, m, journal).then((key) => ({ key, record: p.record, raw: m.raw, inJournalOnly: false, persisted: Promise.resolve() }));
    return new Promise<StoredMessage>((resolve, reject) => {
      queue.push({ ...p, raw: m.raw, resolve, reject });
      schedule();
    });
  };
  /** True while a batch is being written or waits to be. */
  store.busy = () => writing > 0 || queue.length > 0;
  /** Resolves once every spooled batch accepted so far is in the database. */
  store.drained = () => persisted;
  /** Messages accepted through the spool and not yet in the database. */
  store.unpersisted = () => unpersisted;
  return store;
}

const asBuffer = (data: unknown): Buffer => {
  if (typeof data === 'string') return Buffer.from(data, 'latin1');
  const d = data as Buffer | { buffer: Uint8Array };
  return Buffer.isBuffer(d) ? d : Buffer.from(d.buffer);
};

export async function readRaw(models: MailModels, message: Pick<MailMessageRecord, '_id' | 'chunks'> & { raw?: unknown }): Promise<Buffer> {
  if (message.chunks === 0) {
    const raw = message.raw ?? (await models.messages.findById(message._id, { raw: 1 }).lean())?.raw;
    if (raw === null || raw === undefined) throw new MissingContentError(`message ${message._id} has no stored content`);
    return asBuffer(raw);
  }
  const parts: Buffer[] = [];
  for (let n = 0; n < message.chunks; n++) {
    const chunk = await models.chunks.findById(`${message._id}:${n}`).lean();
    if (!chunk) throw new MissingContentError(`chunk ${n} of message ${message._id} is missing`);
    parts.push(asBuffer(chunk.data));
  }
  return Buffer.concat(parts);
}
