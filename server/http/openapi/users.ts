/** Contract of the Outlook user's side: sign-in, cloud passwords, status, receipts and client reports (server/user-auth/, server/push/, server/clients/). */
import { z } from 'zod';
import { reportBody } from '../../clients/routes';
import { seenBody } from '../../push/routes';
import { importQuery } from '../../user-auth/import-routes';
import { cloudPasswordBody, loginBody } from '../../user-auth/routes';
import type { Contract } from './contract';

const Token = z.object({ token: z.string(), expiresAt: z.string() });
const Me = z.object({ tenantId: z.string(), userId: z.string(), email: z.string().nullable(), displayName: z.string().nullable(), via: z.string() }).loose();
const Status = z
  .object({ seq: z.number().int(), active: z.boolean(), events: z.array(z.object({ id: z.string() }).loose()), at: z.string() })
  .loose()
  .meta({ id: 'ContinuityStatus' });
const KindCounts = z.object({ total: z.number().int(), byCachedMode: z.record(z.string(), z.number().int()) });
const ClientSummary = z.object({
  total: z.number().int(),
  byKind: z.record(z.string(), KindCounts),
  readiness: z.object({ ready: z.number().int(), unknown: z.number().int(), notCapable: z.number().int() }),
});

const ImportRow = z.object({
  row: z.number().int(),
  email: z.string(),
  outcome: z.enum(['set', 'generate', 'unknownUser', 'weakPassword', 'duplicate', 'invalid']),
  message: z.string().nullable(),
  userId: z.string().nullable(),
});
const ImportResult = z.object({
  applied: z.boolean(),
  summary: z.object({ rows: z.number().int(), set: z.number().int(), generate: z.number().int(), refused: z.number().int() }),
  rows: z.array(ImportRow),
  download: z.string().nullable().optional().meta({ description: 'After an apply with generated passwords: where to fetch them once' }),
});

export function registerUsers(c: Contract): void {
  c.operation({
    method: 'post',
    path: '/api/user-auth/login',
    summary: 'Sign a user in with their cloud password (a bearer token)',
    access: 'public',
    body: loginBody,
    ok: { status: 200, schema: Token },
    errors: [401, 429],
  });
  c.operation({
    method: 'put',
    path: '/api/users/:id/cloud-password',
    summary: 'Set a user’s cloud password',
    access: 'basic',
    body: cloudPasswordBody,
    ok: { status: 204, description: 'Set' },
  });
  c.operation({ method: 'get', path: '/api/me', summary: 'The signed-in user', access: 'user', ok: { status: 200, schema: Me } });
  c.operation({
    method: 'get',
    path: '/api/me/status',
    summary: 'The user’s continuity status (the socket’s pull fallback)',
    access: 'user',
    ok: { status: 200, schema: Status },
  });
  c.operation({
    method: 'post',
    path: '/api/me/status/seen',
    summary: 'Acknowledge an active status',
    access: 'user',
    body: seenBody,
    ok: { status: 202, schema: z.object({ accepted: z.array(z.string()) }) },
  });
  c.operation({
    method: 'post',
    path: '/api/me/client',
    summary: 'Report the user’s Outlook client',
    access: 'user',
    body: reportBody,
    ok: { status: 204, description: 'Recorded' },
  });
  c.operation({
    method: 'get',
    path: '/api/clients/summary',
    summary: 'Outlook clients of the tenant by kind and readiness',
    access: 'reader',
    ok: { status: 200, schema: ClientSummary },
  });
  c.operation({
    method: 'post',
    path: '/api/users/:id/sign-out-everywhere',
    summary: 'End every token of a user (all their Outlook sign-ins)',
    access: 'basic',
    ok: { status: 204, description: 'Signed out' },
  });
  c.operation({
    method: 'post',
    path: '/api/users/:id/unlock',
    summary: 'Forget a user’s failed cloud-password sign-ins',
    access: 'basic',
    ok: { status: 204, description: 'Unlocked' },
  });
  c.operation({
    method: 'post',
    path: '/api/users/cloud-passwords/import',
    summary: 'Import cloud passwords from a CSV or XLSX file (the body); `apply=true` applies, else a dry run',
    access: 'basic',
    body: z.string().meta({ format: 'binary' }),
    bodyContentType: 'application/octet-stream',
    query: importQuery,
    ok: { status: 200, schema: ImportResult },
  });
  c.operation({
    method: 'get',
    path: '/api/users/cloud-passwords/generated/:token',
    summary: 'The generated passwords of an applied import as CSV (once)',
    access: 'basic',
    ok: { status: 200, contentType: 'text/csv', description: 'email,password rows' },
  });
}
