/** Contract of the continuity monitors: settings, state, suppression, the detection log and series (server/monitor/). */
import { z } from 'zod';
import { logFilter, logQuery, monitorBody, seriesQuery, suppressBody } from '../../monitor/routes';
import type { Contract } from './contract';

const nullableIso = z.string().nullable();
const Monitor = z
  .object({
    id: z.string(),
    name: z.string(),
    enabled: z.boolean(),
    inbound: z.object({ enabled: z.boolean() }),
    outbound: z.object({ enabled: z.boolean() }),
    probeMailbox: z.string(),
    address: z.string(),
    latencyThresholdSeconds: z.number().int(),
    failureThreshold: z.number().int(),
    windowMinutes: z.number().int(),
    repeatMinutes: z.number().int(),
    alertRecipients: z.object({ sms: z.array(z.string()), email: z.array(z.string()) }),
    defaultGroupId: z.string().nullable(),
    defaultGroup: z.object({ id: z.string(), displayName: z.string().nullable() }).nullable(),
    defaultDurationHours: z.number(),
    timeZone: z.string(),
    autoActivation: z.object({ enabled: z.boolean(), afterMinutes: z.number().int() }),
    state: z
      .object({
        status: z.enum(['detected', 'normal']),
        failureCount: z.number().int(),
        detectedAt: nullableIso,
        lastAlertAt: nullableIso,
        lastWindowStart: nullableIso,
        lastDecision: z.string().nullable(),
        suppressedUntil: nullableIso,
        autoActivation: z
          .object({ enabled: z.boolean(), afterMinutes: z.number().int(), firesAt: nullableIso, cancelled: z.boolean(), eventId: z.string().nullable() })
          .loose(),
      })
      .loose(),
    createdAt: z.string(),
    updatedAt: z.string(),
    warnings: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .loose()
  .meta({ id: 'Monitor' });
const LogEntry = z
  .object({
    id: z.string(),
    at: z.string(),
    windowStart: z.string(),
    monitor: z.string(),
    check: z.string(),
    outcome: z.string().nullable(),
    decision: z.string().nullable(),
    latencyMs: z.number().nullable(),
  })
  .loose();
const LogPage = z.object({ items: z.array(LogEntry), nextCursor: z.string().nullable() });
const Series = z.object({
  range: z.enum(['24h', '7d']),
  bucketMinutes: z.number(),
  points: z.array(z.object({ at: z.string(), outboundMs: z.number().nullable(), inboundMs: z.number().nullable(), failedChecks: z.number().int() })),
});

export function registerMonitor(c: Contract): void {
  const monitor = { status: 200, schema: Monitor };
  c.operation({ method: 'get', path: '/api/monitors', summary: 'The tenant’s monitors', access: 'reader', ok: { status: 200, schema: z.array(Monitor) } });
  c.operation({
    method: 'post',
    path: '/api/monitors',
    summary: 'Add a monitor',
    access: 'full',
    body: monitorBody,
    ok: { status: 201, schema: Monitor },
    errors: [409],
  });
  c.operation({ method: 'get', path: '/api/monitors/:id', summary: 'One monitor', access: 'reader', ok: monitor });
  c.operation({ method: 'put', path: '/api/monitors/:id', summary: 'Change a monitor', access: 'full', body: monitorBody, ok: monitor, errors: [409] });
  c.operation({ method: 'delete', path: '/api/monitors/:id', summary: 'Remove a monitor', access: 'full', ok: { status: 204, description: 'Removed' } });
  c.operation({
    method: 'post',
    path: '/api/monitors/:id/suppress',
    summary: 'Suppress alerts for hours or until a time',
    access: 'basic',
    body: suppressBody,
    ok: monitor,
  });
  c.operation({ method: 'post', path: '/api/monitors/:id/resume', summary: 'Resume alerts', access: 'basic', ok: monitor });
  c.operation({
    method: 'post',
    path: '/api/monitors/:id/auto-activation/cancel',
    summary: 'Cancel a pending auto-activation',
    access: 'basic',
    ok: monitor,
    errors: [409],
  });
  c.operation({
    method: 'get',
    path: '/api/monitors/:id/log',
    summary: 'The detection log (newest first)',
    access: 'reader',
    query: logQuery,
    ok: { status: 200, schema: LogPage },
  });
  c.operation({
    method: 'get',
    path: '/api/monitors/:id/log/export.csv',
    summary: 'The detection log as CSV',
    access: 'reader',
    query: logFilter,
    ok: { status: 200, contentType: 'text/csv' },
  });
  c.operation({
    method: 'get',
    path: '/api/monitors/:id/series',
    summary: 'Latency and failures over 24 hours or 7 days',
    access: 'reader',
    query: seriesQuery,
    ok: { status: 200, schema: Series },
  });
}
