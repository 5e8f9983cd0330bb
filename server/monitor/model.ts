/**
 * Continuity monitor storage. Hot look-ups are by string _id (FerretDB v1 indexes only {_id}):
 * the monitor address the SMTP receiver checks, the probe a received test message names, the
 * window a process claims. Claims are inserts under the unique _id, never racing updates.
 */
import { Schema, Types, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';
import { CLOUD_PASSWORD_RESET, type CloudPasswordReset } from '../events/model';

export interface MonitorState {
  failureCount: number;
  detected: boolean;
  detectedAt: Date | null;
  lastAlertAt: Date | null;
  /** The event auto-activation started for the current detection (once per detection). */
  autoEventId: string | null;
  /** When auto-activation fired for the current detection (it fires once per detection). */
  autoActivatedAt: Date | null;
  lastWindowStart: Date | null;
  lastDecision: string | null;
  /** Each direction's own failure counter (same +1/−1 rule), for per-direction failure thresholds. */
  inboundFailures: number;
  outboundFailures: number;
}

export const INITIAL_STATE: MonitorState = {
  failureCount: 0,
  detected: false,
  detectedAt: null,
  lastAlertAt: null,
  autoEventId: null,
  autoActivatedAt: null,
  lastWindowStart: null,
  lastDecision: null,
  inboundFailures: 0,
  outboundFailures: 0,
};

/** One direction of a monitor: on or off, and its own thresholds (null: the monitor's shared ones). */
export interface DirectionSettings {
  enabled: boolean;
  latencyThresholdSeconds: number | null;
  failureThreshold: number | null;
}

/** What an admin configures for a monitor (the API's input, the stored record's settings, the page's form). */
export interface MonitorSettings {
  name: string;
  enabled: boolean;
  inbound: DirectionSettings;
  outbound: DirectionSettings;
  /** UPN or object id of the licensed probe mailbox in the Graph-connected tenant. */
  probeMailbox: string;
  /** The monitor's own address, received by Lifeboat's SMTP receiver. */
  address: string;
  latencyThresholdSeconds: number;
  failureThreshold: number;
  windowMinutes: number;
  repeatMinutes: number;
  alertRecipients: { sms: string[]; email: string[] };
  defaultGroupId: string | null;
  defaultDurationHours: number;
  timeZone: string;
  autoActivation: { enabled: boolean; afterMinutes: number };
  /** Allow Cloud Password Reset: anything but 'inherit' overrides the events' and the tenant's. */
  cloudPasswordReset: CloudPasswordReset;
}

export interface MonitorRecord extends MonitorSettings {
  _id: string;
  tenantId: string;
  state: MonitorState;
  /** Alerts are silenced (still logged as `suppressed`) until then. Written apart from `state`. */
  suppressedUntil: Date | null;
  /** The last time an admin answered (portal action, API suppress or cancel): stops auto-activation. */
  answeredAt: Date | null;
  autoActivationCancelledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const stateSchema = new Schema<MonitorState>(
  {
    failureCount: { type: Number, default: 0 },
    detected: { type: Boolean, default: false },
    detectedAt: { type: Date, default: null },
    lastAlertAt: { type: Date, default: null },
    autoEventId: { type: String, default: null },
    autoActivatedAt: { type: Date, default: null },
    lastWindowStart: { type: Date, default: null },
    lastDecision: { type: String, default: null },
    inboundFailures: { type: Number, default: 0 },
    outboundFailures: { type: Number, default: 0 },
  },
  { _id: false },
);

const directionSchema = {
  enabled: { type: Boolean, default: true },
  latencyThresholdSeconds: { type: Number, default: null },
  failureThreshold: { type: Number, default: null },
};

const monitorSchema = new Schema<MonitorRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    name: { type: String, required: true },
    enabled: { type: Boolean, default: true },
    inbound: directionSchema,
    outbound: directionSchema,
    probeMailbox: { type: String, default: '' },
    address: { type: String, required: true },
    latencyThresholdSeconds: { type: Number, required: true },
    failureThreshold: { type: Number, required: true },
    windowMinutes: { type: Number, required: true },
    repeatMinutes: { type: Number, required: true },
    alertRecipients: { sms: { type: [String], default: [] }, email: { type: [String], default: [] } },
    defaultGroupId: { type: String, default: null },
    defaultDurationHours: { type: Number, default: 4 },
    timeZone: { type: String, default: 'UTC' },
    autoActivation: { enabled: { type: Boolean, default: false }, afterMinutes: { type: Number, default: 30 } },
    cloudPasswordReset: { type: String, enum: CLOUD_PASSWORD_RESET, default: 'inherit' },
    state: { type: stateSchema, default: () => ({ ...INITIAL_STATE }) },
    suppressedUntil: { type: Date, default: null },
    answeredAt: { type: Date, default: null },
    autoActivationCancelledAt: { type: Date, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
monitorSchema.index({ tenantId: 1, name: 1 });

/** _id = the monitor address (lower case): the receiver's RCPT TO look-up, and address uniqueness across tenants. */
export interface MonitorAddressRecord {
  _id: string;
  tenantId: string;
  monitorId: string;
}
const addressSchema = new Schema<MonitorAddressRecord>(
  { _id: { type: String, required: true }, tenantId: { type: String, required: true }, monitorId: { type: String, required: true } },
  { versionKey: false },
);

/** A claimed window: _id `<monitor>:<windowStart ms>`; whoever inserts it runs the window. */
export interface MonitorWindowRecord {
  _id: string;
  tenantId: string;
  monitorId: string;
  windowStart: Date;
  claimedBy: string;
  claimedAt: Date;
}
const windowSchema = new Schema<MonitorWindowRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    monitorId: { type: String, required: true },
    windowStart: { type: Date, required: true },
    claimedBy: { type: String, required: true },
    claimedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/** One test message in flight: _id = its unique id (in the subject and X-Lifeboat-Probe header). */
export interface ProbeRecord {
  _id: string;
  tenantId: string;
  monitorId: string;
  check: 'outbound' | 'inbound';
  route: string | null;
  address: string;
  sentAt: Date;
  receivedAt: Date | null;
}
const probeSchema = new Schema<ProbeRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    monitorId: { type: String, required: true },
    check: { type: String, enum: ['outbound', 'inbound'], required: true },
    route: { type: String, default: null },
    address: { type: String, required: true },
    sentAt: { type: Date, required: true },
    receivedAt: { type: Date, default: null },
  },
  { versionKey: false },
);

export const CHECKS = ['outbound', 'inbound', 'window'] as const;
export const OUTCOMES = ['ok', 'slow', 'failed', 'skipped', 'idle'] as const;
export const DECISIONS = ['below threshold', 'still detected', 'alert sent', 'suppressed', 'recovered', 'event started', 'auto-activation cancelled'] as const;
export type CheckKind = (typeof CHECKS)[number];
export type Outcome = (typeof OUTCOMES)[number];
export type Decision = (typeof DECISIONS)[number];

/** The detection log: one row per check (per route) and one decision row per window. */
export interface LogRecord {
  _id: Types.ObjectId;
  tenantId: string;
  monitorId: string;
  at: Date;
  windowStart: Date;
  check: CheckKind;
  route: string | null;
  probeId: string | null;
  address: string | null;
  latencyMs: number | null;
  outcome: Outcome;
  error: string | null;
  failureCount: number;
  decision: Decision | null;
  alertId: string | null;
}
const logSchema = new Schema<LogRecord>(
  {
    tenantId: { type: String, required: true },
    monitorId: { type: String, required: true },
    at: { type: Date, required: true },
    windowStart: { type: Date, required: true },
    check: { type: String, enum: CHECKS, required: true },
    route: { type: String, default: null },
    probeId: { type: String, default: null },
    address: { type: String, default: null },
    latencyMs: { type: Number, default: null },
    outcome: { type: String, enum: OUTCOMES, required: true },
    error: { type: String, default: null },
    failureCount: { type: Number, required: true },
    decision: { type: String, enum: [...DECISIONS, null], default: null },
    alertId: { type: String, default: null },
  },
  { versionKey: false },
);
logSchema.index({ tenantId: 1, monitorId: 1, at: -1, _id: -1 });

/** An alert (or recovered notice) that was sent: its id is in the portal link. */
export interface AlertRecord {
  _id: string;
  tenantId: string;
  monitorId: string;
  kind: 'alert' | 'recovered';
  at: Date;
  expiresAt: Date;
  /** When the monitor detected the problem this alert is about (the post-incident report's detection → start). */
  detectedAt?: Date | null;
  results: { channel: string; recipient: string; ok: boolean; error: string | null }[];
}
const alertSchema = new Schema<AlertRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    monitorId: { type: String, required: true },
    kind: { type: String, enum: ['alert', 'recovered'], required: true },
    at: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    detectedAt: { type: Date, default: null },
    results: [{ _id: false, channel: String, recipient: String, ok: Boolean, error: { type: String, default: null } }],
  },
  { versionKey: false },
);

export function monitorModels(conn: Connection) {
  return {
    monitors: defineModel(conn, 'Monitor', monitorSchema),
    addresses: defineModel(conn, 'MonitorAddress', addressSchema),
    windows: defineModel(conn, 'MonitorWindow', windowSchema),
    probes: defineModel(conn, 'MonitorProbe', probeSchema),
    log: defineModel(conn, 'MonitorLog', logSchema),
    alerts: defineModel(conn, 'MonitorAlert', alertSchema),
  };
}
export type MonitorModels = ReturnType<typeof monitorModels>;
