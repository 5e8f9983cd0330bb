/** Composes the models and services of one database connection. main.ts and the tests both use it. */
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { auditModel } from './audit/model';
import { createAuditService } from './audit/service';
import { createEndUserAccess } from './inbox/access';
import { createAdminService } from './auth/admins';
import { adminModel, attemptSlotModel, dropGlobalAdminEmailIndex, sessionModel } from './auth/model';
import { createAuthService } from './auth/service';
import { clientReportModel } from './clients/model';
import { createClientService } from './clients/service';
import { bannerReceiptModel, statusEpochModel } from './push/model';
import { createReceiptService } from './push/receipts';
import { createStatusService } from './push/status';
import { userCredentialModel } from './user-auth/model';
import { createPasswordImport } from './user-auth/import';
import { createUserAuthService } from './user-auth/service';
import { createRevocation, tokenGenerationModel } from './user-auth/revocation';
import { createTokenVerifier, type EntraSettings } from './user-auth/tokens';
import { createLoginThrottle } from './auth/throttle';
import { adminPolicyModel, createTwoFactor, usedCodeModel } from './auth/two-factor';
import { directoryGroupModel, directoryUserModel } from './directory/model';
import { createSyncedStore } from './directory/synced-store';
import { createSyncedViews } from './directory/synced-view';
import { syncStateModel } from './directory/graph/model';
import { snapshotDirectory } from './directory/graph/materialize';
import { createSyncStore } from './directory/graph/store';
import { eventModel, transitionModel } from './events/model';
import { createScheduler } from './events/scheduler';
import { createEventService } from './events/service';
import { PUBLIC_CLOUD, type GraphEndpoints } from './directory/graph/client';
import { createEntra } from './directory/graph/index';
import { createDirectoryService } from './directory/service';
import { createSecretBox } from './secrets/seal';
import { createTargetGuard } from './http/private-target';
import { tenantModel } from './tenants/model';
import { createTenantService } from './tenants/service';
import { mailModels } from './mail/model';
import { createMailService, type MailOptions } from './mail/service';
import { SIGNING_KEY_PURPOSE } from './mail/signing-key';
import { dropRetiredCollections } from './db/retired';
import { readinessSettingsModel } from './readiness/model';
import { createReadinessService } from './readiness/service';
import { reportSnapshotModel } from './reports/model';
import { createReportService } from './reports/service';
import { monitorModels } from './monitor/model';
import { createMailQueueAdmin } from './mail/admin-queue';
import { monitorResetOverride } from './monitor/reset-policy';
import { createMonitorService, type MonitorOptions } from './monitor/service';
import { createProbeMessages } from './monitor/probe-message';
import { notifyAlertSender } from './monitor/alerts';
import { createPortalService } from './portal/service';
import { createReactions } from './reactions/bus';
import { wireServices } from './reactions/wiring';
import { notifyModels } from './notify/model';
import { createNotifyService } from './notify/index';
import type { NotifyRetryPolicy } from './notify/service';
import { createProtection, type ProtectionOptions } from './protection/index';
import { NO_ENGINES } from './protection/engines';
import { createDnsLookup } from './protection/dns';
import type { ReleasedCopy } from './protection/mail-side';
import { sentItemsModels } from './sent-items/model';
import { createEntraProbe } from './inbox/entra-probe';
import { createEntraSignIn } from './inbox/entra-sign-in';
import { handoverModel } from './inbox/entra-handover-model';
import { createSentItemsWriteBack } from './sent-items/service';
import { createThreatScanService, type MessageJudge } from './threat-scan/index';
import type { ThreatScanOptions } from './threat-scan/service';
import { createProtectionJudge } from './threat-scan/protection-judge';
import type { ContinuousOptions } from './threat-scan/continuous';

