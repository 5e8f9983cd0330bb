import { Router } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { parseBody } from '../http/validate';
import type { UserAuthService } from './service';

export const loginBody = z.object({
  email: z.string().trim().min(1, 'is required').max(320),
  password: z.string().min(1, 'is required').max(1024),
});

/** The password is checked by the service (its rules are the cloud password's), so any value is accepted here. */
export const cloudPasswordBody = z.object({ password: z.unknown() });

export function userAuthRoutes(deps: { auth: AuthService; userAuth: UserAuthService }): Router {
  const { auth, userAuth } = deps;
  const router = Router();

  router.post('/api/user-auth/login', async (req, res) => {
    const body = parseBody(loginBody, req);
    const { token, expiresAt } = await userAuth.login(body.email, body.password, requestContext(req));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ token, expiresAt: expiresAt.toISOString() });
  });

  router.put('/api/users/:id/cloud-password', requireAdmin(auth, 'basicAdministrator'), async (req, res) => {
    const body = parseBody(cloudPasswordBody, req);
    await userAuth.setCloudPassword(currentAdmin(req), String(req.params.id), body.password, requestContext(req));
    res.status(204).end();
  });

  router.post('/api/users/:id/sign-out-everywhere', requireAdmin(auth, 'basicAdministrator'), async (req, res) => {
    await userAuth.signOutEverywhere(currentAdmin(req), String(req.params.id), requestContext(req));
    res.status(204).end();
  });

  router.post('/api/users/:id/unlock', requireAdmin(auth, 'basicAdministrator'), async (req, res) => {
    await userAuth.unlock(currentAdmin(req), String(req.params.id), requestContext(req));
    res.status(204).end();
  });

  return router;
}
