/**
 * The detection log: rows appended by each window and decision, and the views of it — pages newest first
 * (one keyset cursor, server/db/cursor.ts), the CSV export, the latency series for the chart, and the
 * detection an event was started for (post-incident report). Never runs a check.
 */
import type { Types } from 'mongoose';
import { csvHeader, csvRow } from '../audit/csv';
import { decodeCursor, keysetPage, olderThan } from '../db/cursor';
import type { MonitorContext } from './context';
import type { AlertRecord, CheckKind, Decision, LogRecord, MonitorRecord, Outcome } from './model';

export interface LogFilter {
  check?: CheckKind;
  outcome?: Outcome;
  decision?: Decision;
  from?: Date;
  to?: Date;
}

const LOG_PAGE = 50;

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

function logQuery(tenantId: string, monitorId: string, filter: LogFilter, cursor?: string) {
  const conditions: Record<string, unknown>[] = [{ tenantId, monitorId }];
  if (filter.check) conditions.push({ check: filter.check });
  if (filter.outcome) conditions.push({ outcome: filter.outcome });
  if (filter.decision) conditions.push({ decision: filter.decision });
  if (filter.from) conditions.push({ at: { $gte: filter.from } });
  if (filter.to) conditions.push({ at: { $lt: filter.to } });
  // A bad cursor is the toolkit's 422 naming `cursor`.
  if (cursor) conditions.push(olderThan('at', decodeCursor(cursor, 'objectId')));
  return { $and: conditions };
}

export function createDetectionLog(ctx: MonitorContext, deps: { load: (tenantId: string, id: string) => Promise<MonitorRecord> }) {
  const { models, logger, now } = ctx;
  const { load } = deps;

  async function append(m: MonitorRecord, windowStart: Date, rows: Omit<LogRecord, '_id' | 'tenantId' | 'monitorId' | 'windowStart'>[]) {
    if (!rows.length) return;
    await models.log.insertMany(rows.map((r) => ({ ...r, tenantId: m.tenantId, monitorId: m._id, windowStart })));
  }

  async function page(tenantId: string, id: string, filter: LogFilter, paging: { cursor?: string; limit?: number } = {}) {
    const m = await load(tenantId, id);
    const limit = paging.limit ?? LOG_PAGE;
    const rows = await models.log
      .find(logQuery(tenantId, id, filter, paging.cursor))
      .sort({ at: -1, _id: -1 })
      .limit(limit + 1)
      .lean<LogRecord[]>();
    const { page: items, nextCursor } = keysetPage(rows, limit, (r): [Date, Types.ObjectId] => [r.at, r._id]);
    return { items: items.map((r) => logView(r, m)), nextCursor };
  }

  return {
    append,
    log: page,

    /** Logs a portal-started event as a decision of the monitor. */
    async logDecision(m: MonitorRecord, decision: Decision, alertId: string | null, error: string | null = null): Promise<void> {
      const t = now();
      await append(m, m.state.lastWindowStart ?? t, [
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

    async *exportCsv(tenantId: string, id: string, filter: LogFilter): AsyncGenerator<string> {
      await load(tenantId, id);
      yield csvHeader(LOG_CSV_COLUMNS);
      let cursor: string | undefined;
      do {
        const next = await page(tenantId, id, filter, { cursor, limit: 500 });
        for (const e of next.items) {
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
        cursor = next.nextCursor ?? undefined;
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
  };
}
