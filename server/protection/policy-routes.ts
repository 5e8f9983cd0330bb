/** The pinned policy API: GET/POST /api/protection/policies, GET/PUT/DELETE /api/protection/policies/:id; and GET /api/protection/engines. */
import { Router } from 'express';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { parseBody } from '../http/validate';
import { engineHealth, type ProtectionEngines } from './engines';
import type { PolicyService } from './policies';
import { policyBody } from './policy-schema';

export function policyRoutes(deps: { auth: AuthService; policies: PolicyService; engines: () => ProtectionEngines }): Router {
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
