/**
 * Notification records. Everything is keyed by a string `_id` where it is looked up by key (the
 * embedded database only uses an index for a filter on `_id` alone); claims are inserts under that
 * unique `_id` (docs/ARCHITECTURE.md, "Database rules": never racing findOneAndUpdate).
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

export const SMS_PROVIDERS = ['twilio', 'webhook'] as const;
export type SmsProvider = (typeof SMS_PROVIDERS)[number];
export const RESET_CHANNELS = ['never', 'email', 'sms'] as const;
export type ResetChannel = (typeof RESET_CHANNELS)[number];

/** One tenant's channels. Secrets are sealed (AES-GCM, bound to tenant and field) and never leave the service. */
export interface NotifySettingsRecord {
  _id: string; // tenantId
  email: {
    enabled: boolean;
    host: string;
    port: number;
    secure: boolean;
    user: string | null;
    passwordSealed: string | null;
    from: string;
  } | null;
  sms: {
    enabled: boolean;
    provider: SmsProvider;
    /** Twilio: API origin (https://api.twilio.com unless set), account SID, auth token, sender. */
    baseUrl: string | null;
    accountSid: string | null;
    authTokenSealed: string | null;
    from: string | null;
    /** Webhook: target URL and optional HMAC key. */
    url: string | null;
    signingSecretSealed: string | null;
    /** Shared secret an inbound (STOP) webhook may present instead of a provider signature. */
    inboundSecretSealed: string | null;
  } | null;
  /** Directory attribute that holds a user's SMS number: mobilePhone, businessPhones (first) or another. */
  phoneAttribute: string;
  /** Self-service cloud-password reset when no current event decides. */
  cloudPasswordReset: ResetChannel;
  updatedAt: Date;
  updatedBy: string | null;
}

const settingsSchema = new Schema<NotifySettingsRecord>(
  {
    _id: { type: String, required: true },
    email: { type: Schema.Types.Mixed, default: null },
    sms: { type: Schema.Types.Mixed, default: null },
    phoneAttribute: { type: String, default: 'mobilePhone' },
    cloudPasswordReset: { type: String, enum: RESET_CHANNELS, default: 'never' },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, default: null },
  },
  { versionKey: false },
);

export type Channel = 'email' | 'sms';
export type SendStatus = 'sent' | 'retrying' | 'failed';

/** One send attempt (every attempt is a row: the admins' send log). */
export interface SendLogRecord {
  _id: string;
  tenantId: string;
  /** All attempts of one send share it. */
  sendId: string;
  channel: Channel;
  provider: string;
  recipient: string;
  userId: string | null;
  purpose: string;
  idempotencyKey: string | null;
  attempt: number;
  status: SendStatus;
  /** What the provider answered (HTTP status and body excerpt, SMTP reply, or the network error). */
  providerReply: string;
  /** Delay before the next attempt when status is retrying. */
  retryInMs: number | null;
  at: Date;
}

const sendLogSchema = new Schema<SendLogRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    sendId: { type: String, required: true },
    channel: { type: String, enum: ['email', 'sms'], required: true },
    provider: { type: String, required: true },
    recipient: { type: String, required: true },
    userId: { type: String, default: null },
    purpose: { type: String, required: true },
    idempotencyKey: { type: String, default: null },
    attempt: { type: Number, required: true },
    status: { type: String, enum: ['sent', 'retrying', 'failed'], required: true },
    providerReply: { type: String, default: '' },
    retryInMs: { type: Number, default: null },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
sendLogSchema.index({ tenantId: 1, at: -1, _id: -1 });

/**
 * The idempotent send log: one row per idempotency key (`<tenant>:<key>`, e.g. `<event>:start:<user>`),
 * inserted before the send. Whoever inserts it sends; a row left `pending` by a process that died is
 * taken over through a lease insert (`<claim>#<generation>`), so a recipient gets the message once.
 */
export interface SendClaimRecord {
  _id: string;
  tenantId: string;
  key: string;
  status: 'pending' | 'sent' | 'failed';
  owner: string;
  generation: number;
  claimedAt: Date;
  finishedAt: Date | null;
  sendId: string | null;
  /** What to send, so a process can finish a send whose claimer died. */
  request: { channel: Channel; to: string; subject: string | null; text: string; purpose: string; userId: string | null };
}

