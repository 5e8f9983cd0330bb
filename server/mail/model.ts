/**
 * Mail continuity storage. Every hot document has a meaningful string _id (FerretDB only uses an
 * index for a filter that is exactly {_id}); every write is idempotent so a crash half-way is healed
 * by running the same step again.
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

/** Raw MIME is stored in chunks well under FerretDB's 16 MB document limit. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
/**
 * Up to this size the raw MIME is kept inside the message document: one document per message, one
 * write before the 250. Larger messages go to chunks (written first, the message document last).
 * Recovery does not scan the messages collection (it reads the routing journal, journal.ts), so
 * large message documents cost little elsewhere.
 */
export const INLINE_BYTES = 256 * 1024;

export type RecipientKind = 'user' | 'group';

export interface StoredRecipient {
  address: string;
  kind: RecipientKind;
  /** Directory id of the user or group. */
  id: string;
}

/** One message as received (inbound) or composed (outbound), keyed <tenant>:<messageId>. */
export interface MailMessageRecord {
  _id: string;
  tenantId: string;
  messageId: string;
  direction: 'inbound' | 'outbound';
  receivedAt: Date;
  /** Envelope sender ('' = the null sender <>). */
  mailFrom: string;
  recipients: StoredRecipient[];
  size: number;
  /** Number of chunk documents; 0 = the raw MIME is inline in `raw`. */
  chunks: number;
  /**
   * Inline raw MIME as a latin1 string (byte for byte; FerretDB stores a string faster than binary),
   * or a Buffer in documents written before that.
   */
  raw: string | Buffer | null;
  remoteAddress: string | null;
  /** The client's HELO/EHLO name (inbound; sender authentication checks it). Absent in older documents. */
  helo?: string | null;
  /** For outbound: the user who sent it. */
  userId: string | null;
}

const messageSchema = new Schema<MailMessageRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    messageId: { type: String, required: true },
    direction: { type: String, enum: ['inbound', 'outbound'], required: true },
    receivedAt: { type: Date, required: true },
    mailFrom: { type: String, default: '' },
    recipients: [{ _id: false, address: String, kind: { type: String, enum: ['user', 'group'] }, id: String }],
    size: { type: Number, required: true },
    chunks: { type: Number, required: true },
    raw: { type: Schema.Types.Mixed, default: null },
    remoteAddress: { type: String, default: null },
    helo: { type: String, default: null },
    userId: { type: String, default: null },
  },
  { versionKey: false },
);

/** Chunk n of a message's raw MIME: _id <tenant>:<messageId>:<n>. */
export interface MailChunkRecord {
  _id: string;
  tenantId: string;
  messageKey: string;
  n: number;
  data: Buffer;
  createdAt: Date;
}
const chunkSchema = new Schema<MailChunkRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    messageKey: { type: String, required: true },
    n: { type: Number, required: true },
    data: { type: Buffer, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/**
 * A chunked (large) message being written: inserted before its chunks, so chunks whose message
 * document never committed (a crash; no 250 was given) are found and removed by the sweeper after a
 * grace period without scanning the chunks. _id = the message key.
 */
export interface UploadRecord {
  _id: string;
  tenantId: string;
  chunks: number;
  createdAt: Date;
}
const uploadSchema = new Schema<UploadRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    chunks: { type: Number, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/** What protection decided for one mailbox copy (see protect.ts): shown with the message. */
export interface MailSecurity {
  /** null: the recipient's policy is Disabled (not judged). */
  verdict: string | null;
  /** deliver, tag (flagged copy), or deliver after a quarantine release. */
  action: string;
  policyId: string | null;
  auth: { spf: string; dkim: string; dmarc: string; arc: string } | null;
  score: number | null;
  reasons: string[];
  /** Set on a copy released from the quarantine: who released it. */
  releasedBy?: string;
}

export interface MailboxEntryRecord {
  /** <tenant>:<userId>:<folder>:<messageId> */
  _id: string;
  tenantId: string;
  userId: string;
  folder: 'inbox' | 'sent';
  messageKey: string;
  receivedAt: Date;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  date: Date | null;
  preview: string;
  hasAttachments: boolean;
  viaGroup: string | null;
  /** Outbound: the queue keys of each recipient (for delivery status). */
  deliveryKeys: string[];
  /** Inbound: protection's verdict and action for this copy (null when not judged, e.g. sent mail). */
  security?: MailSecurity | null;
}
const mailboxSchema = new Schema<MailboxEntryRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    userId: { type: String, required: true },
    folder: { type: String, enum: ['inbox', 'sent'], required: true },
    messageKey: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    from: { type: String, default: '' },
    to: { type: [String], default: [] },
    cc: { type: [String], default: [] },
    subject: { type: String, default: '' },
    date: { type: Date, default: null },
    preview: { type: String, default: '' },
    hasAttachments: { type: Boolean, default: false },
    viaGroup: { type: String, default: null },
    deliveryKeys: { type: [String], default: [] },
    security: { type: Schema.Types.Mixed, default: null },
  },
  { versionKey: false, minimize: false },
);

