/**
 * The admin page's typed API client: one function per endpoint the page uses, with its request and
 * response types from ./contract (the server's own types where it exports them). Pages call these,
 * never `api()` with a path. Transport, errors and the session-ended signal live in ./api.
 */
import { api, query } from './api';
import type { Role } from '../../server/shared/constants';
import type {
  AddinConfig,
  Admin,
  AuditEntry,
  ClientSummary,
  ConnectionInput,
  ConnectionView,
  ContinuityEvent,
  DnsReport,
  ExchangePowerShell,
  EventInput,
  EventReport,
  Expansions,
  Group,
  MailSettings,
  MailSettingsInput,
  MailQueueItem,
  MailQueueState,
  MailStatus,
  Me,
  MonitorInput,
  MonitorLogEntry,
  MonitorSeries,
  MonitorView,
  NewAdmin,
  NotifySettings,
  Page,
  PasswordImportResult,
  PolicyInput,
  PolicyList,
  ProtectionPolicy,
  QuarantineDetail,
  QuarantineEntry,
  Detection,
  DetectionSeries,
  VerdictKind,
  Permissions,
  ReadinessSettings,
  ReadinessSettingsInput,
  RemediationInput,
  RemediationView,
  SendLogRow,
  SmsAudienceView,
  SmsConsent,
  SyncStatus,
  TestResult,
  TwoFactorState,
  ThreatScanReport,
  ThreatScanView,
  ContinuousStatus,
  ExchangeReadiness,
  User,
  UserFigures,
} from './contract';

const id = encodeURIComponent;

export const auth = {
  login: (email: string, password: string, code: string | null = null) =>
    api<null>('POST', '/api/auth/login', { email, password, ...(code !== null ? { code } : {}) }),
  me: () => api<Me>('GET', '/api/auth/me'),
  logout: () => api<null>('POST', '/api/auth/logout'),
  admins: () => api<Admin[]>('GET', '/api/admins'),
};

/** The organisation's administrators (changes need a full administrator). */
export const admins = {
  list: () => api<Admin[]>('GET', '/api/admins'),
  add: (body: NewAdmin) => api<Admin>('POST', '/api/admins', body),
  setRole: (adminId: string, role: Role) => api<Admin>('PATCH', `/api/admins/${id(adminId)}`, { role }),
  setPassword: (adminId: string, password: string) => api<null>('PUT', `/api/admins/${id(adminId)}/password`, { password }),
  unlock: (adminId: string) => api<null>('POST', `/api/admins/${id(adminId)}/unlock`),
  resetTwoFactor: (adminId: string) => api<null>('POST', `/api/admins/${id(adminId)}/two-factor/reset`),
  remove: (adminId: string) => api<null>('DELETE', `/api/admins/${id(adminId)}`),
};

/** Two-factor sign-in: the signed-in admin's own, and the organisation's requirement. */
export const twoFactor = {
  state: () => api<TwoFactorState>('GET', '/api/auth/two-factor'),
  setup: () => api<{ secret: string; uri: string }>('POST', '/api/auth/two-factor/setup'),
  enable: (code: string) => api<{ recoveryCodes: string[] }>('POST', '/api/auth/two-factor/enable', { code }),
  require: (required: boolean) => api<{ required: boolean }>('PUT', '/api/auth/two-factor/policy', { required }),
};

export const events = {
  list: (showAll: boolean) => api<ContinuityEvent[]>('GET', `/api/events${showAll ? '?show=all' : ''}`),
  get: (eventId: string) => api<ContinuityEvent>('GET', `/api/events/${eventId}`),
  create: (body: EventInput) => api<ContinuityEvent>('POST', '/api/events', body),
  update: (eventId: string, body: EventInput) => api<ContinuityEvent>('PATCH', `/api/events/${eventId}`, body),
  clone: (eventId: string, body: EventInput) => api<ContinuityEvent>('POST', `/api/events/${eventId}/clone`, body),
  start: (eventId: string) => api<ContinuityEvent>('POST', `/api/events/${id(eventId)}/start`),
  end: (eventId: string) => api<null>('POST', `/api/events/${eventId}/end`),
  remove: (eventId: string) => api<null>('DELETE', `/api/events/${eventId}`),
  report: (eventId: string) => api<EventReport>('GET', `/api/events/${id(eventId)}/report`),
};

