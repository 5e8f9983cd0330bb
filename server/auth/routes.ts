import { Router } from 'express';
import { emailAddress } from '../http/addresses';
import { z } from 'zod';
import { parseBody } from '../http/validate';
import { requestContext } from './identity';
import { currentAdmin, requireAdmin, SESSION_COOKIE, sessionToken } from './middleware';
import type { AdminService } from './admins';
import { ROLES } from './model';
import { passwordProblem } from './password';
import type { AuthService } from './service';
import type { TwoFactor } from './two-factor';
import { twoFactorRoutes } from './two-factor-routes';

export const loginBody = z.object({
  email: z.string().trim().min(1, 'is required').max(320),
  password: z.string().min(1, 'is required').max(1024),
  code: z.string().max(64).optional(),
});

const passwordField = z.string().superRefine((value, ctx) => {
  const problem = passwordProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const newAdminBody = z.object({
  email: emailAddress(),
  password: passwordField,
  role: z.enum(ROLES),
  displayName: z.string().max(200).optional(),
});

export const updateAdminBody = z.object({ role: z.enum(ROLES).optional(), displayName: z.string().max(200).optional() }).strict();
export const adminPasswordBody = z.object({ password: passwordField });

export function authRoutes(deps: { auth: AuthService; admins: AdminService; twoFactor: TwoFactor; secureCookies: boolean }): Router {
  const { auth, admins } = deps;
  const router = Router();
  router.use(twoFactorRoutes({ auth, admins, twoFactor: deps.twoFactor }));

  router.post('/api/auth/login', async (req, res) => {
    const body = parseBody(loginBody, req);
    const { token, expiresAt, identity } = await auth.login({ ...body, ...requestContext(req) });
    res.cookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: deps.secureCookies || req.secure,
      path: '/',
      expires: expiresAt,
    });
    res.json({ email: identity.email, tenantId: identity.tenantId, role: identity.role, expiresAt: expiresAt.toISOString() });
  });

  router.post('/api/auth/logout', requireAdmin(auth, 'readOnly', { enrolling: true }), async (req, res) => {
    await auth.logout(sessionToken(req), currentAdmin(req), requestContext(req));
    res.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: deps.secureCookies || req.secure });
    res.status(204).end();
  });

  router.get('/api/auth/me', requireAdmin(auth, 'readOnly', { enrolling: true }), (req, res) => {
    const { email, tenantId, role, displayName, mustEnrollTwoFactor } = currentAdmin(req);
    res.json({ email, tenantId, role, displayName, ...(mustEnrollTwoFactor ? { mustEnrollTwoFactor } : {}) });
  });

  router.get('/api/admins', requireAdmin(auth), async (req, res) => {
    res.json(await admins.list(currentAdmin(req).tenantId));
  });

  router.get('/api/admins/:id', requireAdmin(auth), async (req, res) => {
    res.json(await admins.get(currentAdmin(req).tenantId, req.params.id as string));
  });

  router.post('/api/admins', requireAdmin(auth, 'fullAdministrator'), async (req, res) => {
    const body = parseBody(newAdminBody, req);
    res.status(201).json(await admins.create(currentAdmin(req), body, requestContext(req)));
  });

  router.patch('/api/admins/:id', requireAdmin(auth, 'fullAdministrator'), async (req, res) => {
    const body = parseBody(updateAdminBody, req);
    res.json(await admins.update(currentAdmin(req), req.params.id as string, body, requestContext(req)));
  });

  router.delete('/api/admins/:id', requireAdmin(auth, 'fullAdministrator'), async (req, res) => {
    await admins.remove(currentAdmin(req), req.params.id as string, requestContext(req));
    res.status(204).end();
  });

  router.put('/api/admins/:id/password', requireAdmin(auth, 'fullAdministrator'), async (req, res) => {
    const body = parseBody(adminPasswordBody, req);
    await admins.resetPassword(currentAdmin(req), req.params.id as string, body.password, requestContext(req));
    res.status(204).end();
  });

  // Forgets the failed sign-ins of an admin account (the throttle's delays, server/auth/throttle.ts).
  router.post('/api/admins/:id/unlock', requireAdmin(auth, 'fullAdministrator'), async (req, res) => {
    await admins.unlock(currentAdmin(req), req.params.id as string, requestContext(req));
    res.status(204).end();
  });

  return router;
}