export interface AttemptRecord {
  at: Date;
  host: string | null;
  /** The SMTP reply (or the connection error). */
  reply: string;
  outcome: 'delivered' | 'deferred' | 'rejected';
}

export type DeliveryKind = 'inbound' | 'outbound' | 'bounce';

/**
 * One recipient's onward delivery: _id <tenant>:<messageId>:<recipient>. The queue collection only
 * holds work still to do (queued); held rows live in their own collection, finished rows in results,
 * so the worker's scan stays small.
 */
export interface DeliveryRecord {
  _id: string;
  tenantId: string;
  messageKey: string;
  kind: DeliveryKind;
  mailFrom: string;
  recipient: string;
  /** Directory id of the recipient (inbound), for re-checking holds. */
  recipientId: string | null;
  queuedAt: Date;
  nextAttemptAt: Date;
  attempts: AttemptRecord[];
  /** The admin who released this one held message early: pausing events no longer hold it. */
  releasedBy?: string | null;
}
const attemptSchema = new Schema<AttemptRecord>(
  { at: Date, host: String, reply: String, outcome: { type: String, enum: ['delivered', 'deferred', 'rejected'] } },
  { _id: false },
);
const deliverySchema = new Schema<DeliveryRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    messageKey: { type: String, required: true },
    kind: { type: String, enum: ['inbound', 'outbound', 'bounce'], required: true },
    mailFrom: { type: String, default: '' },
    recipient: { type: String, required: true },
    recipientId: { type: String, default: null },
    queuedAt: { type: Date, required: true },
    nextAttemptAt: { type: Date, required: true },
    attempts: { type: [attemptSchema], default: [] },
    releasedBy: { type: String, default: null },
  },
  { versionKey: false },
);

export interface HeldRecord extends Omit<DeliveryRecord, 'nextAttemptAt' | 'attempts' | 'releasedBy'> {
  heldAt: Date;
  /** The pausing events that held it. */
  eventIds: string[];
}
const heldSchema = new Schema<HeldRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    messageKey: { type: String, required: true },
    kind: { type: String, required: true },
    mailFrom: { type: String, default: '' },
    recipient: { type: String, required: true },
    recipientId: { type: String, default: null },
    queuedAt: { type: Date, required: true },
    heldAt: { type: Date, required: true },
    eventIds: { type: [String], default: [] },
  },
  { versionKey: false },
);

export type DeliveryState = 'delivered' | 'failed';
export interface DeliveryResultRecord {
  _id: string;
  tenantId: string;
  messageKey: string;
  kind: DeliveryKind;
  recipient: string;
  state: DeliveryState;
  finishedAt: Date;
  attempts: AttemptRecord[];
}
const resultSchema = new Schema<DeliveryResultRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    messageKey: { type: String, required: true },
    kind: { type: String, required: true },
    recipient: { type: String, required: true },
    state: { type: String, enum: ['delivered', 'failed'], required: true },
    finishedAt: { type: Date, required: true },
    attempts: { type: [attemptSchema], default: [] },
  },
  { versionKey: false },
);

/** A worker's claim on one delivery row: inserted under the unique _id (= the row's _id). */
export interface LeaseRecord {
  _id: string;
  owner: string;
  expiresAt: Date;
}
const leaseSchema = new Schema<LeaseRecord>(
  { _id: { type: String, required: true }, owner: { type: String, required: true }, expiresAt: { type: Date, required: true } },
  { versionKey: false },
);

