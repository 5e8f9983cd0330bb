/** Contract of the audit log (server/audit/routes.ts). */
import { z } from 'zod';
import { filterQuery, listQuery } from '../../audit/routes';
import { AUDIT_CATEGORIES } from '../../audit/categories';
import type { Contract } from './contract';

const Entry = z
  .object({
    id: z.string(),
    at: z.string(),
    category: z.string(),
    action: z.string(),
    actor: z.object({ type: z.string(), id: z.string().nullable(), email: z.string().nullable() }).loose(),
    target: z.object({ type: z.string(), id: z.string().nullable(), label: z.string().nullable().optional() }).loose().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    ip: z.string().nullable(),
    requestId: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

export function registerAudit(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/audit',
    summary: 'The audit log (newest first, keyset pages)',
    access: 'reader',
    query: listQuery,
    ok: { status: 200, schema: z.object({ items: z.array(Entry), nextCursor: z.string().nullable() }) },
  });
  c.operation({
    method: 'get',
    path: '/api/audit/export.csv',
    summary: 'The audit log as CSV',
    access: 'reader',
    query: filterQuery,
    ok: { status: 200, contentType: 'text/csv' },
  });
  c.operation({
    method: 'get',
    path: '/api/audit/categories',
    summary: 'Every audit category the server writes (for the filter)',
    access: 'reader',
    ok: { status: 200, schema: z.array(z.enum(AUDIT_CATEGORIES)) },
  });
}