export const directory = {
  groups: (search: string) => api<Group[]>('GET', `/api/directory/groups${query({ search })}`),
  group: (groupId: string) => api<Group>('GET', `/api/directory/groups/${id(groupId)}`),
  users: (search: string, options: { include?: 'cloudPassword' } = {}) => api<User[]>('GET', `/api/directory/users${query({ search, ...options })}`),
  setCloudPassword: (userId: string, password: string) => api<null>('PUT', `/api/users/${id(userId)}/cloud-password`, { password }),
  /** The spreadsheet (CSV or XLSX) is the body; without `apply` nothing changes (the dry run). */
  importPasswords: (file: Blob, apply: boolean) => api<PasswordImportResult>('POST', `/api/users/cloud-passwords/import${apply ? '?apply=true' : ''}`, file),
  connection: () => api<ConnectionView>('GET', '/api/directory/connection'),
  connect: (body: ConnectionInput) => api<ConnectionView>('PUT', '/api/directory/connection', body),
  disconnect: () => api<null>('DELETE', '/api/directory/connection'),
  permissions: () => api<Permissions>('GET', '/api/directory/permissions'),
  sync: () => api<SyncStatus>('GET', '/api/directory/sync'),
  syncNow: () => api<unknown>('POST', '/api/directory/sync', {}),
  expansions: () => api<Expansions>('GET', '/api/directory/expansions'),
  clientSummary: () => api<ClientSummary>('GET', '/api/clients/summary'),
};

export const notify = {
  settings: () => api<NotifySettings>('GET', '/api/notify/settings'),
  /** Only the parts sent change; secrets are write-only (a value replaces, null removes). */
  updateSettings: (body: Record<string, unknown>) => api<NotifySettings>('PATCH', '/api/notify/settings', body),
  test: (channel: 'email' | 'sms', to: string) => api<TestResult>('POST', '/api/notify/test', { channel, to }),
  log: (filter: { channel?: string }, cursor: string | null, limit: number) =>
    api<Page<SendLogRow>>('GET', `/api/notify/log${query({ ...filter, cursor, limit: String(limit) })}`),
  smsAudience: (groupId: string) => api<SmsAudienceView>('GET', `/api/notify/sms-audience${query({ groupId })}`),
  consents: (search: string) => api<SmsConsent[]>('GET', `/api/notify/consents${query({ search })}`),
};

export const mail = {
  status: () => api<MailStatus>('GET', '/api/mail/status'),
  settings: () => api<MailSettings>('GET', '/api/mail/settings'),
  saveSettings: (body: MailSettingsInput) => api<MailSettings>('PUT', '/api/mail/settings', body),
  queue: (filter: { state?: MailQueueState | ''; recipient?: string; sender?: string }) =>
    api<{ items: MailQueueItem[] }>('GET', `/api/mail/queue${query({ ...filter })}`),
  retryNow: (itemId: string) => api<null>('POST', `/api/mail/queue/${id(itemId)}/retry`),
  release: (itemId: string) => api<null>('POST', `/api/mail/held/${id(itemId)}/release`),
};

export interface MonitorLogFilter {
  check?: string;
  outcome?: string;
  decision?: string;
}

/** Copying what users sent through Lifeboat into their Exchange Sent Items (server/sent-items). */
export interface SentItemsRun {
  state: 'never' | 'running' | 'done' | 'unavailable' | 'failed';
  /** An administrator started it, or the end of a continuity event did (by itself, once per event). */
  trigger?: 'admin' | 'eventEnded';
  total?: number;
  copied?: number;
  skipped?: number;
  failed?: number;
  withoutAttachments?: number;
  lastError?: string | null;
  reason?: string | null;
  startedAt?: string;
  finishedAt?: string | null;
}
export const sentItems = {
  progress: () => api<SentItemsRun>('GET', '/api/sent-items/write-back'),
  start: () => api<SentItemsRun>('POST', '/api/sent-items/write-back'),
};

/** Which groups may use the end-user apps (pane mail, web inbox, sending); null: everyone. */
export const endUserAccess = {
  get: () => api<{ groupIds: string[] | null }>('GET', '/api/end-user-access'),
  put: (groupIds: string[] | null) => api<{ groupIds: string[] | null }>('PUT', '/api/end-user-access', { groupIds }),
};

export const monitors = {
  list: () => api<MonitorView[]>('GET', '/api/monitors'),
  create: (body: MonitorInput) => api<MonitorView>('POST', '/api/monitors', body),
  update: (monitorId: string, body: MonitorInput) => api<MonitorView>('PUT', `/api/monitors/${monitorId}`, body),
  /** The operator's actions: `suppress` (with hours), `resume`, `auto-activation/cancel`. */
  act: (monitorId: string, action: 'suppress' | 'resume' | 'auto-activation/cancel', body: { hours?: number } = {}) =>
    api<unknown>('POST', `/api/monitors/${monitorId}/${action}`, body),
  series: (monitorId: string, range: string) => api<MonitorSeries>('GET', `/api/monitors/${monitorId}/series${query({ range })}`),
  log: (monitorId: string, filter: MonitorLogFilter, cursor: string | null, limit: number) =>
    api<Page<MonitorLogEntry>>('GET', `/api/monitors/${monitorId}/log${query({ ...filter, cursor, limit: String(limit) })}`),
};

export interface AuditQuery {
  category?: string;
  actor?: string;
  from?: string;
  to?: string;
}

