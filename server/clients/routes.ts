import { Router } from 'express';
import { z } from 'zod';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { parseBody } from '../http/validate';
import { currentUser } from '../user-auth/identity';
import { requireUser } from '../user-auth/middleware';
import type { UserAuthService } from '../user-auth/service';
import { CACHED_MODES, CLIENT_KINDS } from './model';
import type { ClientService } from './service';

const short = z.string().max(200).optional();
export const reportBody = z.object({
  kind: z.enum(CLIENT_KINDS),
  hostName: short,
  platform: short,
  accountType: short,
  hostVersion: short,
  cachedMode: z.enum(CACHED_MODES),
  evidence: z
    .array(
      z.object({
        type: z.string().min(1).max(64),
        at: z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
        detail: z.string().max(500).default(''),
      }),
    )
    .max(20)
    .optional(),
});

export function clientRoutes(deps: { auth: AuthService; userAuth: UserAuthService; clients: ClientService }): Router {
  const router = Router();

  router.post('/api/me/client', requireUser(deps.userAuth), async (req, res) => {
    await deps.clients.report(currentUser(req), parseBody(reportBody, req));
    res.status(204).end();
  });

  router.get('/api/clients/summary', requireAdmin(deps.auth), async (req, res) => {
    res.json(await deps.clients.summary(currentAdmin(req).tenantId));
  });

  return router;
}
