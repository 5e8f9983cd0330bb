/**
 * Composes protection for one database connection: verdict store, policies, quarantine and the inbound
 * pipeline, from collaborators passed in (directory, tenants, audit, the mail side, the engines).
 */
import type { Connection } from 'mongoose';
import type { AuditService } from '../audit/service';
import type { DirectoryService } from '../directory/service';
import type { TenantService } from '../tenants/service';
import { createDataTimeRefusal } from './data-time';
import { createDetections } from './detections';
import { phishingReportModel } from './detections-model';
import { createDnsLookup } from './dns';
import type { ProtectionEngines } from './engines';
import { createJudge, type TenantFacts } from './judge';
import type { MailSide } from './mail-side';
import { protectionModels } from './model';
import { createPipeline } from './pipeline';
import { createPolicyService } from './policies';
import type { Mode } from './policy-rules';
import { createQuarantineService } from './quarantine';
import { createVerdictStore } from './verdicts';
import { createVipService } from './vips';

export interface ProtectionOptions {
  /** Read at every judgement, so engines started after the services (the embedded rspamd) are used. */
  engines: () => ProtectionEngines;
  dnsServers: string[];
  /** Our host name, the authserv-id of Authentication-Results. */
  hostname: string;
  timeouts?: { dnsMs?: number; authMs?: number; rspamdMs?: number; clamdMs?: number };
  /** How long the end-of-DATA check keeps a tenant's policies (default 10 s; tests: 0). */
  dataTimePolicyCacheMs?: number;
  now?: () => Date;
  /** The mode a tenant's default policy starts in (default Protect). */
  defaultMode?: Mode;
  /** LIFEBOAT_QUARANTINE_RETENTION_DAYS (default 30). */
  quarantineRetentionDays?: number;
}

const FACTS_TTL_MS = 5 * 60 * 1000;

export function createProtection(
  conn: Connection,
  deps: { directory: DirectoryService; tenants: TenantService; audit: AuditService; mail: MailSide },
  options: ProtectionOptions,
) {
  const models = protectionModels(conn);
  // Tenant domains and protected names change rarely; one read per tenant every few minutes.
  const facts = new Map<string, { at: number; value: Promise<TenantFacts> }>();
  // A VIP list change is the `settings:changed` reaction: every node drops its facts (forgetFacts).
  const vipListeners: ((tenantId: string) => void)[] = [];
  const vips = createVipService({ models, audit: deps.audit, onChange: (tenantId) => vipListeners.forEach((l) => l(tenantId)), now: options.now });
  const tenantFacts = (tenantId: string): Promise<TenantFacts> => {
    const cached = facts.get(tenantId);
    if (cached && Date.now() - cached.at < FACTS_TTL_MS) return cached.value;
    const value = Promise.all([deps.tenants.get(tenantId), deps.directory.displayNames(tenantId), vips.list(tenantId)]).then(([tenant, people, vipList]) => ({
      domains: (tenant?.domains ?? []).map((d) => d.toLowerCase()),
      people: [...vipList, ...people.map((p) => ({ displayName: p.displayName, address: p.mail }))],
    }));
    value.catch(() => facts.delete(tenantId));
    facts.set(tenantId, { at: Date.now(), value });
    return value;
  };
  const lookup = createDnsLookup({ servers: options.dnsServers, timeoutMs: options.timeouts?.dnsMs });
  const judge = createJudge({
    lookup,
    authservId: options.hostname,
    engines: () => options.engines(),
    tenantFacts,
    timeouts: options.timeouts,
  });
  const verdicts = createVerdictStore({ models, judge, now: options.now });
  const policies = createPolicyService({ models, directory: deps.directory, audit: deps.audit, now: options.now, defaultMode: options.defaultMode });
  const quarantine = createQuarantineService({
    models,
    verdicts,
    judge,
    mail: deps.mail,
    audit: deps.audit,
    now: options.now,
    retentionDays: options.quarantineRetentionDays,
  });
  const pipeline = createPipeline({ policies, verdicts, quarantine });
  /** The receiver's end-of-DATA check: refuse a DMARC p=reject failure where every recipient's policy says reject (550 5.7.1). */
  const refuseAtData = createDataTimeRefusal({
    policies,
    lookup,
    authservId: options.hostname,
    timeoutMs: options.timeouts?.authMs,
    cacheMs: options.dataTimePolicyCacheMs,
  });
  const detections = createDetections({ models, reports: phishingReportModel(conn), audit: deps.audit, now: options.now });
  return {
    judge,
    verdicts,
    policies,
    quarantine,
    pipeline,
    vips,
    refuseAtData,
    detections,
    engines: options.engines,
    /** The VIP list of a tenant changed (on this node). */
    onVipsChanged: (listener: (tenantId: string) => void) => void vipListeners.push(listener),
    /** The tenant's domains, protected names and directory groups are read again at the next judgement. */
    forgetFacts: (tenantId: string) => {
      facts.delete(tenantId);
      policies.forgetParties(tenantId);
    },
  };
}
export type Protection = ReturnType<typeof createProtection>;
