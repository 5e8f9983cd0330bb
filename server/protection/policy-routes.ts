/** The pinned policy API: GET/POST /api/protection/policies, GET/PUT/DELETE /api/protection/policies/:id; GET /api/protection/engines; GET/PUT /api/protection/vips. */
import { Router } from 'express';
import { z } from 'zod';
import { emailAddress } from '../http/addresses';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { parseBody } from '../http/validate';
import { engineHealth, type ProtectionEngines } from './engines';
import type { PolicyService } from './policies';
import { policyBody } from './policy-schema';
import type { VipService } from './vips';

export const vipsBody = z.object({
  vips: z
    .array(
      z.object({
        displayName: z.string().trim().min(1, 'is required').max(256),
        address: emailAddress()
          .transform((a) => a.toLowerCase())
          .nullable()
          .default(null),
      }),
    )
    .max(1000),
});

export function policyRoutes(deps: { auth: AuthService; policies: PolicyService; vips: VipService; engines: () => ProtectionEngines }): Router {
  const { auth, policies } = deps;
  const router = Router();
  const reader = requireAdmin(auth);
  const writer = requireAdmin(auth, 'fullAdministrator');

  router.get('/api/protection/policies', reader, async (req, res) => {
    const tenantId = currentAdmin(req).tenantId;
    res.json({ mode: await policies.tenantMode(tenantId), policies: await policies.list(tenantId) });
  });
  // The engines as the readiness page should show them (rspamd `unavailable` = scanning is off).
  router.get('/api/protection/engines', reader, async (_req, res) => {
    res.json(await engineHealth(deps.engines()));
  });
  // The VIP list: display names outsiders must not use (besides every directory user's).
  router.get('/api/protection/vips', reader, async (req, res) => {
    res.json({ vips: await deps.vips.list(currentAdmin(req).tenantId) });
  });
  router.put('/api/protection/vips', writer, async (req, res) => {
    const body = parseBody(vipsBody, req);
    res.json({ vips: await deps.vips.replace(currentAdmin(req), body.vips, requestContext(req)) });
  });
  router.post('/api/protection/policies', writer, async (req, res) => {
    const body = parseBody(policyBody, req);
    res.status(201).json(await policies.create(currentAdmin(req), body, requestContext(req)));
  });
  router.get('/api/protection/policies/:id', reader, async (req, res) => {
    res.json(await policies.get(currentAdmin(req).tenantId, String(req.params.id)));
  });
  router.put('/api/protection/policies/:id', writer, async (req, res) => {
    const body = parseBody(policyBody, req);
    res.json(await policies.replace(currentAdmin(req), String(req.params.id), body, requestContext(req)));
  });
  router.delete('/api/protection/policies/:id', writer, async (req, res) => {
    await policies.remove(currentAdmin(req), String(req.params.id), requestContext(req));
    res.status(204).end();
  });
  return router;
}