export interface ServerAddress {
  host: string;
  port: number;
}
export interface MailSettingsRecord {
  _id: string; // tenant id
  primaryServers: ServerAddress[];
  relay: ServerAddress | null;
  retentionDays: number;
  /** TLS certificates of the primary servers and relay are verified (default); false: an audited opt-out for internal relays. */
  verifyTls?: boolean;
  updatedAt: Date;
}
const addressSchema = new Schema<ServerAddress>({ host: String, port: Number }, { _id: false });
const settingsSchema = new Schema<MailSettingsRecord>(
  {
    _id: { type: String, required: true },
    primaryServers: { type: [addressSchema], default: [] },
    relay: { type: addressSchema, default: null },
    retentionDays: { type: Number, default: 5 },
    verifyTls: { type: Boolean, default: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/** Progress of releasing a tenant's held mail: _id = tenant id. */
export interface ReleaseRecord {
  _id: string;
  state: 'running' | 'done';
  startedAt: Date;
  finishedAt: Date | null;
  total: number;
  released: number;
  stillHeld: number;
}
const releaseSchema = new Schema<ReleaseRecord>(
  {
    _id: { type: String, required: true },
    state: { type: String, enum: ['running', 'done'], required: true },
    startedAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
    total: { type: Number, default: 0 },
    released: { type: Number, default: 0 },
    stillHeld: { type: Number, default: 0 },
  },
  { versionKey: false },
);

/**
 * A held row that was released (_id = the held row's _id): which pausing events held it and when,
 * so a post-incident report can say how much mail an event held and how much of it went on.
 */
export interface ReleasedHeldRecord {
  _id: string;
  tenantId: string;
  eventIds: string[];
  heldAt: Date;
  releasedAt: Date;
}
const releasedHeldSchema = new Schema<ReleasedHeldRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    eventIds: { type: [String], default: [] },
    heldAt: { type: Date, required: true },
    releasedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/** An idempotency key of POST /api/me/messages: _id <tenant>:<user>:<key> → the message it sent. */
export interface SendKeyRecord {
  _id: string;
  messageId: string;
  createdAt: Date;
}
const sendKeySchema = new Schema<SendKeyRecord>(
  { _id: { type: String, required: true }, messageId: { type: String, required: true }, createdAt: { type: Date, required: true } },
  { versionKey: false },
);

/**
 * An inbound message some of whose recipients wait for the scanner (a Protect policy's "hold" while an
 * engine is down): _id = the message key. Judged again every SCAN_HOLD_RETRY_MS until the engines
 * answer or `until` passes (then delivered tagged `unscanned`); removed once those recipients are placed.
 */
export interface ScanHoldRecord {
  _id: string;
  tenantId: string;
  recipients: string[];
  until: Date;
  nextAt: Date;
}
const scanHoldSchema = new Schema<ScanHoldRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    recipients: { type: [String], default: [] },
    until: { type: Date, required: true },
    nextAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/** A quarantine release placed by the mail side: _id = the release id, claimed by insert (placed at most once). */
export interface ReleasedCopyRecord {
  _id: string;
  tenantId: string;
  messageKey: string;
  recipient: string;
  state: 'placing' | 'placed';
  at: Date;
}
const releasedCopySchema = new Schema<ReleasedCopyRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    messageKey: { type: String, required: true },
    recipient: { type: String, required: true },
    state: { type: String, enum: ['placing', 'placed'], required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

export function mailModels(conn: Connection) {
  return {
    messages: defineModel(conn, 'MailMessage', messageSchema),
    chunks: defineModel(conn, 'MailChunk', chunkSchema),
    uploads: defineModel(conn, 'MailUpload', uploadSchema),
    mailbox: defineModel(conn, 'MailboxEntry', mailboxSchema),
    queue: defineModel(conn, 'MailDelivery', deliverySchema),
    held: defineModel(conn, 'MailHeld', heldSchema),
    results: defineModel(conn, 'MailDeliveryResult', resultSchema),
    leases: defineModel(conn, 'MailLease', leaseSchema),
    settings: defineModel(conn, 'MailSettings', settingsSchema),
    releases: defineModel(conn, 'MailRelease', releaseSchema),
    sendKeys: defineModel(conn, 'MailSendKey', sendKeySchema),
    releasedHeld: defineModel(conn, 'MailReleasedHeld', releasedHeldSchema),
    scanHolds: defineModel(conn, 'MailScanHold', scanHoldSchema),
    releasedCopies: defineModel(conn, 'MailReleasedCopy', releasedCopySchema),
  };
}
export type MailModels = ReturnType<typeof mailModels>;
