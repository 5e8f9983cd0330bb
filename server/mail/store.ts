/** Raw MIME in chunks plus the message document; the message document is written last (the commit point). */
import { CHUNK_BYTES, INLINE_BYTES, isDuplicateKey, type MailChunkRecord, type MailMessageRecord, type MailModels, type StoredRecipient } from './model';

export interface NewMessage {
  tenantId: string;
  messageId: string;
  direction: 'inbound' | 'outbound';
  mailFrom: string;
  recipients: StoredRecipient[];
  raw: Buffer;
  remoteAddress?: string | null;
  userId?: string | null;
  receivedAt: Date;
}

export class MissingContentError extends Error {}

export const messageKey = (tenantId: string, messageId: string) => `${tenantId}:${messageId}`;

function prepare(m: NewMessage): { chunks: MailChunkRecord[]; record: MailMessageRecord } {
  const key = messageKey(m.tenantId, m.messageId);
  const inline = m.raw.length <= INLINE_BYTES;
  const count = inline ? 0 : Math.ceil(m.raw.length / CHUNK_BYTES);
  const chunks: MailChunkRecord[] = [];
  for (let n = 0; n < count; n++) {
    chunks.push({ _id: `${key}:${n}`, tenantId: m.tenantId, messageKey: key, n, data: m.raw.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES), createdAt: m.receivedAt });
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
    raw: inline ? m.raw : null,
    routed: false,
    remoteAddress: m.remoteAddress ?? null,
    userId: m.userId ?? null,
  };
  return { chunks, record };
}

/** Inserts documents whose _ids may already be there (a re-run): those duplicates are fine. */
async function insertAll<T>(model: { insertMany: (docs: T[], o: object) => Promise<unknown> }, docs: T[]): Promise<void> {
  if (!docs.length) return;
  try {
    await model.insertMany(docs, { ordered: false });
  } catch (err) {
    const writeErrors = (err as { writeErrors?: { code?: number; err?: { code?: number } }[] }).writeErrors;
    if (writeErrors?.length && writeErrors.every((e) => (e.code ?? e.err?.code) === 11000)) return;
    if (!writeErrors && isDuplicateKey(err)) return;
    throw err;
  }
}

/**
 * Stores a message durably. When this resolves, the raw MIME and its metadata are in the database;
 * only then may the receiver answer 250. Re-running it with the same id is harmless.
 * Chunks and the message document are written at once (half the wait before the 250). A crash
 * between them leaves an unrouted message without its content, which was never answered 250:
 * routing discards it (MissingContentError).
 */
export async function storeMessage(models: MailModels, m: NewMessage): Promise<string> {
  const { chunks, record } = prepare(m);
  await Promise.all([insertAll(models.chunks, chunks), insertAll(models.messages, [record])]);
  return record._id;
}

/**
 * Group commit for the receiver: messages arriving within a few milliseconds of each other are
 * written together (one insertMany of chunks, one of message documents), and each caller is answered
 * only when its batch is written. Messages over 1 MB are stored on their own.
 */
export function createBatchedStore(models: MailModels, options: { maxWaitMs?: number; maxBatch?: number } = {}) {
  const maxWaitMs = options.maxWaitMs ?? 2;
  const maxBatch = options.maxBatch ?? 64;
  type Pending = ReturnType<typeof prepare> & { resolve: (key: string) => void; reject: (err: unknown) => void };
  let batch: Pending[] = [];
  let timer: NodeJS.Timeout | null = null;

  function flush(): void {
    const current = batch;
    batch = [];
    if (timer) clearTimeout(timer);
    timer = null;
    Promise.all([insertAll(models.chunks, current.flatMap((p) => p.chunks)), insertAll(models.messages, current.map((p) => p.record))]).then(
      () => current.forEach((p) => p.resolve(p.record._id)),
      (err) => current.forEach((p) => p.reject(err)),
    );
  }

  return (m: NewMessage): Promise<string> => {
    if (m.raw.length > 1024 * 1024) return storeMessage(models, m);
    return new Promise<string>((resolve, reject) => {
      batch.push({ ...prepare(m), resolve, reject });
      if (batch.length >= maxBatch) flush();
      else if (!timer) timer = setTimeout(flush, maxWaitMs);
    });
  };
}

const asBuffer = (data: unknown): Buffer => {
  const d = data as Buffer | { buffer: Uint8Array };
  return Buffer.isBuffer(d) ? d : Buffer.from(d.buffer);
};

export async function readRaw(models: MailModels, message: Pick<MailMessageRecord, '_id' | 'chunks'> & { raw?: unknown }): Promise<Buffer> {
  if (message.chunks === 0) {
    const raw = message.raw ?? (await models.messages.findById(message._id, { raw: 1 }).lean())?.raw;
    if (!raw) throw new MissingContentError(`message ${message._id} has no stored content`);
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
