/** HTTP for the admins' mail queue: list with filters, retry now, release one held message. */
import { Router } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { parseQuery } from '../http/validate';
import { QUEUE_STATES, type MailQueueAdmin } from './admin-queue';

export const queueQuery = z.object({
  state: z.enum(QUEUE_STATES).optional(),
  recipient: z.string().trim().max(320).optional(),
  sender: z.string().trim().max(320).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export function mailQueueRoutes(deps: { auth: AuthService; queue: MailQueueAdmin }): Router {
  const { auth, queue } = deps;
  const router = Router();
  const reader = requireAdmin(auth);
  const writer = requireAdmin(auth, 'basicAdministrator');
  const id = (raw: unknown) => String(raw);

  router.get('/api/mail/queue', reader, async (req, res) => {
    res.json({ items: await queue.list(currentAdmin(req).tenantId, parseQuery(queueQuery, req)) });
  });
  router.post('/api/mail/queue/:id/retry', writer, async (req, res) => {
    await queue.retryNow(currentAdmin(req), id(req.params.id), requestContext(req));
    res.status(204).end();
  });
  router.post('/api/mail/held/:id/release', writer, async (req, res) => {
    await queue.releaseOne(currentAdmin(req), id(req.params.id), requestContext(req));
    res.status(204).end();
  });
  return router;
}
