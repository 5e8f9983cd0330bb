/**
 * `GET/PUT /api/end-user-access` (admins: which groups may use the end-user tools, `null` = everyone)
 * and the gate in front of the end-user mail endpoints (the pane's and the web inbox's).
 */
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { parseBody } from '../http/validate';
import { requireUser } from '../user-auth/middleware';
import { currentUser } from '../user-auth/identity';
import type { UserAuthService } from '../user-auth/service';
import type { EndUserAccess } from './access';

export const endUserAccessBody = z.object({
  groupIds: z.array(z.string().trim().min(1).max(200)).min(1, 'name at least one group, or null for everyone').max(100).nullable(),
});

/** The end-user mail endpoints: reading, searching, suggestions and sending. */
export const END_USER_PATHS = ['/api/me/mailbox', '/api/me/search', '/api/me/people', '/api/me/messages'];

export function endUserAccessRoutes(deps: { auth: AuthService; userAuth: UserAuthService; access: EndUserAccess }): Router {
  const router = Router();
  router.get('/api/end-user-access', requireAdmin(deps.auth), async (req, res) => {
    res.json(await deps.access.get(currentAdmin(req).tenantId));
  });
  router.put('/api/end-user-access', requireAdmin(deps.auth, 'basicAdministrator'), async (req, res) => {
    const { groupIds } = parseBody(endUserAccessBody, req);
    res.json(await deps.access.put(currentAdmin(req), groupIds, requestContext(req)));
  });
  const gate: RequestHandler = async (req, _res, next) => {
    const user = currentUser(req);
    await deps.access.check(user.tenantId, user.userId);
    next();
  };
  router.use(END_USER_PATHS, requireUser(deps.userAuth), gate);
  return router;
}
