/**
 * One window of one monitor: run its checks until the window's deadline, let the detector decide, start
 * the auto-activation event if it says so, alert, and write the detection log. The caller has claimed
 * the window (./loop.ts); this file never claims or schedules.
 */
import type { AuditContext } from '../audit/context';
import { SYSTEM_CONTEXT } from '../audit/context';
import type { AuditService } from '../audit/service';
import type { AdminIdentity } from '../auth/identity';
import type { Entra } from '../directory/graph/index';
import type { EventService, EventView } from '../events/service';
import type { MailService } from '../mail/service';
import type { createAlerting } from './alerting';
import type { createChecks, CheckRow } from './checks';
import { iso, windowMsOf, type MonitorContext } from './context';
import type { createDetectionLog } from './detection-log';
import { decide, directionThresholds } from './detector';
import { INITIAL_STATE, type Decision, type MonitorRecord, type Outcome } from './model';

/** The checks must end by this share of the window (the rest is for deciding and logging). */
const WINDOW_DEADLINE = 0.85;

const skipped = (check: 'outbound' | 'inbound', error: string): CheckRow => ({
  check,
  route: null,
  probeId: null,
  address: null,
  latencyMs: null,
  outcome: 'skipped',
  error,
});
const bad = (r: CheckRow) => r.outcome === 'failed' || r.outcome === 'slow';

export function createWindowRunner(
  ctx: MonitorContext,
  deps: {
    events: EventService;
    mail: Pick<MailService, 'getSettings'>;
    entra: Pick<Entra, 'api'>;
    audit: AuditService;
    checks: ReturnType<typeof createChecks>;
    alerting: ReturnType<typeof createAlerting>;
    log: ReturnType<typeof createDetectionLog>;
  },
) {
  const { models, logger, now, minuteMs } = ctx;
  const { events, mail, entra, audit, checks, alerting, log } = deps;

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

  /** Starts a continuity event for the monitor's detection (auto-activation, or an admin through the portal). */
  async function startEventFor(
    m: MonitorRecord,
    by: AdminIdentity,
    input: { groupId: string; durationHours: number; description?: string },
    context: AuditContext,
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
    const deadline = windowStart.getTime() + windowMsOf(ctx, first) * WINDOW_DEADLINE;
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
        const event = await startEventFor(m, by, { groupId: m.defaultGroupId, durationHours: m.defaultDurationHours }, SYSTEM_CONTEXT);
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
      const alert = await alerting.send(
        m,
        out.notify,
        `Failure counter ${state.failureCount} (threshold ${m.failureThreshold}).\n${detail}`,
        state.detectedAt ?? m.state.detectedAt ?? null,
      );
      alertId = alert._id;
    }
    await log.append(m, windowStart, [
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

  return { runWindow, startEventFor };
}
