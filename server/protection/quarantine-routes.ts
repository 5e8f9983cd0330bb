/**
 * Quarantine API: admins GET /api/quarantine?verdict=&recipient=&cursor=, GET/DELETE /api/quarantine/:id,
 * POST /api/quarantine/:id/release; users GET /api/me/quarantine, POST /api/me/quarantine/:id/release-request.
 */
import { Router } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { emailAddress } from '../http/addresses';
import { parseBody, parseQuery } from '../http/validate';
import { currentUser } from '../user-auth/identity';
import { requireUser } from '../user-auth/middleware';
import type { UserAuthService } from '../user-auth/service';
import type { QuarantineService } from './quarantine';
import { VERDICTS } from './verdict';

export const quarantineQuery = z.object({
  verdict: z.enum(VERDICTS).optional(),
  recipient: emailAddress().optional(),
  cursor: z.string().max(512).optional(),
});
export const mineQuery = z.object({ cursor: z.string().max(512).optional() });
export const releaseBody = z.object({ reason: z.string().trim().min(1, 'is required').max(500), force: z.boolean().default(false) });
export const releaseRequestBody = z.object({ reason: z.string().trim().max(500).default('') });

export function quarantineRoutes(deps: { auth: AuthService; userAuth: UserAuthService; quarantine: QuarantineService }): Router {
  const { auth, quarantine } = deps;
  const router = Router();
  const reader = requireAdmin(auth);
  const releaser = requireAdmin(auth, 'basicAdministrator');
  const user = requireUser(deps.userAuth);

  router.get('/api/quarantine', reader, async (req, res) => {
    res.json(await quarantine.list(currentAdmin(req).tenantId, parseQuery(quarantineQuery, req)));
  });
  router.get('/api/quarantine/:id', reader, async (req, res) => {
    res.json(await quarantine.get(currentAdmin(req).tenantId, String(req.params.id)));
  });
  router.post('/api/quarantine/:id/release', releaser, async (req, res) => {
    const body = parseBody(releaseBody, req);
    // Releasing past a malware rescan is for full administrators only.
    if (body.force && currentAdmin(req).role !== 'fullAdministrator') body.force = false;
    res.json(await quarantine.release(currentAdmin(req), String(req.params.id), body, requestContext(req)));
  });
  router.delete('/api/quarantine/:id', releaser, async (req, res) => {
    await quarantine.remove(currentAdmin(req), String(req.params.id), requestContext(req));
    res.status(204).end();
  });

  router.get('/api/me/quarantine', user, async (req, res) => {
    res.json(await quarantine.listMine(currentUser(req), parseQuery(mineQuery, req)));
  });
  router.post('/api/me/quarantine/:id/release-request', user, async (req, res) => {
    const body = parseBody(releaseRequestBody, req);
    res.json(await quarantine.requestRelease(currentUser(req), String(req.params.id), body.reason, requestContext(req)));
  });
  return router;
}