export interface ServiceOptions {
  sessionHours: number;
  logger: Logger;
  now?: () => Date;
  /** The scheduler's longest sleep between looks at the database. */
  schedulerPollMs?: number;
  /** LIFEBOAT_SECRET: signs user tokens; stored credentials are encrypted with a key derived from it. */
  secret: string;
  graph?: GraphEndpoints;
  entra?: EntraSettings;
  userTokenMinutes?: number;
  /** Mail continuity tuning (retry policy, worker poll, release rate); defaults suit production. */
  mail?: Pick<MailOptions, 'retry' | 'deliveryPollMs' | 'deliveryLeaseMs' | 'releasePerSecond' | 'hostname'>;
  /** LIFEBOAT_PUBLIC_URL: links and the SMS gateway's inbound (STOP) URL are built from it. */
  publicUrl?: string;
  /** Notification tuning: retry policy, takeover of a dead sender's claims, the event-SMS loop's poll. */
  notify?: { retry?: Partial<NotifyRetryPolicy>; claimLeaseMs?: number; pollMs?: number; hostname?: string };
  /** LIFEBOAT_ALLOWED_PRIVATE_TARGETS: private hosts/ranges tenants may configure (tests: loopback). */
  allowedPrivateTargets?: string[];
  /** LIFEBOAT_MONITOR_DOMAINS: the server's own domains for monitor addresses, besides the mail host name. */
  monitorDomains?: string[];
  /** LIFEBOAT_ADMIN_EMAIL_DOMAINS: domains admins of any tenant may use besides the tenant's own (`*`: any). */
  adminEmailDomains?: string[];
  /** Continuity monitor tuning (tests: short minutes and ticks) and its alert channels. */
  monitor?: Partial<Pick<MonitorOptions, 'minuteMs' | 'tickMs' | 'alerts'>>;
  /** Protection engines and DNS (main.ts: from LIFEBOAT_RSPAMD_URL/CLAMD/DNS_SERVERS); none: every message is unscanned. */
  protection?: Partial<Pick<ProtectionOptions, 'engines' | 'dnsServers' | 'timeouts' | 'dataTimePolicyCacheMs' | 'defaultMode' | 'quarantineRetentionDays'>> & {
    deliverReleased?: (copy: ReleasedCopy) => Promise<void>;
  };
  /** Threat Scan tuning, and the judge it runs messages through (default: server/protection's pipeline). */
  threatScan?: ThreatScanOptions & { judge?: MessageJudge; continuous?: ContinuousOptions };
}

const NO_ENTRA: EntraSettings = { audiences: [], authority: 'https://login.microsoftonline.com', scope: 'access_as_user' };

