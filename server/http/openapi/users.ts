/** Contract of the Outlook user's side: sign-in, cloud passwords, status, receipts and client reports (server/user-auth/, server/push/, server/clients/). */
import { z } from 'zod';
import { reportBody } from '../../clients/routes';
import { seenBody } from '../../push/routes';
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
}
