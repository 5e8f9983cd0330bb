/**
 * The admin API's request and response shapes, in one place. Where the server exports the type of a
 * view it is imported from there (type-only: nothing of the server is bundled) and mapped to its JSON
 * form (`Wire`: dates arrive as ISO strings); where the server builds the view inline (mail, monitor,
 * notification log), the shape is declared here once. Pages import from here, never re-declare.
 */
import type { AdminView } from '../../server/auth/admins';
import type { AddinClientConfig } from '../../server/config';
import type { AuditEntry as ServerAuditEntry } from '../../server/audit/service';
import type { ClientService } from '../../server/clients/service';
import type { ConnectionView as ServerConnectionView } from '../../server/directory/graph/connection';
import type { SyncStatus as ServerSyncStatus } from '../../server/directory/graph/sync';
import type { PasswordImport } from '../../server/user-auth/import';
import type { GroupSummary, UserSummary } from '../../server/directory/service';
import type { EventView } from '../../server/events/service';
import type { FieldError } from '../../server/http/problem';
import type { MonitorSettings } from '../../server/monitor/model';
import type { SendResult } from '../../server/notify/service';
import type { SmsAudience, SmsRunView } from '../../server/notify/sms-runs';
import type { QueueItem, QueueState } from '../../server/mail/admin-queue';
import type { SettingsView } from '../../server/notify/settings';
import type { ReadinessService } from '../../server/readiness/service';
import type { ReportService } from '../../server/reports/service';
import type { Role } from '../../server/shared/constants';
import type { Detection as ServerDetection } from '../../server/protection/detections';
import type { Policy } from '../../server/protection/policy-rules';
import type { policyBody } from '../../server/protection/policy-schema';
import type { z } from 'zod';
import type { QuarantineEntry as ServerQuarantineEntry } from '../../server/protection/quarantine';
import type { VerdictKind } from '../../server/protection/verdict';
import type { PowerShellLine } from '../../server/exchange-setup/powershell';
import type { ScanView } from '../../server/threat-scan/progress';
import type { RemediateInput, RemediationView } from '../../server/threat-scan/remediation';
import type { ScanReport } from '../../server/threat-scan/report';
import type { ContinuousProtection } from '../../server/threat-scan/continuous';
import type { ExchangeCheck } from '../../server/readiness/exchange';

