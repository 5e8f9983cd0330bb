/**
 * Sent Items write-back over HTTP: admins start a run and read its progress
 * (`/api/sent-items/write-back`); a user reads how many of their sent messages are in Exchange
 * (`/api/me/sent-items`), which the web inbox tells them.
 */
import { Router } from 'express';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { requireUser } from '../user-auth/middleware';
import { currentUser } from '../user-auth/identity';
import type { UserAuthService } from '../user-auth/service';
import type { SentItemsWriteBack } from './service';

export function sentItemsRoutes(deps: { auth: AuthService; userAuth: UserAuthService; sentItems: SentItemsWriteBack }): Router {
  const router = Router();
  router.get('/api/sent-items/write-back', requireAdmin(deps.auth), async (req, res) => {
    res.json(await deps.sentItems.progress(currentAdmin(req).tenantId));
  });
  router.post('/api/sent-items/write-back', requireAdmin(deps.auth, 'basicAdministrator'), async (req, res) => {
    const admin = currentAdmin(req);
    res.status(202).json(await deps.sentItems.start(admin.tenantId, admin, requestContext(req)));
  });
  router.get('/api/me/sent-items', requireUser(deps.userAuth), async (req, res) => {
    const user = currentUser(req);
    res.json(await deps.sentItems.forUser(user.tenantId, user.userId));
  });
  return router;
}
