/**
 * The protection collections: verdicts (one per message, `_id` = `<tenant>:<messageId>`, claimed by
 * insert), policies (`default:<tenant>` is the tenant's default), quarantine entries (one per message
 * and recipient) and release claims (`_id` = the quarantine entry's, so a release happens once).
 * Targets and actions are stored as plain sub-documents: FerretDB v1 has no nested arrays.
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';
import type { Evidence, VerdictKind } from './verdict';
import type { MatchOn, Mode, Target, VerdictAction } from './policy-rules';

export interface VerdictRecord {
  _id: string;
  tenantId: string;
  messageId: string;
  verdict: VerdictKind;
  reasons: string[];
  evidence: Evidence;
  judgedAt: Date;
  /** How the message reached the scanner: received by Lifeboat (`smtp`) or read from a mailbox (`graph`). */
  source: VerdictSource;
  /** Who and what, for the detections log (absent on verdicts stored before it was kept). */
  mailFrom?: string;
  from?: string;
  subject?: string;
  recipients?: string[];
  /** When the mailbox received it (Graph verdicts; an SMTP verdict's judgedAt is its arrival). */
  receivedAt?: Date | null;
  /** The distinct placement actions routing took (deliver, tag, quarantine, hold), set after placement. */
  actions?: string[];
}

export type VerdictSource = 'smtp' | 'graph';

export interface PolicyRecord {
  _id: string;
  tenantId: string;
  name: string;
  isDefault: boolean;
  mode: Mode;
  priority: number;
  matchOn: MatchOn;
  senders: { include: Target[]; exclude: Target[] };
  recipients: { include: Target[]; exclude: Target[] };
  actions: { spam: VerdictAction; phishing: VerdictAction; malware: VerdictAction; spoof: VerdictAction; impersonation: VerdictAction };
  scannerDown: { action: 'hold' | 'tag'; holdMinutes: number };
  createdAt: Date;
  updatedAt: Date;
}

export type QuarantineStatus = 'held' | 'released' | 'deleted';

export interface ReleaseRequest {
  userId: string;
  email: string | null;
  reason: string;
  at: Date;
}

export interface QuarantineRecord {
  _id: string;
  tenantId: string;
  messageId: string;
  recipient: string;
  /** The directory user the copy is for (null for a group or unknown recipient). */
  userId: string | null;
  mailFrom: string;
  from: string;
  subject: string;
  verdict: VerdictKind;
  reasons: string[];
  policyId: string;
  /** The connection the message came from (the rescan's SPF check needs it). */
  clientIp: string;
  helo: string;
  at: Date;
  status: QuarantineStatus;
  releaseRequests: ReleaseRequest[];
  decidedAt: Date | null;
  decidedBy: string | null;
  decisionReason: string | null;
}

export interface ReleaseClaimRecord {
  _id: string;
  tenantId: string;
  by: string;
  at: Date;
}

/** Per tenant (`_id` = tenant id): the VIPs whose display names outsiders must not use, besides the directory's. */
export interface ProtectionSettingsRecord {
  _id: string;
  vips: { displayName: string; address: string | null }[];
  updatedAt: Date;
}

const targetSchema = new Schema<Target>({ type: { type: String, enum: ['address', 'domain', 'group'], required: true }, value: String }, { _id: false });
const targetSet = { include: { type: [targetSchema], default: [] }, exclude: { type: [targetSchema], default: [] } };

const verdictSchema = new Schema<VerdictRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    messageId: { type: String, required: true },
    verdict: { type: String, required: true },
    reasons: { type: [String], default: [] },
    evidence: { type: Schema.Types.Mixed, required: true },
    judgedAt: { type: Date, required: true },
    source: { type: String, enum: ['smtp', 'graph'], default: 'smtp' },
    mailFrom: String,
    from: String,
    subject: String,
    recipients: { type: [String], default: undefined },
    receivedAt: { type: Date, default: undefined },
    actions: { type: [String], default: undefined },
  },
  { versionKey: false, minimize: false },
);

const policySchema = new Schema<PolicyRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true, index: true },
    name: { type: String, required: true },
    isDefault: { type: Boolean, default: false },
    mode: { type: String, enum: ['threatScanOnly', 'protect', 'monitor', 'disabled'], required: true },
    priority: { type: Number, required: true },
    matchOn: { type: String, enum: ['envelope', 'header', 'both'], default: 'both' },
    senders: targetSet,
    recipients: targetSet,
    actions: { spam: String, phishing: String, malware: String, spoof: String, impersonation: String },
    scannerDown: { action: { type: String, enum: ['hold', 'tag'] }, holdMinutes: Number },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

const quarantineSchema = new Schema<QuarantineRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true, index: true },
    messageId: { type: String, required: true },
    recipient: { type: String, required: true },
    userId: { type: String, default: null },
    mailFrom: { type: String, default: '' },
    from: { type: String, default: '' },
    subject: { type: String, default: '' },
    verdict: { type: String, required: true },
    reasons: { type: [String], default: [] },
    policyId: { type: String, required: true },
    clientIp: { type: String, default: '' },
    helo: { type: String, default: '' },
    at: { type: Date, required: true },
    status: { type: String, enum: ['held', 'released', 'deleted'], default: 'held' },
    releaseRequests: { type: [{ _id: false, userId: String, email: String, reason: String, at: Date }], default: [] },
    decidedAt: { type: Date, default: null },
    decidedBy: { type: String, default: null },
    decisionReason: { type: String, default: null },
  },
  { versionKey: false },
);

const releaseClaimSchema = new Schema<ReleaseClaimRecord>(
  { _id: { type: String, required: true }, tenantId: String, by: String, at: Date },
  { versionKey: false },
);

const settingsSchema = new Schema<ProtectionSettingsRecord>(
  { _id: { type: String, required: true }, vips: { type: [{ _id: false, displayName: String, address: String }], default: [] }, updatedAt: Date },
  { versionKey: false },
);

export function protectionModels(conn: Connection) {
  return {
    settings: defineModel(conn, 'ProtectionSettings', settingsSchema),
    verdicts: defineModel(conn, 'ProtectionVerdict', verdictSchema),
    policies: defineModel(conn, 'ProtectionPolicy', policySchema),
    quarantine: defineModel(conn, 'QuarantineEntry', quarantineSchema),
    releases: defineModel(conn, 'QuarantineRelease', releaseClaimSchema),
  };
}
export type ProtectionModels = ReturnType<typeof protectionModels>;
