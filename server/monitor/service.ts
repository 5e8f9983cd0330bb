/**
 * The continuity monitor: configuration per tenant (several monitors), the window loop that runs the
 * checks and the detector, alerts with signed portal links, the detection log and its series.
 *
 * Several server processes may run the loop on one database: each window `<monitor>:<windowStart>`
 * is claimed by inserting a document under that unique _id, so exactly one process runs it.
 */
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { Types } from 'mongoose';
import type { Logger } from 'pino';
import { csvHeader, csvRow } from '../audit/csv';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import type { Entra } from '../directory/graph/index';
import type { DirectoryService } from '../directory/service';
import type { EventService, EventView } from '../events/service';
import { conflict, notFound, unprocessable, type FieldError } from '../http/problem';
import { isDuplicateKey } from '../mail/model';
import type { MailInterceptor, MailService } from '../mail/service';
import type { TenantService } from '../tenants/service';
import { PORTAL_LINK_HOURS, signPortalToken } from '../portal/token';
import { createAddressBook } from './address-book';
import type { AlertMessage, AlertResult, AlertSender } from './alerts';
import { createChecks, probeIdOf, type CheckRow } from './checks';
import { decide, directionThresholds } from './detector';
import {
  INITIAL_STATE,
  type AlertRecord,
  type CheckKind,
  type Decision,
  type LogRecord,
  type MonitorModels,
  type MonitorRecord,
  type MonitorSettings,
  type Outcome,
} from './model';

/** The API input: the address may be left out (one is made up). */
export type MonitorInput = Omit<MonitorSettings, 'address'> & { address?: string };

export interface LogFilter {
  check?: CheckKind;
  outcome?: Outcome;
  decision?: Decision;
  from?: Date;
  to?: Date;
}

interface Context {
  ip: string | null;
  requestId: string | null;
}

export class InvalidLogCursorError extends Error {}

export interface MonitorOptions {
  models: MonitorModels;
  tenants: TenantService;
  directory: DirectoryService;
  events: EventService;
  mail: MailService;
  entra: Entra;
  audit: AuditService;
  logger: Logger;
  secret: string;
  /** Where portal links point (LIFEBOAT_PUBLIC_URL). */
  publicUrl: string;
  /** The host name of the default monitor addresses and of inbound test messages. */
  hostname: string;
  alerts: AlertSender;
  now?: () => Date;
  /** Milliseconds per configured minute (tests use short windows: 1000 makes a 2-minute window 2 s). */
  minuteMs?: number;
  /** How often the loop looks for windows to start. */
  tickMs?: number;
}

const LOG_PAGE = 50;
const LOG_RETENTION_DAYS = 30;
const WINDOW_DEADLINE = 0.85;

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const newId = (prefix: string) => `${prefix}${randomBytes(8).toString('hex')}`;

function encodeCursor(r: Pick<LogRecord, 'at' | '_id'>): string {
  return Buffer.from(`${r.at.getTime()}:${r._id.toHexString()}`).toString('base64url');
}
function decodeCursor(cursor: string): { at: Date; id: Types.ObjectId } {
  const [ms, id] = Buffer.from(cursor, 'base64url').toString().split(':');
  if (!/^\d+$/.test(ms ?? '') || !Types.ObjectId.isValid(id ?? '')) throw new InvalidLogCursorError('cursor is not valid');
  return { at: new Date(Number(ms)), id: new Types.ObjectId(id) };
}

export const LOG_CSV_COLUMNS = [
  'time',
  'monitor',
  'check',
  'route',
  'testMessageId',
  'address',
  'latencyMs',
  'outcome',
  'error',
  'failureCountAfter',
  'decision',
  'alertId',
];

