/** Contract of the unauthenticated platform routes: health, the pane's settings, this document. */
import { z } from 'zod';
import type { Contract } from './contract';

const Health = z.object({ status: z.enum(['ok', 'degraded']), db: z.enum(['ok', 'down']) });
const AddinConfig = z.object({
  naa: z.object({ clientId: z.string(), authority: z.string(), scopes: z.array(z.string()) }).nullable(),
  continuityInboxUrl: z.string().nullable(),
});

export function registerPlatform(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness and database reachability',
    access: 'public',
    ok: [
      { status: 200, schema: Health },
      { status: 503, schema: Health, description: 'The database is down' },
    ],
  });
  c.operation({
    method: 'get',
    path: '/addin/config.json',
    summary: 'The task pane’s runtime settings',
    access: 'public',
    ok: { status: 200, schema: AddinConfig },
  });
  c.operation({
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This OpenAPI 3.1 document',
    access: 'public',
    ok: { status: 200, schema: z.object({ openapi: z.string() }).loose() },
  });
}
