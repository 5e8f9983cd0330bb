import { Router } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { CLOUD_PASSWORD_RESET } from '../events/model';
import { isValidTimeZone } from '../events/zoned-time';
import { emailAddress, isEmailAddress } from '../http/addresses';
import { parseBody, parseQuery } from '../http/validate';
import { CHECKS, DECISIONS, OUTCOMES } from './model';
import type { MonitorService } from './service';

const EMAIL = emailAddress();
const PHONE = z
  .string()
  .trim()
  .regex(/^\+[1-9]\d{6,14}$/, 'must be a phone number in E.164 form, like +15550100');
/** An Entra object id (a GUID). */
const OBJECT_ID = /^[0-9a-fA-F-]{36}$/;
const unique = <T>(xs: T[]) => new Set(xs).size === xs.length;

/** One direction: on or off, with its own thresholds (null or absent: the monitor's shared ones). */
const direction = z.object({
  enabled: z.boolean(),
  latencyThresholdSeconds: z.number().int().min(1).max(3600).nullable().default(null),
  failureThreshold: z.number().int().min(1).max(100).nullable().default(null),
});

export const monitorBody = z.object({
  name: z.string().trim().min(1, 'is required').max(100),
  enabled: z.boolean().default(true),
  inbound: direction.default({ enabled: true, latencyThresholdSeconds: null, failureThreshold: null }),
  outbound: direction.default({ enabled: true, latencyThresholdSeconds: null, failureThreshold: null }),
  probeMailbox: z
    .string()
    .trim()
    .max(254)
    .refine((v) => v === '' || isEmailAddress(v) || OBJECT_ID.test(v), 'must be the probe mailbox UPN (an email address) or its object id')
    .default(''),
  address: EMAIL.optional(),
  latencyThresholdSeconds: z.number().int().min(1).max(3600).default(60),
  failureThreshold: z.number().int().min(1).max(100).default(3),
  windowMinutes: z.number().int().min(1).max(60).default(2),
  repeatMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  alertRecipients: z
    .object({
      sms: z.array(PHONE).max(20).refine(unique, 'must not repeat a number').default([]),
      email: z
        .array(EMAIL.transform((s) => s.toLowerCase()))
        .max(20)
        .refine(unique, 'must not repeat an address')
        .default([]),
    })
    .default({ sms: [], email: [] }),
  defaultGroupId: z.string().trim().min(1).max(200).nullable().default(null),
  defaultDurationHours: z
    .number()
    .min(0.25)
    .max(24 * 14)
    .default(4),
  timeZone: z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin').default('UTC'),
  autoActivation: z
    .object({
      enabled: z.boolean(),
      afterMinutes: z
        .number()
        .int()
        .min(1)
        .max(24 * 60)
        .default(30),
    })
    .default({ enabled: false, afterMinutes: 30 }),
  cloudPasswordReset: z.enum(CLOUD_PASSWORD_RESET).default('inherit'),
});

const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).transform((s) => new Date(s));
export const logFilter = z.object({
  check: z.enum(CHECKS).optional(),
  outcome: z.enum(OUTCOMES).optional(),
  decision: z.enum(DECISIONS).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
});
export const logQuery = logFilter.extend({ cursor: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(500).optional() });
export const seriesQuery = z.object({ range: z.enum(['24h', '7d']).default('24h') });
export const suppressBody = z.union([
  z
    .object({
      hours: z
        .number()
        .min(0.25)
        .max(24 * 7),
    })
    .strict(),
  z.object({ until: isoDate.nullable() }).strict(),
]);

export function monitorRoutes(deps: { auth: AuthService; monitor: MonitorService }): Router {
  const { auth, monitor } = deps;
  const router = Router();
  const reader = requireAdmin(auth);
  const operator = requireAdmin(auth, 'basicAdministrator');
  const configurer = requireAdmin(auth, 'fullAdministrator');
  const id = (raw: unknown) => String(raw);

  router.get('/api/monitors', reader, async (req, res) => {
    res.json(await monitor.list(currentAdmin(req).tenantId));
  });
  router.post('/api/monitors', configurer, async (req, res) => {
    const created = await monitor.create(currentAdmin(req), parseBody(monitorBody, req), requestContext(req));
    res.status(201).location(`/api/monitors/${created.id}`).json(created);
  });
  router.get('/api/monitors/:id', reader, async (req, res) => {
    res.json(await monitor.get(currentAdmin(req).tenantId, id(req.params.id)));
  });
  router.put('/api/monitors/:id', configurer, async (req, res) => {
    const body = parseBody(monitorBody, req);
    res.json(await monitor.update(currentAdmin(req), id(req.params.id), body, requestContext(req)));
  });
  router.delete('/api/monitors/:id', configurer, async (req, res) => {
    await monitor.remove(currentAdmin(req), id(req.params.id), requestContext(req));
    res.status(204).end();
  });

  router.post('/api/monitors/:id/suppress', operator, async (req, res) => {
    const body = parseBody(suppressBody, req);
    const until = 'hours' in body ? { hours: body.hours } : body.until;
    res.json(await monitor.suppress({ identity: currentAdmin(req), via: null }, id(req.params.id), until, requestContext(req)));
  });
  router.post('/api/monitors/:id/resume', operator, async (req, res) => {
    res.json(await monitor.suppress({ identity: currentAdmin(req), via: null }, id(req.params.id), null, requestContext(req)));
  });
  router.post('/api/monitors/:id/auto-activation/cancel', operator, async (req, res) => {
    res.json(await monitor.cancelAutoActivation({ identity: currentAdmin(req), via: null }, id(req.params.id), requestContext(req)));
  });

  router.get('/api/monitors/:id/log', reader, async (req, res) => {
    const { cursor, limit, ...filter } = parseQuery(logQuery, req);
    // A bad cursor is a 422 naming `cursor` (server/db/cursor.ts).
    res.json(await monitor.log(currentAdmin(req).tenantId, id(req.params.id), filter, { cursor, limit }));
  });
  router.get('/api/monitors/:id/log/export.csv', reader, async (req, res) => {
    const filter = parseQuery(logFilter, req);
    const { tenantId } = currentAdmin(req);
    const monitorId = id(req.params.id);
    await monitor.get(tenantId, monitorId); // 404 before any CSV is written
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="lifeboat-monitor-${monitorId}.csv"`);
    for await (const chunk of monitor.exportCsv(tenantId, monitorId, filter)) res.write(chunk);
    res.end();
  });
  router.get('/api/monitors/:id/series', reader, async (req, res) => {
    const { range } = parseQuery(seriesQuery, req);
    res.json(await monitor.series(currentAdmin(req).tenantId, id(req.params.id), range));
  });

  return router;
}
