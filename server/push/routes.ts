import { Router } from 'express';
import { z } from 'zod';
import { parseBody } from '../http/validate';
import { currentUser } from '../user-auth/identity';
import { requireUser } from '../user-auth/middleware';
import type { UserAuthService } from '../user-auth/service';
import type { ReceiptService } from './receipts';
import type { StatusService } from './status';

export const seenBody = z.object({
  seq: z.number().int().min(0).optional(),
  eventIds: z.array(z.string().min(1).max(64)).min(1).max(20),
  client: z.string().max(40).optional(),
});

export function statusRoutes(deps: { userAuth: UserAuthService; status: StatusService; receipts?: ReceiptService }): Router {
  const router = Router();

  /** The pull fallback of the socket's continuity:status (the pane calls it on every mount). */
  router.get('/api/me/status', requireUser(deps.userAuth), async (req, res) => {
    const user = currentUser(req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await deps.status.forUser(user.tenantId, user.userId));
  });

  /**
   * The pane's receipt of an active status when its socket is down (the socket's continuity:seen
   * otherwise). Event ids that do not cover the signed-in user now are ignored, not refused.
   */
  router.post('/api/me/status/seen', requireUser(deps.userAuth), async (req, res) => {
    const body = parseBody(seenBody, req);
    const accepted = deps.receipts ? await deps.receipts.acknowledge(currentUser(req), body, 'rest') : [];
    res.status(202).json({ accepted });
  });

  router.get('/api/me', requireUser(deps.userAuth), (req, res) => {
    const { tenantId, userId, email, displayName, via } = currentUser(req);
    res.json({ tenantId, userId, email, displayName, via });
  });

  return router;
}