export const audit = {
  entries: (filter: AuditQuery, cursor: string | null, limit: number) =>
    api<Page<AuditEntry>>('GET', `/api/audit${query({ ...filter, cursor, limit: String(limit) })}`),
  /** The same filters as a CSV download (a link, not a fetch). */
  csvUrl: (filter: AuditQuery) => `/api/audit/export.csv${query({ ...filter })}`,
};

export const readiness = {
  dns: () => api<DnsReport>('GET', '/api/readiness/dns'),
  users: () => api<UserFigures>('GET', '/api/readiness/users'),
  settings: () => api<ReadinessSettings>('GET', '/api/readiness/settings'),
  saveSettings: (body: ReadinessSettingsInput) => api<ReadinessSettings>('PUT', '/api/readiness/settings', body),
  /** Without a host the server checks against its own SMTP host name. */
  exchange: (lifeboatHost: string | null, routeThroughLifeboat: boolean) =>
    api<ExchangeReadiness>(
      'GET',
      `/api/readiness/exchange${query({ ...(lifeboatHost ? { lifeboatHost } : {}), routeThroughLifeboat: String(routeThroughLifeboat) })}`,
    ),
};

export const addin = {
  /** The pane's runtime settings (public): the continuity inbox address users are given. */
  config: () => api<AddinConfig>('GET', '/addin/config.json'),
};

export const protection = {
  policies: () => api<PolicyList>('GET', '/api/protection/policies'),
  createPolicy: (body: PolicyInput) => api<ProtectionPolicy>('POST', '/api/protection/policies', body),
  savePolicy: (policyId: string, body: PolicyInput) => api<ProtectionPolicy>('PUT', `/api/protection/policies/${id(policyId)}`, body),
  removePolicy: (policyId: string) => api<null>('DELETE', `/api/protection/policies/${id(policyId)}`),
};

export interface QuarantineFilter {
  verdict?: VerdictKind | '';
  recipient?: string;
}

export const quarantine = {
  list: (filter: QuarantineFilter, cursor: string | null) => api<Page<QuarantineEntry>>('GET', `/api/quarantine${query({ ...filter, cursor })}`),
  get: (entryId: string) => api<QuarantineDetail>('GET', `/api/quarantine/${id(entryId)}`),
  release: (entryId: string, reason: string, force = false) => api<QuarantineEntry>('POST', `/api/quarantine/${id(entryId)}/release`, { reason, force }),
  remove: (entryId: string) => api<null>('DELETE', `/api/quarantine/${id(entryId)}`),
};

export interface DetectionFilter {
  verdict?: VerdictKind | 'threats' | '';
  kind?: 'verdict' | 'report' | '';
  from?: string;
  to?: string;
}

export const detections = {
  list: (filter: DetectionFilter, cursor: string | null, limit: number) =>
    api<Page<Detection>>('GET', `/api/protection/detections${query({ ...filter, cursor, limit: String(limit) })}`),
  /** The same filters as a CSV download (a link, not a fetch). */
  csvUrl: (filter: DetectionFilter) => `/api/protection/detections/export.csv${query({ ...filter })}`,
  series: (range: '24h' | '7d') => api<DetectionSeries>('GET', `/api/protection/detections/series${query({ range })}`),
};

export const threatScans = {
  list: () => api<{ items: ThreatScanView[] }>('GET', '/api/threat-scans'),
  start: (body: { days: number; targets?: { groupIds: string[]; userIds: string[] } }) => api<ThreatScanView>('POST', '/api/threat-scans', body),
  end: (scanId: string) => api<ThreatScanView>('POST', `/api/threat-scans/${id(scanId)}/end`),
  resume: (scanId: string) => api<ThreatScanView>('POST', `/api/threat-scans/${id(scanId)}/resume`),
  report: (scanId: string) => api<ThreatScanReport>('GET', `/api/threat-scans/${id(scanId)}/report`),
  /** The report as formula-safe CSV (a link, not a fetch). */
  csvUrl: (scanId: string) => `/api/threat-scans/${id(scanId)}/report.csv`,
  remediate: (scanId: string, body: RemediationInput) => api<RemediationView>('POST', `/api/threat-scans/${id(scanId)}/remediate`, body),
  undo: (scanId: string) => api<RemediationView>('POST', `/api/threat-scans/${id(scanId)}/undo`, {}),
  remediations: (scanId: string) => api<{ items: RemediationView[] }>('GET', `/api/threat-scans/${id(scanId)}/remediations`),
};

export const continuousProtection = {
  get: () => api<ContinuousStatus>('GET', '/api/continuous-protection'),
  set: (enabled: boolean) => api<ContinuousStatus>('PUT', '/api/continuous-protection', { enabled }),
};

export const exchangeSetup = {
  powershell: (lifeboatHost: string, arcSealer: string, routeThroughLifeboat: boolean) =>
    api<ExchangePowerShell>('GET', `/api/exchange-setup/powershell${query({ lifeboatHost, arcSealer, routeThroughLifeboat: String(routeThroughLifeboat) })}`),
};
