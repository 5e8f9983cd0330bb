import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { parseBody, parseQuery } from '../http/validate';
import type { NotifyService } from './index';
import { settingsBody } from './settings';

const logQuery = z.object({
  channel: z.enum(['email', 'sms']).optional(),
  purpose: z.string().max(100).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

const testBody = z.object({ channel: z.enum(['email', 'sms']), to: z.string().trim().min(1, 'is required').max(320) }).strict();

export function notifyRoutes(deps: { auth: AuthService; notify: NotifyService }): Router {
  const { auth, notify } = deps;
  const router = Router();
  const reader = requireAdmin(auth);
  const owner = requireAdmin(auth, 'fullAdministrator');

  router.get('/api/notify/settings', reader, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await notify.getSettings(currentAdmin(req).tenantId));
  });

  const update = async (req: Request, res: Response) => {
    const body = parseBody(settingsBody, req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await notify.updateSettings(currentAdmin(req), body, requestContext(req)));
  };
  router.put('/api/notify/settings', owner, update);
  router.patch('/api/notify/settings', owner, update);

  router.post('/api/notify/test', owner, async (req, res) => {
    const body = parseBody(testBody, req);
    res.json(await notify.sendTest(currentAdmin(req), body.channel, body.to, requestContext(req)));
  });

  router.get('/api/notify/log', reader, async (req, res) => {
    const q = parseQuery(logQuery, req);
    res.json(await notify.sendLog(currentAdmin(req).tenantId, q));
  });

  return router;
}
