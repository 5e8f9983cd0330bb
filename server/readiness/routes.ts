/** GET /api/readiness/dns: SPF and DMARC of the signed-in admin's tenant domains, looked up now; /users: cloud-password coverage. */
import { Router } from 'express';
import { z } from 'zod';
import { requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import { isHostName } from '../http/addresses';
import { parseBody } from '../http/validate';
import type { AuthService } from '../auth/service';
import type { TenantService } from '../tenants/service';
import { checkDomain, checkSigning, createResolver, includeFor, type DnsConfig } from './dns';
import { checkExchangeSetup, type ProbeMessage } from './exchange';
import { parseQuery } from '../http/validate';
import type { ReadinessService } from './service';

export const settingsBody = z
  .object({
    region: z.string().trim().toLowerCase().max(32).nullable().default(null),
    customInclude: z
      .string()
      .trim()
      .toLowerCase()
      .max(253)
      .transform((s) => s || null)
      .refine((s) => s === null || isHostName(s, { fullyQualified: true }), 'must be a host name like spf.relay.example')
      .nullable()
      .default(null),
  })
  .strict();

/** Mail continuity's outbound signing records (server/mail/service.ts signingRecords). */
export type SigningRecords = (tenantId: string) => Promise<{
  selector: string;
  sealerDomain: string | null;
  keyRecord: string;
  records: { domain: string; name: string; type: 'TXT'; value: string }[];
  exchangeOnline: string | null;
} | null>;

export const exchangeQuery = z.object({
  lifeboatHost: z
    .string()
    .trim()
    .toLowerCase()
    .max(253)
    .refine((s) => isHostName(s, { fullyQualified: true }), 'must be a host name like mx.lifeboat.example')
    .optional(),
  routeThroughLifeboat: z.enum(['true', 'false']).default('false'),
});

export function readinessRoutes(deps: {
  auth: AuthService;
  tenants: TenantService;
  readiness?: ReadinessService;
  dns: DnsConfig;
  signingRecords?: SigningRecords;
  /** The continuity monitor's latest inbound probe message (server/monitor/probe-message.ts). */
  probeMessage?: (tenantId: string, viaHost: string) => Promise<ProbeMessage | null>;
  /** Lifeboat's SMTP host name (SMTP_HOSTNAME): the MX the check expects when none is given. */
  smtpHostname?: string;
}): Router {
  const config = deps.dns;
  const resolver = createResolver(config);
  const router = Router();

  router.get('/api/readiness/dns', requireAdmin(deps.auth), async (req, res) => {
    const tenant = await deps.tenants.get(currentAdmin(req).tenantId);
    const domains = tenant?.domains ?? [];
    const { include, source } = includeFor(
      config,
      deps.readiness ? await deps.readiness.spfSetting(currentAdmin(req).tenantId) : { region: null, customInclude: null },
    );
    const signing = await deps.signingRecords?.(currentAdmin(req).tenantId);
    res.json({
      checkedAt: new Date().toISOString(),
      spfInclude: include,
      spfIncludeSource: source,
      domains: await Promise.all(domains.map((d) => checkDomain(resolver, d, include))),
      signing: signing ? await checkSigning(resolver, signing) : null,
    });
  });

  /** The Exchange Online set-up, each part verified from outside (DNS, ARC seal on probe mail) or said not to be verifiable. */
  router.get('/api/readiness/exchange', requireAdmin(deps.auth), async (req, res) => {
    const q = parseQuery(exchangeQuery, req);
    const lifeboatHost = q.lifeboatHost ?? deps.smtpHostname ?? 'lifeboat.local';
    const tenantId = currentAdmin(req).tenantId;
    const tenant = await deps.tenants.get(tenantId);
    const { include } = includeFor(config, deps.readiness ? await deps.readiness.spfSetting(tenantId) : { region: null, customInclude: null });
    const [signing, probe] = await Promise.all([deps.signingRecords?.(tenantId), deps.probeMessage?.(tenantId, lifeboatHost) ?? null]);
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      checkedAt: new Date().toISOString(),
      lifeboatHost,
      checks: await checkExchangeSetup(resolver, {
        domains: tenant?.domains ?? [],
        lifeboatHost,
        routeThroughLifeboat: q.routeThroughLifeboat === 'true',
        spfInclude: include,
        sealer: signing ? { domain: signing.sealerDomain, selector: signing.selector, keyRecord: signing.keyRecord } : null,
        probe,
      }),
    });
  });

  /** The tenant's outbound relay region (or custom include) that its SPF records must carry. */
  router.get('/api/readiness/settings', requireAdmin(deps.auth), async (req, res, next) => {
    if (!deps.readiness) return next();
    res.setHeader('Cache-Control', 'no-store');
    res.json(await deps.readiness.settings(currentAdmin(req).tenantId, config));
  });
  router.put('/api/readiness/settings', requireAdmin(deps.auth, 'fullAdministrator'), async (req, res, next) => {
    if (!deps.readiness) return next();
    const body = parseBody(settingsBody, req);
    res.json(await deps.readiness.updateSettings(currentAdmin(req), body, config, requestContext(req)));
  });

  /** Users with a cloud password (and, once the server records it, SMS consent), as counts and percentages. */
  router.get('/api/readiness/users', requireAdmin(deps.auth), async (req, res, next) => {
    if (!deps.readiness) return next();
    res.json(await deps.readiness.users(currentAdmin(req).tenantId));
  });

  return router;
}
