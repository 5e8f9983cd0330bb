/**
 * Monitors as admins configure them: create, update, delete (each audited, each address claimed through
 * ./addresses.ts), and their answers to a detection (suppress, resume, cancel auto-activation). Never
 * runs a check or sends an alert.
 */
import { randomBytes } from 'node:crypto';
import type { AuditContext } from '../audit/context';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import type { DirectoryService } from '../directory/service';
import { conflict, notFound, unprocessable, type FieldError } from '../http/problem';
import { domainOf } from '../http/addresses';
import type { TenantService } from '../tenants/service';
import type { createMonitorAddresses } from './addresses';
import { iso, newId, type MonitorContext } from './context';
import { INITIAL_STATE, type MonitorRecord, type MonitorSettings } from './model';
import type { MonitorView, createMonitorView } from './view';

/** The API input: the address may be left out (one is made up). */
export type MonitorInput = Omit<MonitorSettings, 'address'> & { address?: string };

/** Who answered: an admin, through the admin page (via null) or a portal link (via the alert). */
export interface MonitorActor {
  identity: AdminIdentity;
  via: string | null;
}

const settingsOf = (input: MonitorInput) => ({
  name: input.name,
  enabled: input.enabled,
  inbound: input.inbound,
  outbound: input.outbound,
  probeMailbox: input.probeMailbox,
  latencyThresholdSeconds: input.latencyThresholdSeconds,
  failureThreshold: input.failureThreshold,
  windowMinutes: input.windowMinutes,
  repeatMinutes: input.repeatMinutes,
  alertRecipients: input.alertRecipients,
  defaultGroupId: input.defaultGroupId,
  defaultDurationHours: input.defaultDurationHours,
  timeZone: input.timeZone,
  autoActivation: input.autoActivation,
  cloudPasswordReset: input.cloudPasswordReset,
});

/** The settings an admin changes (state and answers are not audited as settings). */
const auditable = (m: Partial<MonitorRecord>) => {
  const {
    state: _s,
    _id: _i,
    tenantId: _t,
    createdAt: _c,
    updatedAt: _u,
    suppressedUntil: _x,
    answeredAt: _a,
    autoActivationCancelledAt: _z,
    ...rest
  } = m as MonitorRecord;
  return JSON.parse(JSON.stringify(rest));
};

