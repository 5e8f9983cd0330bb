import { Router } from 'express';
import { currentUser } from '../user-auth/identity';
import { requireUser } from '../user-auth/middleware';
import type { UserAuthService } from '../user-auth/service';
import type { StatusService } from './status';

export function statusRoutes(deps: { userAuth: UserAuthService; status: StatusService }): Router {
  const router = Router();

  /** The pull fallback of the socket's continuity:status (the pane calls it on every mount). */
  router.get('/api/me/status', requireUser(deps.userAuth), async (req, res) => {
    const user = currentUser(req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await deps.status.forUser(user.tenantId, user.userId));
  });

  router.get('/api/me', requireUser(deps.userAuth), (req, res) => {
    const { tenantId, userId, email, displayName, via } = currentUser(req);
    res.json({ tenantId, userId, email, displayName, via });
  });

  return router;
}
