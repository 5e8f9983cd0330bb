/** GET /api/exchange-setup/powershell: the reviewed Exchange Online PowerShell for this tenant (any admin reads it). */
import { Router } from 'express';
import { z } from 'zod';
import { requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { isHostName } from '../http/addresses';
import { parseQuery } from '../http/validate';
import { exchangePowerShell } from './powershell';

const host = z.string().trim().toLowerCase().refine(isHostName, 'must be a host name');
export const powershellQuery = z.object({
  lifeboatHost: host,
  arcSealer: host,
  routeThroughLifeboat: z.enum(['true', 'false']).default('false'),
});

export function exchangeSetupRoutes(deps: { auth: AuthService }): Router {
  const router = Router();
  router.get('/api/exchange-setup/powershell', requireAdmin(deps.auth), (req, res) => {
    const q = parseQuery(powershellQuery, req);
    res.json(exchangePowerShell({ lifeboatHost: q.lifeboatHost, arcSealer: q.arcSealer, routeThroughLifeboat: q.routeThroughLifeboat === 'true' }));
  });
  return router;
}