export function createServices(conn: Connection, options: ServiceOptions) {
  // Who reacts to whom (event start, end, edit; directory changes) is in reactions/catalogue.ts; wired below.
  const reactions = createReactions(options.logger);
  // The SSRF guard for every host a tenant configures (server/http/private-target.ts).
  const targets = createTargetGuard({ allowed: options.allowedPrivateTargets ?? [] });
  const tenants = createTenantService(tenantModel(conn));
  const audit = createAuditService(auditModel(conn));
  // Connected tenants' synced directories: generations written by the Entra sync, read in memory.
  const syncedStore = createSyncedStore(conn);
  const syncedViews = createSyncedViews({
    states: syncStateModel(conn),
    store: syncedStore,
    fromSnapshot: (tenantId, generation) => snapshotDirectory(createSyncStore(conn), tenantId, generation),
  });
  const directory = createDirectoryService({
    users: directoryUserModel(conn),
    groups: directoryGroupModel(conn),
    synced: syncedViews,
    tenants,
  });
  const throttle = createLoginThrottle({ slots: attemptSlotModel(conn), now: options.now ?? (() => new Date()) });
  const admins = createAdminService({
    admins: adminModel(conn),
    sessions: sessionModel(conn),
    audit,
    throttle,
    tenants,
    emailDomains: options.adminEmailDomains,
  });
  const twoFactor = createTwoFactor({
    admins: adminModel(conn),
    policies: adminPolicyModel(conn),
    used: usedCodeModel(conn),
    box: createSecretBox(options.secret, 'lifeboat admin two-factor v1'),
    audit,
    now: options.now ?? (() => new Date()),
  });
  const auth = createAuthService({
    admins: adminModel(conn),
    sessions: sessionModel(conn),
    throttle,
    audit,
    tenants,
    twoFactor,
    sessionHours: options.sessionHours,
    now: options.now,
  });
  const scheduler = createScheduler({
    events: eventModel(conn),
    transitions: transitionModel(conn),
    logger: options.logger,
    pollMs: options.schedulerPollMs,
    now: options.now,
  });
  const events = createEventService({
    events: eventModel(conn),
    transitions: transitionModel(conn),
    directory,
    audit,
    now: options.now,
  });
  const entra = createEntra(conn, {
    box: createSecretBox(options.secret),
    endpoints: options.graph ?? PUBLIC_CLOUD,
    tenants,
    logger: options.logger,
    now: options.now,
    synced: { store: syncedStore, prime: syncedViews.prime },
    onSynced: (tenantId) => directory.syncedChanged(tenantId),
  });
  directory.useSyncedDirectoryFor((tenantId) => entra.connections.isConnected(tenantId));
  const tenantOfEntraTenant = async (tid: string) => (await tenants.byEntraTenantId(tid))?.id ?? (await entra.connections.tenantOfEntraTenant(tid));
  const tokens = createTokenVerifier({
    secret: options.secret,
    entra: options.entra ?? NO_ENTRA,
    tokenMinutes: options.userTokenMinutes ?? 60,
    isKnownEntraTenant: async (tid) => Boolean(await tenantOfEntraTenant(tid)),
  });
  const userAuth = createUserAuthService({
    credentials: userCredentialModel(conn),
    directory,
    tenants,
    audit,
    throttle,
    tokens,
    revocation: createRevocation({ generations: tokenGenerationModel(conn), directory, now: options.now ?? (() => new Date()) }),
    tenantOfEntraTenant,
    now: options.now,
  });
  const status = createStatusService({ events: events.coverage, epochs: statusEpochModel(conn), directory, now: options.now });
  const receipts = createReceiptService({ receipts: bannerReceiptModel(conn), status, logger: options.logger, now: options.now });
  const clients = createClientService({ reports: clientReportModel(conn), now: options.now });
  const mail = createMailService({
    models: mailModels(conn),
    tenants,
    directory,
    events: events.coverage,
    audit,
    logger: options.logger,
    now: options.now,
    targets,
    // Tenants' signing keys sealed under their own purpose; DNS as sender authentication resolves it.
    signing: {
      box: createSecretBox(options.secret, SIGNING_KEY_PURPOSE),
      lookup: createDnsLookup({ servers: options.protection?.dnsServers ?? [], timeoutMs: options.protection?.timeouts?.dnsMs }),
    },
    ...options.mail,
  });
  const monitorStore = monitorModels(conn);
  const notify = createNotifyService({
    models: notifyModels(conn),
    resetOverride: monitorResetOverride(monitorStore),
    audit,
    box: createSecretBox(options.secret, 'lifeboat notification secrets v1'),
    targets,
    logger: options.logger,
    publicUrl: options.publicUrl,
    now: options.now,
    directory,
    tenants,
    events: events.coverage,
    throttle,
    userAuth,
    secret: options.secret,
    ...options.notify,
  });
  const reports = createReportService({
    events,
    audit,
    directory,
    clients,
    mail,
    receipts,
    snapshots: reportSnapshotModel(conn),
    now: options.now,
    // The monitor is composed below; the report asks it only when a report is requested.
    detection: (tenantId, source) => monitor.detectionOf(tenantId, source),
    smsRuns: notify.smsRuns.runsOf,
    // Protection is composed below; the report asks it only when a report is requested.
    threats: (tenantId, window) => protection.detections.threatFigures(tenantId, window),
  });
  mail.useReportFigures(reports.keepFiguresBefore);
  const readiness = createReadinessService({
    directory,
    userAuth,
    smsOptedIn: notify.consents.optedInRecipients,
    settings: readinessSettingsModel(conn),
    audit,
    now: options.now,
  });
  const monitor = createMonitorService({
    models: monitorStore,
    tenants,
    directory,
    events,
    mail,
    entra,
    audit,
    targets,
    logger: options.logger,
    secret: options.secret,
    publicUrl: options.publicUrl ?? 'http://localhost:3000',
    hostname: options.mail?.hostname ?? 'lifeboat.local',
    monitorDomains: options.monitorDomains ?? [],
    alerts: options.monitor?.alerts ?? notifyAlertSender(notify),
    now: options.now,
    minuteMs: options.monitor?.minuteMs,
    tickMs: options.monitor?.tickMs,
  });
  const protection = createProtection(
    conn,
    { directory, tenants, audit, mail: mail.protectionSide(options.protection?.deliverReleased) },
    { engines: () => NO_ENGINES, dnsServers: [], hostname: options.mail?.hostname ?? 'lifeboat.local', now: options.now, ...options.protection },
  );
  // Every inbound message is judged between the 250 and placement (server/mail/protect.ts).
  mail.useProtection({
    protectMany: protection.pipeline.protectMany,
    verdictOf: protection.verdicts.get,
    quarantinedMessages: protection.quarantine.heldMessageIds,
    forgetVerdicts: protection.verdicts.forget,
  });
  const portal = createPortalService({ monitor, events, directory, audit, secret: options.secret, now: options.now });
  const threatScan = createThreatScanService(conn, {
    entra,
    directory,
    audit,
    admins,
    notify,
    logger: options.logger,
    // The protection pipeline judges what the scan reads (one verdict model, `source: graph`); tests may pass their own.
    judge: options.threatScan?.judge ?? createProtectionJudge(protection),
    protection: { policies: protection.policies, quarantine: protection.quarantine },
    publicUrl: options.publicUrl,
    now: options.now,
    options: options.threatScan,
  });
  // A copy continuous protection quarantined in a mailbox is released by moving it back there.
  protection.quarantine.useMailboxSource(threatScan.mailboxRelease);
  const endUserAccess = createEndUserAccess(conn, { directory, audit });
  const sentItems = createSentItemsWriteBack({
    models: sentItemsModels(conn),
    mail: mail.models,
    graph: (tenantId) => entra.api(tenantId),
    connected: (tenantId) => entra.connections.isConnected(tenantId),
    audit,
    logger: options.logger,
    now: options.now,
  });
  wireServices(reactions, {
    scheduler,
    events,
    directory,
    sync: entra.sync,
    mail,
    notify,
    monitor,
    status,
    connections: entra.connections,
    threatScan,
    userAuth,
    protection,
    endUserAccess,
    sentItems,
  });
  return {
    reactions,
    targets,
    tenants,
    audit,
    directory,
    admins,
    twoFactor,
    auth,
    events,
    scheduler,
    tokens,
    userAuth,
    status,
    receipts,
    clients,
    entra,
    mail,
    passwordImport: createPasswordImport({ directory, audit, store: userAuth.storeCloudPassword, now: options.now ?? (() => new Date()) }),
    mailQueue: createMailQueueAdmin({ models: mail.models, audit, now: options.now ?? (() => new Date()), wake: () => mail.worker.wake() }),
    notify,
    monitor,
    portal,
    reports,
    readiness,
    /** The host name Lifeboat's SMTP service presents (the readiness MX check's default). */
    smtpHostname: options.mail?.hostname ?? 'lifeboat.local',
    /** The continuity monitor's latest inbound probe message with its headers (readiness's ARC check). */
    probeMessages: createProbeMessages({
      models: monitorStore,
      graph: (tenantId) => entra.api(tenantId),
      hostname: options.mail?.hostname ?? 'lifeboat.local',
    }),
    protection,
    threatScan,
    /** Which users may use the end-user mail tools (the pane's mailbox, the web inbox, sending). */
    endUserAccess,
    /** What users sent through Lifeboat, copied into their Exchange Sent Items when Exchange is back. */
    sentItems,
    /** The web inbox's "Sign in with Microsoft" (authorization code + PKCE with the tenant's Entra connection). */
    inboxSignIn: createEntraSignIn({
      publicUrl: options.publicUrl ?? 'http://localhost:3000',
      loginUrl: (options.graph ?? PUBLIC_CLOUD).loginUrl,
      tenants,
      connections: entra.connections,
      directory,
      userAuth,
      probe: createEntraProbe({ loginUrl: (options.graph ?? PUBLIC_CLOUD).loginUrl }),
      handovers: handoverModel(conn),
      box: createSecretBox(options.secret, 'lifeboat inbox sign-in v1'),
      logger: options.logger,
      now: options.now,
    }),
  };
}
export type Services = ReturnType<typeof createServices>;

/** Builds every index before traffic arrives (unique indexes are what make claims safe). */
export async function syncIndexes(conn: Connection): Promise<void> {
  await dropGlobalAdminEmailIndex(conn);
  await dropRetiredCollections(conn);
  for (const model of Object.values(conn.models)) await model.createIndexes();
}
