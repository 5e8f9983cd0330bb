/** GET /api/readiness/dns: SPF and DMARC of the signed-in admin's tenant domains, looked up now; /users: cloud-password coverage. */
import { Router } from 'express';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import type { TenantService } from '../tenants/service';
import { checkDomain, createResolver, dnsConfigFromEnv, type DnsConfig } from './dns';
import type { ReadinessService } from './service';

export function readinessRoutes(deps: { auth: AuthService; tenants: TenantService; readiness?: ReadinessService; dns?: DnsConfig }): Router {
  const config = deps.dns ?? dnsConfigFromEnv(process.env);
  const resolver = createResolver(config);
  const router = Router();

  router.get('/api/readiness/dns', requireAdmin(deps.auth), async (req, res) => {
    const tenant = await deps.tenants.get(currentAdmin(req).tenantId);
    const domains = tenant?.domains ?? [];
    res.json({
      checkedAt: new Date().toISOString(),
      spfInclude: config.spfInclude,
      domains: await Promise.all(domains.map((d) => checkDomain(resolver, d, config.spfInclude))),
    });
  });

  /** Users with a cloud password (and, once the server records it, SMS consent), as counts and percentages. */
  router.get('/api/readiness/users', requireAdmin(deps.auth), async (req, res, next) => {
    if (!deps.readiness) return next();
    res.json(await deps.readiness.users(currentAdmin(req).tenantId));
  });

  return router;
}
