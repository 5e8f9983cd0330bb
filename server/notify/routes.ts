import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { parseBody, parseQuery } from '../http/validate';
import { currentUser } from '../user-auth/identity';
import { requireUser } from '../user-auth/middleware';
import type { UserAuthService } from '../user-auth/service';
import type { NotifyService } from './index';
import { settingsBody } from './settings';

export const logQuery = z.object({
  channel: z.enum(['email', 'sms']).optional(),
  purpose: z.string().max(100).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export const testBody = z.object({ channel: z.enum(['email', 'sms']), to: z.string().trim().min(1, 'is required').max(320) }).strict();
export const consentBody = z.object({ optedIn: z.boolean({ error: 'must be true or false' }) }).strict();
export const searchQuery = z.object({ search: z.string().max(200).optional() });
export const resetBody = z.object({ email: z.string().trim().min(3, 'is required').max(320) }).strict();
export const confirmBody = z
  .object({
    email: z.string().trim().min(3, 'is required').max(320),
    code: z
      .string()
      .trim()
      .regex(/^\d{6,12}$/, 'must be the code you received (digits)'),
    password: z.string().min(1, 'is required').max(1024),
  })
  .strict();

/** Twilio posts replies as a form; a generic gateway may post JSON. */
const inboundForm = express.urlencoded({ extended: false, limit: '32kb' });

export const audienceQuery = z.object({ groupId: z.string().trim().min(1, 'is required').max(200) });

export function notifyRoutes(deps: { auth: AuthService; userAuth: UserAuthService; notify: NotifyService }): Router {
  const { auth, userAuth, notify } = deps;
  const router = Router();
  const reader = requireAdmin(auth);
  const basic = requireAdmin(auth, 'basicAdministrator');
  const owner = requireAdmin(auth, 'fullAdministrator');
  const user = requireUser(userAuth);

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

  /** For the event form before saving: is the SMS channel there, and how many of the group would get it. */
  router.get('/api/notify/sms-audience', reader, async (req, res) => {
    const { groupId } = parseQuery(audienceQuery, req);
    res.json(await notify.smsRuns.audience(currentAdmin(req).tenantId, groupId));
  });

  router.get('/api/notify/log', reader, async (req, res) => {
    const q = parseQuery(logQuery, req);
    res.json(await notify.sendLog(currentAdmin(req).tenantId, q));
  });

  // SMS consent: admins see everyone's and may record one; users manage their own.
  router.get('/api/notify/consents', reader, async (req, res) => {
    const { search } = parseQuery(searchQuery, req);
    res.json(await notify.consents.list(currentAdmin(req).tenantId, search));
  });

  router.put('/api/notify/consents/:userId', basic, async (req, res) => {
    const { optedIn } = parseBody(consentBody, req);
    const admin = currentAdmin(req);
    res.json(
      await notify.consents.set(
        admin.tenantId,
        String(req.params.userId),
        optedIn,
        'admin',
        { type: 'admin', id: admin.adminId, email: admin.email },
        requestContext(req),
      ),
    );
  });

  router.get('/api/me/sms-consent', user, async (req, res) => {
    const me = currentUser(req);
    res.json(await notify.consents.get(me.tenantId, me.userId));
  });

  router.put('/api/me/sms-consent', user, async (req, res) => {
    const { optedIn } = parseBody(consentBody, req);
    const me = currentUser(req);
    res.json(await notify.consents.set(me.tenantId, me.userId, optedIn, 'user', { type: 'user', id: me.userId, email: me.email }, requestContext(req)));
  });

  // Replies from the SMS gateway (STOP / START), verified by signature or shared secret.
  router.post('/api/notify/inbound/:tenantId/sms', inboundForm, async (req, res) => {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>)) if (typeof v === 'string') params[k] = v;
    const basicAuth = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const basicPassword = basicAuth ? Buffer.from(basicAuth[1]!, 'base64').toString('utf8').split(':').slice(1).join(':') : null;
    const queryAt = req.originalUrl.indexOf('?');
    const result = await notify.inboundSms(
      String(req.params.tenantId),
      {
        query: queryAt >= 0 ? req.originalUrl.slice(queryAt) : '',
        params,
        twilioSignature: req.get('x-twilio-signature') ?? null,
        sharedSecret: req.get('x-lifeboat-inbound-secret') ?? basicPassword,
      },
      requestContext(req),
    );
    if (req.is('application/x-www-form-urlencoded')) {
      // Twilio expects TwiML; an empty response sends no reply (the carrier confirms STOP itself).
      res.type('text/xml').send('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    } else res.json(result);
  });

  // For a signed-in admin (the reset page shows them a hint when it is off for everyone).
  router.get('/api/notify/reset-policy', reader, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await notify.reset.tenantPolicy(currentAdmin(req).tenantId));
  });

  // Self-service cloud-password reset (no sign-in: the user has no working password).
  router.post('/api/user-auth/reset', async (req, res) => {
    const { email } = parseBody(resetBody, req);
    const answer = await notify.reset.request(email, requestContext(req));
    res.setHeader('Cache-Control', 'no-store');
    res.status(202).json(answer);
  });

  router.post('/api/user-auth/reset/confirm', async (req, res) => {
    const body = parseBody(confirmBody, req);
    await notify.reset.confirm(body.email, body.code, body.password, requestContext(req));
    res.setHeader('Cache-Control', 'no-store');
    res.status(204).end();
  });

  return router;
}