export function createMonitorService(options: MonitorOptions) {
  const { models, tenants, directory, events, mail, entra, audit, logger } = options;
  const now = options.now ?? (() => new Date());
  const addressBook = createAddressBook(() => models.addresses.find({}, { _id: 1, tenantId: 1 }).lean());
  const minuteMs = options.minuteMs ?? 60_000;
  const tickMs = options.tickMs ?? 1000;
  const node = `${osHostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  let sender = options.alerts;
  const checks = createChecks({ models, now, pollMs: Math.max(50, Math.min(2000, minuteMs / 30)), hostname: options.hostname });

  const windowMs = (m: Pick<MonitorRecord, 'windowMinutes'>) => m.windowMinutes * minuteMs;
  const suppressedNow = (m: MonitorRecord) => m.suppressedUntil !== null && m.suppressedUntil > now();

  function autoActivationView(m: MonitorRecord) {
    if (!m.autoActivation.enabled) return { enabled: false, afterMinutes: m.autoActivation.afterMinutes, firesAt: null, cancelled: false, eventId: null };
    const detectedAt = m.state.detected ? m.state.detectedAt : null;
    const cancelled = Boolean(detectedAt && m.autoActivationCancelledAt && m.autoActivationCancelledAt >= detectedAt);
    const answered = Boolean(detectedAt && m.answeredAt && m.answeredAt >= detectedAt);
    const pending = detectedAt && !m.state.autoActivatedAt && !cancelled && !answered;
    return {
      enabled: true,
      afterMinutes: m.autoActivation.afterMinutes,
      firesAt: pending ? new Date(detectedAt!.getTime() + m.autoActivation.afterMinutes * minuteMs).toISOString() : null,
      cancelled: cancelled || answered,
      eventId: m.state.autoEventId,
    };
  }

  const directionView = (d: MonitorRecord['inbound']) => ({
    enabled: d.enabled,
    latencyThresholdSeconds: d.latencyThresholdSeconds ?? null,
    failureThreshold: d.failureThreshold ?? null,
  });

  async function view(m: MonitorRecord, warnings: FieldError[] = []) {
    const group = m.defaultGroupId ? await directory.getGroup(m.tenantId, m.defaultGroupId) : null;
    return {
      id: m._id,
      name: m.name,
      enabled: m.enabled,
      inbound: directionView(m.inbound),
      outbound: directionView(m.outbound),
      probeMailbox: m.probeMailbox,
      address: m.address,
      latencyThresholdSeconds: m.latencyThresholdSeconds,
      failureThreshold: m.failureThreshold,
      windowMinutes: m.windowMinutes,
      repeatMinutes: m.repeatMinutes,
      alertRecipients: { sms: [...m.alertRecipients.sms], email: [...m.alertRecipients.email] },
      defaultGroupId: m.defaultGroupId,
      defaultGroup: m.defaultGroupId ? { id: m.defaultGroupId, displayName: group?.displayName ?? null } : null,
      defaultDurationHours: m.defaultDurationHours,
      timeZone: m.timeZone,
      autoActivation: { enabled: m.autoActivation.enabled, afterMinutes: m.autoActivation.afterMinutes },
      cloudPasswordReset: m.cloudPasswordReset ?? 'inherit',
      state: {
        status: m.state.detected ? ('detected' as const) : ('normal' as const),
        failureCount: m.state.failureCount,
        detectedAt: iso(m.state.detectedAt),
        lastAlertAt: iso(m.state.lastAlertAt),
        lastWindowStart: iso(m.state.lastWindowStart),
        lastDecision: m.state.lastDecision,
        suppressedUntil: suppressedNow(m) ? iso(m.suppressedUntil) : null,
        autoActivation: autoActivationView(m),
      },
      createdAt: m.createdAt.toISOString(),
      updatedAt: m.updatedAt.toISOString(),
      ...(warnings.length ? { warnings } : {}),
    };
  }
  type MonitorView = Awaited<ReturnType<typeof view>>;

  async function load(tenantId: string, id: string): Promise<MonitorRecord> {
    const m = typeof id === 'string' && /^[A-Za-z0-9]{4,40}$/.test(id) ? await models.monitors.findById(id).lean<MonitorRecord>() : null;
    if (!m || m.tenantId !== tenantId) throw notFound('monitor');
    return m;
  }

  /** Rules beyond the shape: the group exists; warnings for alert addresses inside the tenant's own domains. */
  async function check(tenantId: string, input: MonitorInput): Promise<FieldError[]> {
    const errors: FieldError[] = [];
    if (input.defaultGroupId && !(await directory.getGroup(tenantId, input.defaultGroupId))) {
      errors.push({ path: 'defaultGroupId', message: `no group "${input.defaultGroupId}" in this tenant's directory` });
    }
    if (input.autoActivation.enabled && !input.defaultGroupId)
      errors.push({ path: 'autoActivation.enabled', message: 'auto-activation needs a default affected group' });
    if (input.outbound.enabled && !input.probeMailbox) errors.push({ path: 'probeMailbox', message: 'the outbound check needs a probe mailbox' });
    if (input.inbound.enabled && !input.probeMailbox)
      errors.push({ path: 'probeMailbox', message: 'the inbound check needs a probe mailbox (its arrival is confirmed there)' });
    if (errors.length) throw unprocessable(errors);
    const tenant = await tenants.get(tenantId);
    const own = new Set((tenant?.domains ?? []).map((d) => d.toLowerCase()));
    const warnings: FieldError[] = [];
    input.alertRecipients.email.forEach((address, i) => {
      const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
      if (own.has(domain) || [...own].some((d) => domain.endsWith(`.${d}`))) {
        warnings.push({
          path: `alertRecipients.email.${i}`,
          message: `${address} is inside your own domain ${domain}: during an outage it may not receive the alert. Add an external address too.`,
        });
      }
    });
    return warnings;
  }

  async function releaseAddress(filter: { _id: string; monitorId?: string }): Promise<void> {
    await models.addresses.deleteOne(filter);
    addressBook.forget();
  }

  async function claimAddress(tenantId: string, monitorId: string, address: string): Promise<void> {
    try {
      await models.addresses.create({ _id: address, tenantId, monitorId });
      addressBook.forget();
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const existing = await models.addresses.findById(address).lean();
      if (existing?.monitorId !== monitorId) throw unprocessable([{ path: 'address', message: 'this address is already used by another monitor' }]);
    }
  }

  const settingsOf = (input: MonitorInput) => ({
    name: input.name,
    enabled: input.enabled,
    inbound: input.inbound,
    outbound: input.outbound,
    probeMailbox: input.probeMailbox,
    latencyThresholdSeconds: input.latencyThresholdSeconds,
    failureThreshold: input.failureThreshold,
    windowMinutes: input.windowMinutes,
    repeatMinutes: input.repeatMinutes,
    alertRecipients: input.alertRecipients,
    defaultGroupId: input.defaultGroupId,
    defaultDurationHours: input.defaultDurationHours,
    timeZone: input.timeZone,
    autoActivation: input.autoActivation,
    cloudPasswordReset: input.cloudPasswordReset,
  });
  const auditable = (m: Partial<MonitorRecord>) => {
    const {
      state: _s,
      _id: _i,
      tenantId: _t,
      createdAt: _c,
      updatedAt: _u,
      suppressedUntil: _x,
      answeredAt: _a,
      autoActivationCancelledAt: _z,
      ...rest
    } = m as MonitorRecord;
    return JSON.parse(JSON.stringify(rest));
  };

  // ---- alerts -------------------------------------------------------------------------------

  function portalUrl(alert: Pick<AlertRecord, '_id' | 'tenantId' | 'monitorId' | 'expiresAt'>): string {
    const token = signPortalToken(options.secret, { tenantId: alert.tenantId, monitorId: alert.monitorId, alertId: alert._id, expiresAt: alert.expiresAt });
    return `${options.publicUrl.replace(/\/+$/, '')}/portal/${token}`;
  }

  async function sendAlert(m: MonitorRecord, kind: 'alert' | 'recovered', detail: string, detectedAt: Date | null): Promise<AlertRecord> {
    const at = now();
    const alert: AlertRecord = {
      _id: newId('al'),
      tenantId: m.tenantId,
      monitorId: m._id,
      kind,
      at,
      expiresAt: new Date(at.getTime() + PORTAL_LINK_HOURS * 3600_000),
      detectedAt,
      results: [],
    };
    const url = portalUrl(alert);
    const message: AlertMessage = {
      tenantId: m.tenantId,
      monitorId: m._id,
      monitorName: m.name,
      alertId: alert._id,
      kind,
      portalUrl: url,
      recipients: m.alertRecipients,
      sms:
        kind === 'alert'
          ? `Lifeboat: mail flow problem detected by monitor "${m.name}". Act (24 h link): ${url}`
          : `Lifeboat: monitor "${m.name}" recovered; mail flows again. ${url}`,
      subject: kind === 'alert' ? `[Lifeboat] Mail flow problem detected: ${m.name}` : `[Lifeboat] Recovered: ${m.name}`,
      text:
        kind === 'alert'
          ? `The continuity monitor "${m.name}" detected a mail flow problem.\n\n${detail}\n\nStart, extend or end a continuity event, or suppress these alerts, from the continuity portal (link valid ${PORTAL_LINK_HOURS} hours):\n${url}\n\nAlert id: ${alert._id}\n`
          : `The continuity monitor "${m.name}" recovered: its failure counter is back below the threshold.\n\n${detail}\n\nContinuity portal (link valid ${PORTAL_LINK_HOURS} hours):\n${url}\n\nAlert id: ${alert._id}\n`,
    };
    let results: AlertResult[];
    try {
      results = await sender.send(message);
    } catch (err) {
      results = [{ channel: 'email', recipient: '*', ok: false, error: (err as Error).message }];
    }
    alert.results = results.map((r) => ({ channel: r.channel, recipient: r.recipient, ok: r.ok, error: r.error ?? null }));
    await models.alerts.create(alert);
    return alert;
  }

  // ---- the window ---------------------------------------------------------------------------

  async function appendLog(m: MonitorRecord, windowStart: Date, rows: Omit<LogRecord, '_id' | 'tenantId' | 'monitorId' | 'windowStart'>[]) {
    if (!rows.length) return;
    await models.log.insertMany(rows.map((r) => ({ ...r, tenantId: m.tenantId, monitorId: m._id, windowStart })));
  }

  const skipped = (check: 'outbound' | 'inbound', error: string): CheckRow => ({
    check,
    route: null,
    probeId: null,
    address: null,
    latencyMs: null,
    outcome: 'skipped',
    error,
  });

  async function runChecks(m: MonitorRecord, deadline: number): Promise<{ outbound: CheckRow | null; inbound: CheckRow[] }> {
    const api = m.inbound.enabled || m.outbound.enabled ? await entra.api(m.tenantId).catch(() => null) : null;
    const notConnected = 'the tenant is not connected to Entra ID (Graph), so the probe mailbox cannot be used';
    const outbound = !m.outbound.enabled ? null : api ? checks.outbound(m, api, deadline) : Promise.resolve(skipped('outbound', notConnected));
    let inbound: Promise<CheckRow[]> = Promise.resolve([]);
    if (m.inbound.enabled) {
      const routes = (await mail.getSettings(m.tenantId)).primaryServers;
      if (!routes.length) inbound = Promise.resolve([skipped('inbound', 'no primary servers in the mail settings')]);
      else if (!api) inbound = Promise.resolve([skipped('inbound', notConnected)]);
      else inbound = checks.inbound(m, api, routes, deadline);
    }
    const settle = <T>(p: Promise<T>, fallback: (e: unknown) => T) => p.catch(fallback);
    const [o, i] = await Promise.all([
      outbound ? settle(outbound, (e) => ({ ...skipped('outbound', ''), outcome: 'failed' as Outcome, error: (e as Error).message })) : null,
      settle(inbound, (e) => [{ ...skipped('inbound', ''), outcome: 'failed' as Outcome, error: (e as Error).message }]),
    ]);
    return { outbound: o, inbound: i };
  }

  const bad = (r: CheckRow) => r.outcome === 'failed' || r.outcome === 'slow';

  async function startEventFor(
    m: MonitorRecord,
    by: AdminIdentity,
    input: { groupId: string; durationHours: number; description?: string },
    context: Context,
  ): Promise<EventView> {
    const start = now();
    return events.create(
      by,
      {
        description: input.description ?? `Mail flow problem detected by monitor ${m.name}`.slice(0, 200),
        affectedGroupId: input.groupId,
        timeZone: m.timeZone,
        start: start.toISOString(),
        end: new Date(start.getTime() + input.durationHours * 3600_000).toISOString(),
        notes: `Started for continuity monitor "${m.name}".`,
      },
      context,
    );
  }

  /** Runs one window of a monitor (claimed by the caller) and decides. Exposed for tests. */
  async function runWindow(monitorId: string, windowStart: Date): Promise<Decision | null> {
    const first = await models.monitors.findById(monitorId).lean<MonitorRecord>();
    if (!first || !first.enabled) return null;
    const deadline = windowStart.getTime() + windowMs(first) * WINDOW_DEADLINE;
    const { outbound, inbound } = await runChecks(first, deadline);
    const ranOutbound = outbound !== null && outbound.outcome !== 'skipped';
    const ranInbound = inbound.some((r) => r.outcome !== 'skipped');
    const failedOutbound = ranOutbound && bad(outbound!);
    const failedInbound = ranInbound && inbound.every(bad);
    const failed = failedOutbound || failedInbound;
    const idle = !ranOutbound && !ranInbound;

    // The settings as they are now (an admin may have suppressed or answered during the window).
    const m = await models.monitors.findById(monitorId).lean<MonitorRecord>();
    if (!m) return null;
    const t = now();
    const out = decide(
      m.state ?? INITIAL_STATE,
      { failed, idle, failedInbound, failedOutbound },
      {
        failureThreshold: m.failureThreshold,
        directions: directionThresholds(m),
        repeatMs: m.repeatMinutes * minuteMs,
        suppressedUntil: m.suppressedUntil,
        autoActivation: m.autoActivation.enabled ? { enabled: true, afterMs: m.autoActivation.afterMinutes * minuteMs } : null,
        answeredAt: m.answeredAt,
        autoActivationCancelledAt: m.autoActivationCancelledAt,
      },
      t,
    );
    const state = { ...out.state, lastWindowStart: windowStart };
    let decision = out.decision;
    let alertId: string | null = null;
    let error: string | null = null;
    const rows = [outbound, ...inbound].filter((r): r is CheckRow => r !== null);
    const detail = rows
      .map(
        (r) => `${r.check}${r.route ? ` (${r.route})` : ''}: ${r.outcome}${r.latencyMs !== null ? `, ${r.latencyMs} ms` : ''}${r.error ? ` — ${r.error}` : ''}`,
      )
      .join('\n');

    if (out.startEvent && m.defaultGroupId) {
      const by: AdminIdentity = {
        tenantId: m.tenantId,
        adminId: `monitor:${m._id}`,
        email: `auto-activation of monitor ${m._id}`,
        displayName: `Monitor ${m.name}`,
        role: 'basicAdministrator',
      };
      try {
        const event = await startEventFor(m, by, { groupId: m.defaultGroupId, durationHours: m.defaultDurationHours }, { ip: null, requestId: null });
        state.autoEventId = event.id;
        await audit.record({
          tenantId: m.tenantId,
          category: 'monitor',
          action: 'monitor.autoActivation.eventStarted',
          actor: { type: 'system', id: `monitor:${m._id}`, email: null },
          target: { type: 'monitor', id: m._id, label: m.name },
          after: { eventId: event.id, groupId: m.defaultGroupId, detectedAt: iso(state.detectedAt) },
        });
      } catch (err) {
        error = `auto-activation could not start the event: ${(err as Error).message}`;
        decision = 'still detected';
      }
    }
    const set: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(state)) set[`state.${k}`] = v;
    await models.monitors.updateOne({ _id: m._id }, { $set: set });

    if (out.notify) {
      const alert = await sendAlert(
        m,
        out.notify,
        `Failure counter ${state.failureCount} (threshold ${m.failureThreshold}).\n${detail}`,
        state.detectedAt ?? m.state.detectedAt ?? null,
      );
      alertId = alert._id;
    }
    await appendLog(m, windowStart, [
      ...rows.map((r) => ({
        at: t,
        check: r.check,
        route: r.route,
        probeId: r.probeId,
        address: r.address,
        latencyMs: r.latencyMs,
        outcome: r.outcome,
        error: r.error,
        failureCount: state.failureCount,
        decision: null,
        alertId: null,
      })),
      {
        at: t,
        check: 'window' as const,
        route: null,
        probeId: null,
        address: null,
        latencyMs: null,
        outcome: (idle ? 'idle' : failed ? 'failed' : 'ok') as Outcome,
        error,
        failureCount: state.failureCount,
        decision,
        alertId,
      },
    ]);
    logger.info(
      {
        tenant: m.tenantId,
        monitor: m._id,
        window: windowStart.toISOString(),
        failed,
        idle,
        failureCount: state.failureCount,
        decision,
        alert: alertId,
        eventId: out.startEvent ? state.autoEventId : undefined,
      },
      `monitor decision: ${decision}`,
    );
    for (const r of rows) if (r.probeId) await models.probes.deleteOne({ _id: r.probeId }).catch(() => {});
    return decision;
  }

  // ---- the loop ---------------------------------------------------------------------------

  const running = new Map<string, Promise<unknown>>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = true;
  let ticking: Promise<void> | null = null;
  let lastSweep = 0;

  async function claim(m: MonitorRecord, start: number): Promise<boolean> {
    try {
      await models.windows.create({
        _id: `${m._id}:${start}`,
        tenantId: m.tenantId,
        monitorId: m._id,
        windowStart: new Date(start),
        claimedBy: node,
        claimedAt: now(),
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async function tick(): Promise<void> {
    const t = now().getTime();
    const list = await models.monitors.find({ enabled: true }).lean<MonitorRecord[]>();
    for (const m of list) {
      const w = windowMs(m);
      const start = Math.floor(t / w) * w;
      const key = `${m._id}:${start}`;
      // A window is started near its beginning only, so its checks get the whole window.
      if (t - start > w * 0.25 || running.has(key)) continue;
      if (m.state?.lastWindowStart && m.state.lastWindowStart.getTime() >= start) continue;
      if (!(await claim(m, start))) continue;
      const p = runWindow(m._id, new Date(start))
        .catch((err) => logger.error({ err, monitor: m._id }, 'monitor window failed'))
        .finally(() => running.delete(key));
      running.set(key, p);
    }
    if (t - lastSweep > 3600_000) {
      lastSweep = t;
      await sweep().catch((err) => logger.warn({ err }, 'monitor sweep failed'));
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      ticking = tick()
        .catch((err) => logger.warn({ err }, 'monitor loop tick failed'))
        .finally(() => {
          ticking = null;
          schedule();
        });
    }, tickMs);
    timer.unref?.();
  }

  /** Old windows, probes and log rows (no TTL indexes on FerretDB). */
  async function sweep(): Promise<void> {
    const t = now().getTime();
    await models.windows.deleteMany({ claimedAt: { $lt: new Date(t - 24 * 3600_000) } });
    await models.probes.deleteMany({ sentAt: { $lt: new Date(t - 24 * 3600_000) } });
    await models.log.deleteMany({ at: { $lt: new Date(t - LOG_RETENTION_DAYS * 24 * 3600_000) } });
    await models.alerts.deleteMany({ expiresAt: { $lt: new Date(t - 7 * 24 * 3600_000) } });
  }

  const interceptor: MailInterceptor = {
    claims: (address) => addressBook.tenantOf(address),
    async deliver({ tenantId, raw, receivedAt }) {
      const probeId = probeIdOf(raw);
      const probe = probeId ? await models.probes.findById(probeId).lean() : null;
      if (!probe || probe.tenantId !== tenantId || probe.check !== 'outbound') {
        logger.debug({ tenant: tenantId }, 'a message to a monitor address named no open probe; dropped');
        return;
      }
      if (!probe.receivedAt) await models.probes.updateOne({ _id: probe._id }, { $set: { receivedAt } });
    },
  };
  mail.intercept(interceptor);

  function logQuery(tenantId: string, monitorId: string, filter: LogFilter, cursor?: string) {
    const conditions: Record<string, unknown>[] = [{ tenantId, monitorId }];
    if (filter.check) conditions.push({ check: filter.check });
    if (filter.outcome) conditions.push({ outcome: filter.outcome });
    if (filter.decision) conditions.push({ decision: filter.decision });
    if (filter.from) conditions.push({ at: { $gte: filter.from } });
    if (filter.to) conditions.push({ at: { $lt: filter.to } });
    if (cursor) {
      const after = decodeCursor(cursor);
      conditions.push({ $or: [{ at: { $lt: after.at } }, { at: after.at, _id: { $lt: after.id } }] });
    }
    return { $and: conditions };
  }

  const logView = (r: LogRecord, m: Pick<MonitorRecord, 'name'>) => ({
    id: r._id.toHexString(),
    at: r.at.toISOString(),
    windowStart: r.windowStart.toISOString(),
    monitor: m.name,
    check: r.check,
    route: r.route,
    probeId: r.probeId,
    address: r.address,
    latencyMs: r.latencyMs,
    outcome: r.outcome,
    error: r.error,
    failureCount: r.failureCount,
    decision: r.decision,
    alertId: r.alertId,
  });

  async function answer(m: MonitorRecord, set: Record<string, unknown>) {
    await models.monitors.updateOne({ _id: m._id }, { $set: { ...set, answeredAt: now() } });
  }

  const service = {
    interceptor,
    runWindow,
    tick,
    sweep,
    /** The notification channels (the notify capability plugs in here). */
    useAlertSender(next: AlertSender): void {
      sender = next;
    },

    start(): void {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ticking;
      await Promise.all(running.values());
    },

    async list(tenantId: string): Promise<MonitorView[]> {
      const records = await models.monitors.find({ tenantId }).sort({ name: 1, _id: 1 }).lean<MonitorRecord[]>();
      return Promise.all(records.map((r) => view(r)));
    },

    async get(tenantId: string, id: string): Promise<MonitorView> {
      return view(await load(tenantId, id));
    },

    /** For the portal and the alert flow: the record itself. */
    record: load,

    async create(by: AdminIdentity, input: MonitorInput, context: Context): Promise<MonitorView> {
      const warnings = await check(by.tenantId, input);
      const id = newId('mon');
      const address = (input.address ?? `monitor-${randomBytes(5).toString('hex')}@${options.hostname}`).toLowerCase();
      await claimAddress(by.tenantId, id, address);
      const t = now();
      const record: MonitorRecord = {
        _id: id,
        tenantId: by.tenantId,
        ...settingsOf(input),
        address,
        state: { ...INITIAL_STATE },
        suppressedUntil: null,
        answeredAt: null,
        autoActivationCancelledAt: null,
        createdAt: t,
        updatedAt: t,
      };
      try {
        await models.monitors.create(record);
      } catch (err) {
        await releaseAddress({ _id: address });
        throw err;
      }
      await audit.record({
        tenantId: by.tenantId,
        category: 'monitor',
        action: 'monitor.created',
        actor: adminActor(by),
        target: { type: 'monitor', id, label: input.name },
        after: auditable(record),
        ...context,
      });
      return view(record, warnings);
    },

    async update(by: AdminIdentity, id: string, input: MonitorInput, context: Context): Promise<MonitorView> {
      const existing = await load(by.tenantId, id);
      const warnings = await check(by.tenantId, input);
      const address = (input.address ?? existing.address).toLowerCase();
      if (address !== existing.address) await claimAddress(by.tenantId, id, address);
      const result = await models.monitors.updateOne(
        { _id: id, tenantId: by.tenantId, updatedAt: existing.updatedAt },
        { $set: { ...settingsOf(input), address, updatedAt: now() } },
      );
      if (result.matchedCount === 0) {
        if (address !== existing.address) await releaseAddress({ _id: address, monitorId: id });
        throw conflict('This monitor was changed by someone else at the same time. Reload it and try again.');
      }
      if (address !== existing.address) await releaseAddress({ _id: existing.address, monitorId: id });
      const updated = await load(by.tenantId, id);
      const before = auditable(existing);
      const after = auditable(updated);
      const changedBefore: Record<string, unknown> = {};
      const changedAfter: Record<string, unknown> = {};
      for (const key of Object.keys(after)) {
        if (JSON.stringify(after[key]) !== JSON.stringify(before[key])) {
          changedBefore[key] = before[key] ?? null;
          changedAfter[key] = after[key];
        }
      }
      await audit.record({
        tenantId: by.tenantId,
        category: 'monitor',
        action: 'monitor.updated',
        actor: adminActor(by),
        target: { type: 'monitor', id, label: updated.name },
        before: changedBefore,
        after: changedAfter,
        ...context,
      });
      return view(updated, warnings);
    },

    async remove(by: AdminIdentity, id: string, context: Context): Promise<void> {
      const existing = await load(by.tenantId, id);
      await models.monitors.deleteOne({ _id: id, tenantId: by.tenantId });
      await releaseAddress({ _id: existing.address });
      await audit.record({
        tenantId: by.tenantId,
        category: 'monitor',
        action: 'monitor.deleted',
        actor: adminActor(by),
        target: { type: 'monitor', id, label: existing.name },
        before: auditable(existing),
        ...context,
      });
    },

    /** Silences alerts until a time (null resumes them); an answer, so auto-activation stands down. */
    async suppress(
      actor: { identity: AdminIdentity; via: string | null },
      id: string,
      until: Date | { hours: number } | null,
      context: Context,
    ): Promise<MonitorView> {
      const m = await load(actor.identity.tenantId, id);
      if (until && !(until instanceof Date)) until = new Date(now().getTime() + until.hours * 3600_000);
      if (until && until <= now()) throw unprocessable([{ path: 'until', message: 'must be in the future' }]);
      await answer(m, { suppressedUntil: until });
      await audit.record({
        tenantId: m.tenantId,
        category: 'monitor',
        action: until ? 'monitor.suppressed' : 'monitor.resumed',
        actor: adminActor(actor.identity),
        target: { type: 'monitor', id, label: m.name },
        before: { suppressedUntil: iso(m.suppressedUntil) },
        after: { suppressedUntil: iso(until), ...(actor.via ? { via: actor.via } : {}) },
        ...context,
      });
      return view(await load(m.tenantId, id));
    },

    async cancelAutoActivation(actor: { identity: AdminIdentity; via: string | null }, id: string, context: Context): Promise<MonitorView> {
      const m = await load(actor.identity.tenantId, id);
      if (!m.autoActivation.enabled) throw conflict('Auto-activation is not enabled for this monitor.');
      if (m.state.autoActivatedAt) throw conflict('Auto-activation has already started an event for this detection; end that event instead.');
      await answer(m, { autoActivationCancelledAt: now() });
      await audit.record({
        tenantId: m.tenantId,
        category: 'monitor',
        action: 'monitor.autoActivation.cancelled',
        actor: adminActor(actor.identity),
        target: { type: 'monitor', id, label: m.name },
        after: actor.via ? { via: actor.via } : null,
        ...context,
      });
      return view(await load(m.tenantId, id));
    },

    /** Records an admin's answer from the portal (stops a pending auto-activation). */
    async answered(tenantId: string, id: string): Promise<void> {
      await answer(await load(tenantId, id), {});
    },

    startEventFor,

    /**
     * The detection an event was started for, for the post-incident report: the alert whose portal link started
     * it, or (auto-activation) the monitor's detection that fired it. Null when not recorded.
     */
    async detectionOf(
      tenantId: string,
      source: { alertId: string } | { monitorId: string; eventId: string; startedAt: Date },
    ): Promise<{ detectedAt: string; monitorId: string; monitorName: string | null; alertId: string | null } | null> {
      const named = async (monitorId: string) => (await models.monitors.findById(monitorId).lean<MonitorRecord>())?.name ?? null;
      if ('alertId' in source) {
        const alert = await models.alerts.findById(source.alertId).lean<AlertRecord>();
        if (!alert || alert.tenantId !== tenantId || !alert.detectedAt) return null;
        return { detectedAt: alert.detectedAt.toISOString(), monitorId: alert.monitorId, monitorName: await named(alert.monitorId), alertId: alert._id };
      }
      const m = await models.monitors.findById(source.monitorId).lean<MonitorRecord>();
      if (!m || m.tenantId !== tenantId) return null;
      if (m.state.autoEventId === source.eventId && m.state.detectedAt)
        return { detectedAt: m.state.detectedAt.toISOString(), monitorId: m._id, monitorName: m.name, alertId: null };
      // The detection has since recovered: the last alert about it, sent before the event started.
      const alerts = await models.alerts.find({ tenantId, monitorId: m._id, kind: 'alert' }).lean<AlertRecord[]>();
      const last = alerts.filter((a) => a.detectedAt && a.at <= source.startedAt).sort((a, b) => b.at.getTime() - a.at.getTime())[0];
      return last ? { detectedAt: last.detectedAt!.toISOString(), monitorId: m._id, monitorName: m.name, alertId: last._id } : null;
    },

    /** Logs a portal-started event as a decision of the monitor. */
    async logDecision(m: MonitorRecord, decision: Decision, alertId: string | null, error: string | null = null): Promise<void> {
      const t = now();
      await appendLog(m, m.state.lastWindowStart ?? t, [
        {
          at: t,
          check: 'window',
          route: null,
          probeId: null,
          address: null,
          latencyMs: null,
          outcome: m.state.detected ? 'failed' : 'ok',
          error,
          failureCount: m.state.failureCount,
          decision,
          alertId,
        },
      ]);
      logger.info({ tenant: m.tenantId, monitor: m._id, decision, alert: alertId }, `monitor decision: ${decision}`);
    },

    async alert(tenantId: string, alertId: string): Promise<AlertRecord | null> {
      const a = await models.alerts.findById(alertId).lean<AlertRecord>();
      return a && a.tenantId === tenantId ? a : null;
    },

    async log(tenantId: string, id: string, filter: LogFilter, page: { cursor?: string; limit?: number } = {}) {
      const m = await load(tenantId, id);
      const limit = page.limit ?? LOG_PAGE;
      const rows = await models.log
        .find(logQuery(tenantId, id, filter, page.cursor))
        .sort({ at: -1, _id: -1 })
        .limit(limit + 1)
        .lean<LogRecord[]>();
      const items = rows.slice(0, limit);
      return { items: items.map((r) => logView(r, m)), nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]!) : null };
    },

    async *exportCsv(tenantId: string, id: string, filter: LogFilter): AsyncGenerator<string> {
      await load(tenantId, id);
      yield csvHeader(LOG_CSV_COLUMNS);
      let cursor: string | undefined;
      do {
        const page = await service.log(tenantId, id, filter, { cursor, limit: 500 });
        for (const e of page.items) {
          yield csvRow([
            e.at,
            e.monitor,
            e.check,
            e.route ?? '',
            e.probeId ?? '',
            e.address ?? '',
            e.latencyMs ?? '',
            e.outcome,
            e.error ?? '',
            e.failureCount,
            e.decision ?? '',
            e.alertId ?? '',
          ]);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },

    /** Latency per bucket (average of measured checks) and failed checks, for the chart. */
    async series(tenantId: string, id: string, range: '24h' | '7d') {
      await load(tenantId, id);
      const t = now().getTime();
      const span = range === '24h' ? 24 * 3600_000 : 7 * 24 * 3600_000;
      const bucket = range === '24h' ? 15 * 60_000 : 2 * 3600_000;
      const from = Math.floor((t - span) / bucket) * bucket;
      const rows = await models.log
        .find({ tenantId, monitorId: id, check: { $in: ['outbound', 'inbound'] }, at: { $gte: new Date(from) } }, { at: 1, check: 1, latencyMs: 1, outcome: 1 })
        .lean<Pick<LogRecord, 'at' | 'check' | 'latencyMs' | 'outcome'>[]>();
      const buckets = new Map<number, { out: number[]; in: number[]; failed: number }>();
      for (let b = from; b <= t; b += bucket) buckets.set(b, { out: [], in: [], failed: 0 });
      for (const r of rows) {
        const b = buckets.get(Math.floor(r.at.getTime() / bucket) * bucket);
        if (!b) continue;
        if (r.outcome === 'failed') b.failed++;
        if (r.latencyMs !== null) (r.check === 'outbound' ? b.out : b.in).push(r.latencyMs);
      }
      const avg = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, x) => a + x, 0) / xs.length) : null);
      return {
        range,
        bucketMinutes: bucket / 60_000,
        points: [...buckets.entries()].map(([at, b]) => ({
          at: new Date(at).toISOString(),
          outboundMs: avg(b.out),
          inboundMs: avg(b.in),
          failedChecks: b.failed,
        })),
      };
    },
  };
  return service;
}
export type MonitorService = ReturnType<typeof createMonitorService>;
