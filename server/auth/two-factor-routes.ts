/** Two-factor sign-in for admins: set up and confirm TOTP, turn it off, the tenant's requirement. */
import { Router } from 'express';
import { z } from 'zod';
import { conflict } from '../http/problem';
import { parseBody } from '../http/validate';
import type { AdminService } from './admins';
import { requestContext } from './identity';
import { currentAdmin, requireAdmin } from './middleware';
import type { AuthService } from './service';
import type { TwoFactor } from './two-factor';

export const enableBody = z.object({ code: z.string().trim().min(1, 'is required').max(16) });
export const twoFactorPolicyBody = z.object({ required: z.boolean() });

export function twoFactorRoutes(deps: { auth: AuthService; admins: AdminService; twoFactor: TwoFactor }): Router {
  const { auth, admins, twoFactor } = deps;
  const router = Router();
  const enrolling = { enrolling: true };

  router.get('/api/auth/two-factor', requireAdmin(auth, 'readOnly', enrolling), async (req, res) => {
    const me = currentAdmin(req);
    const admin = await admins.find(me.tenantId, me.adminId);
    res.json({
      enabled: Boolean(admin.totpSecret),
      required: await twoFactor.required(me.tenantId),
      recoveryCodesLeft: admin.recoveryCodeHashes?.length ?? 0,
    });
  });

  router.post('/api/auth/two-factor/setup', requireAdmin(auth, 'readOnly', enrolling), async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await twoFactor.setup(currentAdmin(req)));
  });

  router.post('/api/auth/two-factor/enable', requireAdmin(auth, 'readOnly', enrolling), async (req, res) => {
    const body = parseBody(enableBody, req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await twoFactor.enable(currentAdmin(req), body.code, requestContext(req)));
  });

  router.delete('/api/auth/two-factor', requireAdmin(auth), async (req, res) => {
    const me = currentAdmin(req);
    if (await twoFactor.required(me.tenantId)) throw conflict('Your organisation requires two-factor sign-in.');
    await twoFactor.disable(me, await admins.find(me.tenantId, me.adminId), requestContext(req));
    res.status(204).end();
  });

  // A lost device: a full administrator turns another admin's two-factor off (they set it up again).
  router.post('/api/admins/:id/two-factor/reset', requireAdmin(auth, 'fullAdministrator'), async (req, res) => {
    const me = currentAdmin(req);
    await twoFactor.disable(me, await admins.find(me.tenantId, req.params.id as string), requestContext(req));
    res.status(204).end();
  });

  router.put('/api/auth/two-factor/policy', requireAdmin(auth, 'fullAdministrator'), async (req, res) => {
    const body = parseBody(twoFactorPolicyBody, req);
    await twoFactor.setRequired(currentAdmin(req), body.required, requestContext(req));
    res.json({ required: body.required });
  });

  return router;
}
