/**
 * Threat Scan storage. Hot look-ups are by string _id (FerretDB v1 indexes only {_id}): a mailbox's
 * work item `<scan>:<user>`, its lease (claimed by insert), each message `<scan>:<immutableId>` (the
 * claim that makes it judged once), markers such as `<scan>:finished:<run>` (report sent once), and
 * remediation items `<remediation>:<message>`. docs/ARCHITECTURE.md, "Database rules".
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';
import type { Verdict } from './judge';

export type ScanState = 'running' | 'ended' | 'finished';

export interface ScanRecord {
  _id: string;
  tenantId: string;
  days: number;
  since: Date;
  targets: { groupIds: string[]; userIds: string[] } | null;
  state: ScanState;
  /** 1 for the first run, +1 per resume. */
  run: number;
  createdAt: Date;
  createdBy: { id: string | null; email: string | null };
  runStartedAt: Date;
  endedAt: Date | null;
  finishedAt: Date | null;
  mailboxesTotal: number;
}

export type MailboxState = 'pending' | 'done' | 'skipped';

export interface MailboxRecord {
  _id: string;
  scanId: string;
  tenantId: string;
  userId: string;
  address: string;
  state: MailboxState;
  /** Where the listing goes on (the persisted @odata.nextLink): a retry or a restart does not lose its place. */
  nextLink: string | null;
  failures: number;
  reason: string | null;
  scanned: number;
  /** Threats among `scanned` (live progress; the report counts the verdict records themselves). */
  threats: number;
  throttled: number;
  nextAttemptAt: Date;
  updatedAt: Date;
}

export interface LeaseRecord {
  _id: string;
  owner: string;
  expiresAt: Date;
}

export type Location = 'mailbox' | 'quarantine' | 'junk' | 'purged';

export interface MessageRecord {
  _id: string;
  scanId: string;
  tenantId: string;
  userId: string;
  /** The Graph immutable id (stable across moves). */
  messageId: string;
  recipient: string;
  sender: string;
  subject: string;
  receivedAt: Date | null;
  parentFolderId: string | null;
  /** The listing page (its Graph link) the message was judged from: a restarted scan counts a page once. */
  page?: string | null;
  verdict: Verdict;
  evidence: Record<string, unknown> | null;
  judgedAt: Date | null;
  location: Location;
  /** The folder a remediation moved it out of (undo moves it back there). */
  folderBefore: string | null;
  lastAction: { action: string; at: Date; by: string | null } | null;
}

export type RemediationAction = 'softDelete' | 'junk' | 'hardDelete' | 'undo';

export interface RemediationRecord {
  _id: string;
  tenantId: string;
  scanId: string;
  action: RemediationAction;
  messageIds: string[];
  state: 'running' | 'finished';
  createdAt: Date;
  createdBy: { id: string | null; email: string | null };
  finishedAt: Date | null;
}

export interface RemediationItemRecord {
  _id: string;
  remediationId: string;
  ok: boolean | null;
  error: string | null;
}

export interface MarkerRecord {
  _id: string;
  at: Date;
}

/** The Lifeboat quarantine folder of a mailbox, once created (`<tenant>:<user>`). */
export interface FolderRecord {
  _id: string;
  folderId: string;
}

const str = { type: String, required: true };
const nullableStr = { type: String, default: null };
const by = { id: nullableStr, email: nullableStr };

const scanSchema = new Schema<ScanRecord>(
  {
    _id: str,
    tenantId: str,
    days: { type: Number, required: true },
    since: { type: Date, required: true },
    targets: { type: Schema.Types.Mixed, default: null },
    state: str,
    run: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    createdBy: by,
    runStartedAt: { type: Date, required: true },
    endedAt: { type: Date, default: null },
    finishedAt: { type: Date, default: null },
    mailboxesTotal: { type: Number, required: true },
  },
  { versionKey: false },
);

const mailboxSchema = new Schema<MailboxRecord>(
  {
    _id: str,
    scanId: str,
    tenantId: str,
    userId: str,
    address: str,
    state: str,
    nextLink: nullableStr,
    failures: { type: Number, default: 0 },
    reason: nullableStr,
    scanned: { type: Number, default: 0 },
    threats: { type: Number, default: 0 },
    throttled: { type: Number, default: 0 },
    nextAttemptAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

const leaseSchema = new Schema<LeaseRecord>({ _id: str, owner: str, expiresAt: { type: Date, required: true } }, { versionKey: false });

const messageSchema = new Schema<MessageRecord>(
  {
    _id: str,
    scanId: str,
    tenantId: str,
    userId: str,
    messageId: str,
    recipient: str,
    sender: { type: String, default: '' },
    subject: { type: String, default: '' },
    receivedAt: { type: Date, default: null },
    parentFolderId: nullableStr,
    page: nullableStr,
    verdict: nullableStr,
    evidence: { type: Schema.Types.Mixed, default: null },
    judgedAt: { type: Date, default: null },
    location: { type: String, default: 'mailbox' },
    folderBefore: nullableStr,
    lastAction: { type: Schema.Types.Mixed, default: null },
  },
  { versionKey: false },
);

const remediationSchema = new Schema<RemediationRecord>(
  {
    _id: str,
    tenantId: str,
    scanId: str,
    action: str,
    messageIds: [String],
    state: str,
    createdAt: { type: Date, required: true },
    createdBy: by,
    finishedAt: { type: Date, default: null },
  },
  { versionKey: false },
);

const itemSchema = new Schema<RemediationItemRecord>(
  { _id: str, remediationId: str, ok: { type: Boolean, default: null }, error: nullableStr },
  { versionKey: false },
);
const markerSchema = new Schema<MarkerRecord>({ _id: str, at: { type: Date, required: true } }, { versionKey: false });
const folderSchema = new Schema<FolderRecord>({ _id: str, folderId: str }, { versionKey: false });

export function threatScanModels(conn: Connection) {
  return {
    scans: defineModel(conn, 'ThreatScan', scanSchema),
    mailboxes: defineModel(conn, 'ThreatScanMailbox', mailboxSchema),
    leases: defineModel(conn, 'ThreatScanLease', leaseSchema),
    messages: defineModel(conn, 'ThreatScanMessage', messageSchema),
    remediations: defineModel(conn, 'ThreatScanRemediation', remediationSchema),
    items: defineModel(conn, 'ThreatScanRemediationItem', itemSchema),
    markers: defineModel(conn, 'ThreatScanMarker', markerSchema),
    /** `<scan>:<immutableId>` inserted before a message is judged (the verdict record follows under the same _id). */
    claims: defineModel(conn, 'ThreatScanClaim', new Schema<MarkerRecord>({ _id: str, at: { type: Date, required: true } }, { versionKey: false })),
    folders: defineModel(conn, 'ThreatScanFolder', folderSchema),
  };
}
export type ThreatScanModels = ReturnType<typeof threatScanModels>;
