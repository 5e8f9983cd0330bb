import { Router } from 'express';
import { z } from 'zod';
import { requireAdmin, currentAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { parseQuery } from '../http/validate';
import { AUDIT_CATEGORIES } from './categories';
import type { AuditService } from './service';

const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).transform((s) => new Date(s));

export const filterQuery = z.object({
  category: z.string().max(64).optional(),
  actor: z.string().max(320).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
});

export const listQuery = filterQuery.extend({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export function auditRoutes(deps: { auth: AuthService; audit: AuditService }): Router {
  const { auth, audit } = deps;
  const router = Router();

  router.get('/api/audit', requireAdmin(auth), async (req, res) => {
    const { cursor, limit, ...filter } = parseQuery(listQuery, req);
    res.json(await audit.list(currentAdmin(req).tenantId, filter, { cursor, limit })); // a bad cursor: 422 naming `cursor`
  });

  /** Every category the server writes, for the filter (the page never keeps its own copy). */
  router.get('/api/audit/categories', requireAdmin(auth), (_req, res) => {
    res.json(AUDIT_CATEGORIES);
  });

  router.get('/api/audit/export.csv', requireAdmin(auth), async (req, res) => {
    const filter = parseQuery(filterQuery, req);
    const { tenantId } = currentAdmin(req);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="lifeboat-audit-${tenantId}.csv"`);
    for await (const chunk of audit.exportCsv(tenantId, filter)) res.write(chunk);
    res.end();
  });

  return router;
}