/** A server view as it arrives over JSON: Date fields become ISO strings. */
export type Wire<T> = T extends Date ? string : T extends (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

export type { FieldError, Role };

/** A cursor page (`?cursor=` from `nextCursor`; null: no more). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

// ---- sign-in ------------------------------------------------------------------------------------

/** `GET /api/auth/me`: who is signed in. */
export interface Me {
  email: string;
  tenantId: string;
  role: Role;
}
export type Admin = Wire<AdminView>;
/** `POST /api/admins`: a new administrator. */
export interface NewAdmin {
  email: string;
  password: string;
  role: Role;
}
/** `GET /api/auth/two-factor`: the signed-in admin's two-factor sign-in and the organisation's rule. */
export interface TwoFactorState {
  enabled: boolean;
  required: boolean;
  recoveryCodesLeft: number;
}
export type AuditEntry = Wire<ServerAuditEntry>;

// ---- continuity events --------------------------------------------------------------------------

/** An event as `GET /api/events` returns it; `GET /api/events/:id` adds the SMS phone attribute and runs. */
export type ContinuityEvent = Omit<Wire<EventView>, 'sms'> & {
  sms: (NonNullable<Wire<EventView>['sms']> & { phoneAttribute?: string | null; runs?: SmsRun[] }) | null;
};
/** One SMS run of an event (start or end): sent, failed, skipped with reasons. */
export type SmsRun = Wire<SmsRunView>;
/** `GET /api/notify/sms-audience?groupId=`: who an event's SMS would reach, with warnings for the form. */
export type SmsAudienceView = Wire<SmsAudience>;
export type CloudPasswordReset = ContinuityEvent['cloudPasswordReset'];
export type Group = Wire<GroupSummary>;
export type EventReport = Wire<Awaited<ReturnType<ReportService['report']>>>;

// ---- directory ----------------------------------------------------------------------------------

/** With include=cloudPassword: when the cloud password was set (null: none). */
export type User = Wire<UserSummary> & { cloudPasswordSetAt?: string | null };
/** `POST /api/users/cloud-passwords/import`: every row's result; after apply, the one-time download of generated passwords. */
export type PasswordImportResult = Wire<Awaited<ReturnType<PasswordImport['dryRun']>>> & { download?: string | null };
export type PasswordImportRow = PasswordImportResult['rows'][number];
export type ConnectionView = Wire<ServerConnectionView>;
export interface ConnectionInput {
  entraTenantId: string;
  clientId: string;
  clientSecret?: string;
  syncIntervalMinutes: number;
}
export type SyncStatus = Wire<ServerSyncStatus>;
export type ClientSummary = Wire<Awaited<ReturnType<ClientService['summary']>>>;
export interface Permissions {
  granted: boolean;
  permissions: { permission: string; status: string; neededFor: string; optional?: boolean }[];
}
/** `GET /api/directory/expansions`: the groups whose members are expanded, and how far. */
export interface Expansions {
  lastSuccessfulSync: string | null;
  lastError: string | null;
  groups: {
    groupId: string;
    displayName: string;
    mail: string | null;
    kind: string;
    extended: boolean;
    membership: string;
    memberCount: number;
    addressCount: number;
  }[];
}

// ---- notifications ------------------------------------------------------------------------------

export type NotifySettings = Wire<SettingsView>;
export type TestResult = Wire<SendResult>;
/** `GET /api/notify/log`: one send attempt. */
export interface SendLogRow {
  id: string;
  at: string;
  channel: 'email' | 'sms';
  provider: string;
  recipient: string;
  purpose: string;
  attempt: number;
  status: 'sent' | 'retrying' | 'failed';
  providerReply: string | null;
}
/** `GET /api/notify/consents`: each user's SMS number (under the tenant's phone attribute) and consent. */
export interface SmsConsent {
  userId: string;
  optedIn: boolean;
  at: string | null;
  source: string | null;
  phone: string | null;
}

// ---- mail ---------------------------------------------------------------------------------------

export interface ServerAddress {
  host: string;
  port: number;
}
export interface MailSettings {
  primaryServers: ServerAddress[];
  relay: ServerAddress | null;
  retentionDays: number;
  /** TLS certificates of the primary servers and relay are verified (false: the tenant's audited opt-out). */
  verifyTls?: boolean;
}
/** `PUT /api/mail/settings`: what the admin typed; a value that is not a number is sent as typed, so the server's 422 names the field. */
export interface MailSettingsInput {
  primaryServers: { host: string; port: number | string }[];
  relay: { host: string; port: number | string } | null;
  retentionDays: number | string;
  verifyTls?: boolean;
}
/** `GET /api/mail/queue`: one message not (yet) delivered. */
export type MailQueueItem = Wire<QueueItem>;
export type MailQueueState = QueueState;
export interface MailStatus {
  queued: number;
  deferred?: number;
  held: number;
  delivered?: number;
  failed?: number;
  release: { state: 'running' | 'done'; startedAt: string; finishedAt: string | null; total: number; released: number; stillHeld: number } | null;
}

// ---- monitors -----------------------------------------------------------------------------------

/** A monitor as the API returns it: its settings (the server's model) and its live state. */
export interface MonitorView extends MonitorSettings {
  id: string;
  defaultGroup: { id: string; displayName: string | null } | null;
  state: {
    status: 'detected' | 'normal';
    failureCount: number;
    detectedAt: string | null;
    lastAlertAt: string | null;
    lastWindowStart: string | null;
    lastDecision: string | null;
    suppressedUntil: string | null;
    autoActivation: { enabled: boolean; firesAt: string | null; cancelled: boolean; eventId: string | null };
  };
  warnings?: FieldError[];
}
export type MonitorInput = Omit<MonitorSettings, 'address'> & { address?: string };
/** `GET /api/monitors/:id/log`: one check or decision of the detector. */
export interface MonitorLogEntry {
  id: string;
  at: string;
  check: string;
  route: string | null;
  probeId: string | null;
  address: string | null;
  latencyMs: number | null;
  outcome: string;
  error: string | null;
  failureCount: number;
  decision: string | null;
  alertId: string | null;
}
/** `GET /api/monitors/:id/series`: latency and failures per bucket. */
export interface MonitorSeries {
  range: '24h' | '7d';
  bucketMinutes: number;
  points: { at: string; outboundMs: number | null; inboundMs: number | null; failedChecks: number }[];
}

// ---- readiness ----------------------------------------------------------------------------------

export type ReadinessSettings = Wire<Awaited<ReturnType<ReadinessService['settings']>>>;
export interface ReadinessSettingsInput {
  region: string | null;
  customInclude: string | null;
}
export type UserFigures = Wire<Awaited<ReturnType<ReadinessService['users']>>>;
export type { DnsReport, MonitorAlerts } from './readiness/checks';

// ---- request bodies the server reads by hand (no exported schema) ------------------------------

/** `POST /api/events`, `PATCH /api/events/:id`, `POST /api/events/:id/clone`: only the fields that change. */
export interface EventInput {
  description?: string;
  notes?: string;
  outlookContinuity?: boolean;
  cloudPasswordReset?: CloudPasswordReset;
  expandDistributionLists?: boolean;
  pauseInboundDelivery?: boolean;
  timeZone?: string;
  appNotifications?: { startMessage: string; endMessage: string };
  affectedGroupId?: string;
  /** Wall-clock times in `timeZone`. */
  startLocal?: string;
  endLocal?: string | null;
  /** null: eternal. */
  end?: null;
  sms?: { groupId: string; startMessage: string; endMessage: string; startSendAtLocal?: string } | null;
  /** Edits only: the event's `updatedAt` as the form read it; the server answers 409 if it changed since. */
  updatedAt?: string;
}

// ---- protection ---------------------------------------------------------------------------------

export type { VerdictKind };
export type ProtectionPolicy = Policy;
export type ProtectionMode = Policy['mode'];
/** `POST /api/protection/policies`, `PUT …/:id`: what the admin edited (the server's 422 names each bad field). */
export type PolicyInput = z.input<typeof policyBody>;
export interface PolicyList {
  mode: ProtectionMode;
  policies: ProtectionPolicy[];
}
export type QuarantineEntry = ServerQuarantineEntry;
/** `GET /api/quarantine/:id`: the entry, the verdict's evidence and an inert preview. */
export type QuarantineDetail = QuarantineEntry & {
  evidence: {
    auth?: { spf: string; dkim: string; dmarc: string; arc: string; header?: string } | null;
    rspamd?: { score: number; requiredScore: number } | null;
  } | null;
  preview: {
    subject: string;
    from: string;
    to: string;
    date: string | null;
    headers: { name: string; value: string }[];
    text: string;
    html: string | null;
    attachments: { filename: string; contentType: string; size: number }[];
  } | null;
};
export type Detection = ServerDetection;
/** `GET /api/protection/detections/series`: verdicts per bucket, oldest first. */
export interface DetectionSeries {
  range: '24h' | '7d';
  bucketHours: number;
  points: { at: string; counts: Record<VerdictKind, number> }[];
}

/** GET /addin/config.json: what the pane reads; the admin page shows its continuity inbox address. */
export type AddinConfig = AddinClientConfig;

// Threat Scan, Remove Threats and the Exchange Online set-up (server/threat-scan, server/exchange-setup).
export type ThreatScanView = ScanView;
/** Continuous protection's state: on or off and why, the missing permission, last pass, mailboxes followed. */
export type ContinuousStatus = Awaited<ReturnType<ContinuousProtection['settings']>>;
export type ThreatScanReport = ScanReport;
export type { PowerShellLine, RemediateInput as RemediationInput, RemediationView };
/** GET /api/readiness/exchange: the Exchange Online set-up, each part verified from outside or not verifiable. */
export interface ExchangeReadiness {
  checkedAt: string;
  /** The SMTP host the MX check expected (the server's own when none was given). */
  lifeboatHost: string;
  checks: ExchangeCheck[];
}
export interface ExchangePowerShell {
  apply: PowerShellLine[];
  undo: PowerShellLine[];
}