export function createMonitorConfiguration(
  ctx: MonitorContext,
  deps: {
    tenants: TenantService;
    directory: DirectoryService;
    audit: AuditService;
    addresses: ReturnType<typeof createMonitorAddresses>;
    view: ReturnType<typeof createMonitorView>;
    /** The host name of the default monitor addresses. */
    hostname: string;
    /** More domains the server owns for monitor addresses (LIFEBOAT_MONITOR_DOMAINS). */
    monitorDomains?: string[];
  },
) {
  const { models, now } = ctx;
  const { tenants, directory, audit, addresses, view } = deps;
  const serverDomains = new Set([deps.hostname, ...(deps.monitorDomains ?? [])].map((d) => d.toLowerCase()));

  /**
   * Where a monitor address may live: in a domain the server owns for monitoring, or in one of the
   * tenant's own (proven) domains; never in another tenant's accepted domains (that would take its
   * mail), nor anywhere else. Answers whether it is one of the tenant's own domains.
   */
  async function checkAddress(tenantId: string, address: string): Promise<{ ownDomain: boolean }> {
    const domain = domainOf(address);
    const owner = await tenants.byDomain(domain);
    if (owner && owner.id !== tenantId) {
      throw unprocessable([{ path: 'address', message: `${domain} is an accepted domain of another organisation on this server` }]);
    }
    if (owner) return { ownDomain: true };
    if (serverDomains.has(domain)) return { ownDomain: false };
    const allowed = [...serverDomains].join(', ');
    throw unprocessable([{ path: 'address', message: `must be in this server's monitoring domain (${allowed}) or one of your organisation's domains` }]);
  }

  async function load(tenantId: string, id: string): Promise<MonitorRecord> {
    const m = typeof id === 'string' && /^[A-Za-z0-9]{4,40}$/.test(id) ? await models.monitors.findById(id).lean<MonitorRecord>() : null;
    if (!m || m.tenantId !== tenantId) throw notFound('monitor');
    return m;
  }

  /** Rules beyond the shape: the group exists; warnings for alert addresses inside the tenant's own domains. */
  async function check(tenantId: string, input: MonitorInput): Promise<FieldError[]> {
    const errors: FieldError[] = [];
    if (input.defaultGroupId && !(await directory.getGroup(tenantId, input.defaultGroupId))) {
      errors.push({ path: 'defaultGroupId', message: `no group "${input.defaultGroupId}" in this tenant's directory` });
    }
    if (input.autoActivation.enabled && !input.defaultGroupId)
      errors.push({ path: 'autoActivation.enabled', message: 'auto-activation needs a default affected group' });
    if (input.outbound.enabled && !input.probeMailbox) errors.push({ path: 'probeMailbox', message: 'the outbound check needs a probe mailbox' });
    if (input.inbound.enabled && !input.probeMailbox)
      errors.push({ path: 'probeMailbox', message: 'the inbound check needs a probe mailbox (its arrival is confirmed there)' });
    if (errors.length) throw unprocessable(errors);
    const tenant = await tenants.get(tenantId);
    const own = new Set((tenant?.domains ?? []).map((d) => d.toLowerCase()));
    const warnings: FieldError[] = [];
    input.alertRecipients.email.forEach((address, i) => {
      const domain = domainOf(address);
      if (own.has(domain) || [...own].some((d) => domain.endsWith(`.${d}`))) {
        warnings.push({
          path: `alertRecipients.email.${i}`,
          message: `${address} is inside your own domain ${domain}: during an outage it may not receive the alert. Add an external address too.`,
        });
      }
    });
    return warnings;
  }

  async function answer(m: MonitorRecord, set: Record<string, unknown>) {
    await models.monitors.updateOne({ _id: m._id }, { $set: { ...set, answeredAt: now() } });
  }

  return {
    load,

    async list(tenantId: string): Promise<MonitorView[]> {
      const records = await models.monitors.find({ tenantId }).sort({ name: 1, _id: 1 }).lean<MonitorRecord[]>();
      return Promise.all(records.map((r) => view(r)));
    },

    async get(tenantId: string, id: string): Promise<MonitorView> {
      return view(await load(tenantId, id));
    },

    async create(by: AdminIdentity, input: MonitorInput, context: AuditContext): Promise<MonitorView> {
      const warnings = await check(by.tenantId, input);
      const id = newId('mon');
      const address = (input.address ?? `monitor-${randomBytes(5).toString('hex')}@${deps.hostname}`).toLowerCase();
      const { ownDomain } = await checkAddress(by.tenantId, address);
      await addresses.claim(by.tenantId, id, address, { ownDomain });
      const t = now();
      const record: MonitorRecord = {
        _id: id,
        tenantId: by.tenantId,
        ...settingsOf(input),
        address,
        state: { ...INITIAL_STATE },
        suppressedUntil: null,
        answeredAt: null,
        autoActivationCancelledAt: null,
        createdAt: t,
        updatedAt: t,
      };
      try {
        await models.monitors.create(record);
      } catch (err) {
        await addresses.release({ _id: address });
        throw err;
      }
      await audit.record({
        tenantId: by.tenantId,
        category: 'monitor',
        action: 'monitor.created',
        actor: adminActor(by),
        target: { type: 'monitor', id, label: input.name },
        after: auditable(record),
        ...context,
      });
      return view(record, warnings);
    },

    async update(by: AdminIdentity, id: string, input: MonitorInput, context: AuditContext): Promise<MonitorView> {
      const existing = await load(by.tenantId, id);
      const warnings = await check(by.tenantId, input);
      const address = (input.address ?? existing.address).toLowerCase();
      if (address !== existing.address) await addresses.claim(by.tenantId, id, address, await checkAddress(by.tenantId, address));
      const result = await models.monitors.updateOne(
        { _id: id, tenantId: by.tenantId, updatedAt: existing.updatedAt },
        { $set: { ...settingsOf(input), address, updatedAt: now() } },
      );
      if (result.matchedCount === 0) {
        if (address !== existing.address) await addresses.release({ _id: address, monitorId: id });
        throw conflict('This monitor was changed by someone else at the same time. Reload it and try again.');
      }
      if (address !== existing.address) await addresses.release({ _id: existing.address, monitorId: id });
      const updated = await load(by.tenantId, id);
      const before = auditable(existing);
      const after = auditable(updated);
      const changedBefore: Record<string, unknown> = {};
      const changedAfter: Record<string, unknown> = {};
      for (const key of Object.keys(after)) {
        if (JSON.stringify(after[key]) !== JSON.stringify(before[key])) {
          changedBefore[key] = before[key] ?? null;
          changedAfter[key] = after[key];
        }
      }
      await audit.record({
        tenantId: by.tenantId,
        category: 'monitor',
        action: 'monitor.updated',
        actor: adminActor(by),
        target: { type: 'monitor', id, label: updated.name },
        before: changedBefore,
        after: changedAfter,
        ...context,
      });
      return view(updated, warnings);
    },

    async remove(by: AdminIdentity, id: string, context: AuditContext): Promise<void> {
      const existing = await load(by.tenantId, id);
      await models.monitors.deleteOne({ _id: id, tenantId: by.tenantId });
      await addresses.release({ _id: existing.address });
      await audit.record({
        tenantId: by.tenantId,
        category: 'monitor',
        action: 'monitor.deleted',
        actor: adminActor(by),
        target: { type: 'monitor', id, label: existing.name },
        before: auditable(existing),
        ...context,
      });
    },

    /** Silences alerts until a time (null resumes them); an answer, so auto-activation stands down. */
    async suppress(actor: MonitorActor, id: string, until: Date | { hours: number } | null, context: AuditContext): Promise<MonitorView> {
      const m = await load(actor.identity.tenantId, id);
      if (until && !(until instanceof Date)) until = new Date(now().getTime() + until.hours * 3600_000);
      if (until && until <= now()) throw unprocessable([{ path: 'until', message: 'must be in the future' }]);
      await answer(m, { suppressedUntil: until });
      await audit.record({
        tenantId: m.tenantId,
        category: 'monitor',
        action: until ? 'monitor.suppressed' : 'monitor.resumed',
        actor: adminActor(actor.identity),
        target: { type: 'monitor', id, label: m.name },
        before: { suppressedUntil: iso(m.suppressedUntil) },
        after: { suppressedUntil: iso(until), ...(actor.via ? { via: actor.via } : {}) },
        ...context,
      });
      return view(await load(m.tenantId, id));
    },

    async cancelAutoActivation(actor: MonitorActor, id: string, context: AuditContext): Promise<MonitorView> {
      const m = await load(actor.identity.tenantId, id);
      if (!m.autoActivation.enabled) throw conflict('Auto-activation is not enabled for this monitor.');
      if (m.state.autoActivatedAt) throw conflict('Auto-activation has already started an event for this detection; end that event instead.');
      await answer(m, { autoActivationCancelledAt: now() });
      await audit.record({
        tenantId: m.tenantId,
        category: 'monitor',
        action: 'monitor.autoActivation.cancelled',
        actor: adminActor(actor.identity),
        target: { type: 'monitor', id, label: m.name },
        after: actor.via ? { via: actor.via } : null,
        ...context,
      });
      return view(await load(m.tenantId, id));
    },

    /** Records an admin's answer from the portal (stops a pending auto-activation). */
    async answered(tenantId: string, id: string): Promise<void> {
      await answer(await load(tenantId, id), {});
    },
  };
}
