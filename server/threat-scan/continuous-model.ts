/**
 * Continuous protection storage: the per-tenant switch (`_id` = tenant), each mailbox's inbox delta
 * state (`<tenant>:<user>`: the deltaLink and when its next round is due) and the detections log, one
 * record per judged new message (`<tenant>:<user>:<immutableId>`, inserted once: what was done with it).
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';
import type { Verdict } from './judge';

export interface ContinuousSettingsRecord {
  _id: string;
  /** The administrator's choice: true on, false opted out, null (or absent) automatic (on for Monitor/Protect). */
  enabled: boolean | null;
  /** Since when it runs: mail received before this is the Threat Scan's, not continuous protection's. */
  enabledAt: Date | null;
  updatedAt: Date;
  updatedBy: string | null;
  /** The last permission probe's answer (Mail.Read to follow mail, Mail.ReadWrite to move threats). */
  permission?: { checkedAt: Date; read: boolean; readWrite: boolean; error: string | null } | null;
}

export interface DeltaRecord {
  _id: string;
  tenantId: string;
  userId: string;
  /** Graph's @odata.deltaLink (or a nextLink mid-round); null before the first round. */
  link: string | null;
  nextRoundAt: Date;
  failures: number;
  lastError: string | null;
  updatedAt: Date;
  /** When the last round finished without an error. */
  lastRoundAt?: Date | null;
}

/** `recorded`: Monitor mode or an action Graph cannot apply (tag); `quarantined`/`junked`: Protect moved it. */
export type DetectionOutcome = 'recorded' | 'quarantined' | 'junked' | 'delivered';

export interface DetectionRecord {
  _id: string;
  tenantId: string;
  userId: string;
  recipient: string;
  messageId: string;
  sender: string;
  subject: string;
  receivedAt: Date | null;
  verdict: Verdict;
  reasons: string[];
  mode: 'protect' | 'monitor';
  policyId: string;
  outcome: DetectionOutcome;
  quarantineId: string | null;
  /** The folder it was in when judged (the inbox's id): a release moves it back there. */
  fromFolderId?: string | null;
  at: Date;
}

const str = { type: String, required: true };
const settingsSchema = new Schema<ContinuousSettingsRecord>(
  {
    _id: str,
    enabled: { type: Boolean, default: null },
    enabledAt: { type: Date, default: null },
    updatedAt: Date,
    updatedBy: { type: String, default: null },
    permission: { type: { checkedAt: Date, read: Boolean, readWrite: Boolean, error: { type: String, default: null } }, default: null },
  },
  { versionKey: false },
);
const deltaSchema = new Schema<DeltaRecord>(
  {
    _id: str,
    tenantId: str,
    userId: str,
    link: { type: String, default: null },
    nextRoundAt: Date,
    failures: { type: Number, default: 0 },
    lastError: { type: String, default: null },
    updatedAt: Date,
    lastRoundAt: { type: Date, default: null },
  },
  { versionKey: false },
);
const detectionSchema = new Schema<DetectionRecord>(
  {
    _id: str,
    tenantId: str,
    userId: str,
    recipient: str,
    messageId: str,
    sender: { type: String, default: '' },
    subject: { type: String, default: '' },
    receivedAt: { type: Date, default: null },
    verdict: str,
    reasons: { type: [String], default: [] },
    mode: str,
    policyId: str,
    outcome: str,
    quarantineId: { type: String, default: null },
    fromFolderId: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

export function continuousModels(conn: Connection) {
  return {
    settings: defineModel(conn, 'ContinuousProtection', settingsSchema),
    deltas: defineModel(conn, 'ContinuousDelta', deltaSchema),
    detections: defineModel(conn, 'ContinuousDetection', detectionSchema),
  };
}
export type ContinuousModels = ReturnType<typeof continuousModels>;
