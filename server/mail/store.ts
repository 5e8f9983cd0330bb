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

/**
 * Stores a message durably. When this resolves, the raw MIME and its metadata are in the database;
 * only then may the receiver answer 250. Re-running it with the same id is harmless.
 */
export async function storeMessage(models: MailModels, m: NewMessage): Promise<string> {
  const key = messageKey(m.tenantId, m.messageId);
  const inline = m.raw.length <= INLINE_BYTES;
  const count = inline ? 0 : Math.ceil(m.raw.length / CHUNK_BYTES);
  const docs: MailChunkRecord[] = [];
  for (let n = 0; n < count; n++) {
    docs.push({ _id: `${key}:${n}`, tenantId: m.tenantId, messageKey: key, n, data: m.raw.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES), createdAt: m.receivedAt });
  }
  const writeChunks = async () => {
    if (!docs.length) return;
    try {
      await models.chunks.insertMany(docs, { ordered: true });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      for (const doc of docs) await models.chunks.replaceOne({ _id: doc._id }, doc, { upsert: true });
    }
  };
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
  const writeMessage = async () => {
    try {
      await models.messages.create(record);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  };
  // Both writes at once (half the latency before the 250). A crash between them leaves an unrouted
  // message without its content, which was never answered 250: routing discards it (MissingContentError).
  await Promise.all([writeChunks(), writeMessage()]);
  return key;
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