const claimSchema = new Schema<SendClaimRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    key: { type: String, required: true },
    status: { type: String, enum: ['pending', 'sent', 'failed'], required: true },
    owner: { type: String, required: true },
    generation: { type: Number, default: 0 },
    claimedAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
    sendId: { type: String, default: null },
    request: { type: Schema.Types.Mixed, required: true },
  },
  { versionKey: false },
);
claimSchema.index({ status: 1, claimedAt: 1 });

/** Takeover leases of pending claims: `_id` = `<claim id>#<generation>`. */
const leaseSchema = new Schema<{ _id: string; at: Date; owner: string }>(
  { _id: { type: String, required: true }, at: { type: Date, required: true }, owner: { type: String, required: true } },
  { versionKey: false },
);

/** A user's SMS consent: `_id` = `<tenant>:<user>`; history keeps every change. */
export interface ConsentChange {
  optedIn: boolean;
  at: Date;
  source: string;
  by: string | null;
}
export interface SmsConsentRecord {
  _id: string;
  tenantId: string;
  userId: string;
  optedIn: boolean;
  /** The number the user had when they last changed it (a STOP from it still matches after a directory change). */
  phone: string | null;
  at: Date;
  source: string;
  by: string | null;
  history: ConsentChange[];
}

const consentSchema = new Schema<SmsConsentRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    userId: { type: String, required: true },
    optedIn: { type: Boolean, required: true },
    phone: { type: String, default: null },
    at: { type: Date, required: true },
    source: { type: String, required: true },
    by: { type: String, default: null },
    history: {
      type: [new Schema<ConsentChange>({ optedIn: Boolean, at: Date, source: String, by: { type: String, default: null } }, { _id: false })],
      default: [],
    },
  },
  { versionKey: false },
);
consentSchema.index({ tenantId: 1, optedIn: 1 });

/** An event's start or end SMS run (`<event>:<kind>`): done once every recipient was claimed. */
export interface EventSmsRunRecord {
  _id: string;
  tenantId: string;
  eventId: string;
  kind: 'start' | 'end';
  recipients: number;
  finishedAt: Date;
  /** What the run found, for the admins' view of it (absent on runs recorded before). */
  groupMembers?: number;
  notOptedIn?: number;
  withoutNumber?: number;
  messageEmpty?: boolean;
  channelConfigured?: boolean | null;
}
const eventRunSchema = new Schema<EventSmsRunRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    eventId: { type: String, required: true },
    kind: { type: String, enum: ['start', 'end'], required: true },
    recipients: { type: Number, required: true },
    finishedAt: { type: Date, required: true },
    groupMembers: { type: Number, default: 0 },
    notOptedIn: { type: Number, default: 0 },
    withoutNumber: { type: Number, default: 0 },
    messageEmpty: { type: Boolean, default: false },
    channelConfigured: { type: Boolean, default: null },
  },
  { versionKey: false },
);

/** A pending self-service reset code (`<tenant>:<user>`): stored hashed, short-lived, few attempts. */
export interface ResetCodeRecord {
  _id: string;
  tenantId: string;
  userId: string;
  codeHash: string;
  channel: Exclude<ResetChannel, 'never'>;
  expiresAt: Date;
  attempts: number;
  createdAt: Date;
}
const resetSchema = new Schema<ResetCodeRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    userId: { type: String, required: true },
    codeHash: { type: String, required: true },
    channel: { type: String, enum: ['email', 'sms'], required: true },
    expiresAt: { type: Date, required: true },
    attempts: { type: Number, default: 0 },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);

export const notifyModels = (conn: Connection) => ({
  settings: defineModel(conn, 'NotifySettings', settingsSchema),
  sendLog: defineModel(conn, 'NotifySendLog', sendLogSchema),
  claims: defineModel(conn, 'NotifySendClaim', claimSchema),
  leases: defineModel(conn, 'NotifyClaimLease', leaseSchema),
  consents: defineModel(conn, 'SmsConsent', consentSchema),
  eventRuns: defineModel(conn, 'EventSmsRun', eventRunSchema),
  resetCodes: defineModel(conn, 'PasswordResetCode', resetSchema),
});
export type NotifyModels = ReturnType<typeof notifyModels>;
