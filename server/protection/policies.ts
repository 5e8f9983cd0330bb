/**
 * Protection policies of a tenant: the default policy (created once, by insert, on first use; it cannot
 * be deleted or targeted; its mode is the tenant's mode) and targeted policies that override it. Every
 * change is audited. resolveFor() answers which policy and action apply to one recipient's copy.
 */
import { randomBytes } from 'node:crypto';
import type { AuditContext } from '../audit/context';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import { claimByInsert } from '../db/claims';
import type { DirectoryService } from '../directory/service';
import { conflict, notFound, unprocessable, type FieldError } from '../http/problem';
import type { PolicyRecord, ProtectionModels } from './model';
import { resolvePolicy, type Mode, type Party, type Policy, type Resolution, type Target } from './policy-rules';
import { DEFAULT_ACTIONS, DEFAULT_SCANNER_DOWN, type PolicyBody } from './policy-schema';
import type { VerdictKind } from './verdict';

export const defaultPolicyId = (tenantId: string) => `default:${tenantId}`;
const POLICY_CACHE_MS = 5_000;
const PARTY_CACHE_MS = 30_000;
const PARTY_CACHE_SIZE = 20_000;

const toPolicy = (r: PolicyRecord): Policy => ({
  id: r._id,
  tenantId: r.tenantId,
  name: r.name,
  isDefault: r.isDefault,
  mode: r.mode,
  priority: r.priority,
  matchOn: r.matchOn,
  senders: { include: r.senders?.include ?? [], exclude: r.senders?.exclude ?? [] },
  recipients: { include: r.recipients?.include ?? [], exclude: r.recipients?.exclude ?? [] },
  actions: { ...DEFAULT_ACTIONS, ...r.actions },
  scannerDown: r.scannerDown?.action ? r.scannerDown : { ...DEFAULT_SCANNER_DOWN },
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

const TENANT_ONLY_MODE: FieldError = { path: 'mode', message: 'Threat Scan Only is the tenant’s mode: set it on the default policy' };

const stripIds = (t: Target[]) => t.map(({ type, value }) => ({ type, value }));

export interface PolicyDeps {
  models: ProtectionModels;
  directory: DirectoryService;
  audit: AuditService;
  now?: () => Date;
  /** The mode a tenant's default policy starts in (Protect; the tests' harness starts tenants in Disabled). */
  defaultMode?: Mode;
}

export function createPolicyService(deps: PolicyDeps) {
  const { policies } = deps.models;
  const now = deps.now ?? (() => new Date());

  async function ensureDefault(tenantId: string): Promise<void> {
    const id = defaultPolicyId(tenantId);
    if (await policies.exists({ _id: id })) return;
    const at = now();
    await claimByInsert(policies, {
      _id: id,
      tenantId,
      name: 'Default policy',
      isDefault: true,
      mode: deps.defaultMode ?? 'protect',
      priority: 0,
      matchOn: 'both',
      senders: { include: [], exclude: [] },
      recipients: { include: [], exclude: [] },
      actions: { ...DEFAULT_ACTIONS },
      scannerDown: { ...DEFAULT_SCANNER_DOWN },
      createdAt: at,
      updatedAt: at,
    });
  }

  async function list(tenantId: string): Promise<Policy[]> {
    await ensureDefault(tenantId);
    const rows = await policies.find({ tenantId }).lean<PolicyRecord[]>();
    const all = rows.map(toPolicy);
    return [
      ...all.filter((p) => p.isDefault),
      ...all.filter((p) => !p.isDefault).sort((a, b) => a.priority - b.priority || a.createdAt.localeCompare(b.createdAt)),
    ];
  }

  // The mail path resolves a policy for every recipient of every message: it reads a tenant's policies at
  // most once every POLICY_CACHE_MS (a change made here is seen at once; on another node within that time).
  const cached = new Map<string, { at: number; value: Promise<Policy[]> }>();
  function forMail(tenantId: string): Promise<Policy[]> {
    const hit = cached.get(tenantId);
    if (hit && Date.now() - hit.at < POLICY_CACHE_MS) return hit.value;
    const value = list(tenantId);
    value.catch(() => cached.delete(tenantId));
    cached.set(tenantId, { at: Date.now(), value });
    return value;
  }

  async function get(tenantId: string, id: string): Promise<Policy> {
    if (id === defaultPolicyId(tenantId)) await ensureDefault(tenantId);
    const row = await policies.findById(id).lean<PolicyRecord>();
    if (!row || row.tenantId !== tenantId) throw notFound('policy');
    return toPolicy(row);
  }

  /** Group targets must name groups of this tenant's directory (422 naming the field otherwise). */
  async function checkGroups(tenantId: string, body: PolicyBody): Promise<void> {
    const errors: FieldError[] = [];
    for (const side of ['senders', 'recipients'] as const) {
      for (const list of ['include', 'exclude'] as const) {
        for (const [i, t] of body[side][list].entries()) {
          if (t.type === 'group' && !(await deps.directory.getGroup(tenantId, t.value))) {
            errors.push({ path: `${side}.${list}.${i}.value`, message: 'is not a group of this tenant' });
          }
        }
      }
    }
    if (errors.length) throw unprocessable(errors);
  }

  /** An address as policies see it: the directory groups of its user, nested groups included. */
  async function lookUpParty(tenantId: string, address: string): Promise<Party> {
    const user = await deps.directory.findUserByAddress(tenantId, address);
    return { address: address.toLowerCase(), groups: user ? await deps.directory.transitiveGroupIds(tenantId, user.id) : [] };
  }

  // The mail path asks for three addresses of every message (envelope and header sender, recipient), and a
  // directory look-up by address scans the users collection (FerretDB v1 uses an index only for _id). Kept
  // PARTY_CACHE_MS; a directory change (here or on another node: the `directory:changed` reaction) drops the
  // tenant's at once, look-ups still running included (forgetParties).
  const parties = new Map<string, { at: number; value: Promise<Party> }>();
  function party(tenantId: string, address: string): Promise<Party> {
    if (!address) return Promise.resolve({ address: '', groups: [] });
    const key = `${tenantId}\n${address.toLowerCase()}`;
    const hit = parties.get(key);
    if (hit && Date.now() - hit.at < PARTY_CACHE_MS) return hit.value;
    const value = lookUpParty(tenantId, address);
    if (parties.size >= PARTY_CACHE_SIZE) parties.clear();
    parties.set(key, { at: Date.now(), value });
    value.catch(() => parties.get(key)?.value === value && parties.delete(key));
    return value;
  }
  function forgetParties(tenantId: string): void {
    for (const key of parties.keys()) if (key.startsWith(`${tenantId}\n`)) parties.delete(key);
  }

  const record = (admin: AdminIdentity, ctx: AuditContext, action: string, policy: Policy, before: Policy | null, after: Policy | null) =>
    deps.audit.record({
      tenantId: admin.tenantId,
      category: 'protection',
      action,
      actor: adminActor(admin),
      target: { type: 'protectionPolicy', id: policy.id, label: policy.name },
      before,
      after,
      ...ctx,
    });

  return {
    ensureDefault,
    list,
    get,
    party,
    /** The tenant's directory changed: its addresses' groups are looked up again. */
    forgetParties,

    async create(admin: AdminIdentity, body: PolicyBody, ctx: AuditContext): Promise<Policy> {
      if (body.mode === 'threatScanOnly') throw unprocessable([TENANT_ONLY_MODE]);
      await checkGroups(admin.tenantId, body);
      await ensureDefault(admin.tenantId);
      const at = now();
      const id = randomBytes(12).toString('hex');
      await policies.create({ _id: id, tenantId: admin.tenantId, isDefault: false, ...body, createdAt: at, updatedAt: at });
      cached.delete(admin.tenantId);
      const created = await get(admin.tenantId, id);
      await record(admin, ctx, 'policy.create', created, null, created);
      return created;
    },

    async replace(admin: AdminIdentity, id: string, body: PolicyBody, ctx: AuditContext): Promise<Policy> {
      const before = await get(admin.tenantId, id);
      if (before.isDefault) {
        const errors: FieldError[] = [];
        for (const side of ['senders', 'recipients'] as const) {
          for (const list of ['include', 'exclude'] as const) {
            if (body[side][list].length) errors.push({ path: `${side}.${list}`, message: 'the default policy applies to everyone and cannot be targeted' });
          }
        }
        if (errors.length) throw unprocessable(errors);
      } else if (body.mode === 'threatScanOnly') throw unprocessable([TENANT_ONLY_MODE]);
      await checkGroups(admin.tenantId, body);
      const update = {
        ...body,
        senders: { include: stripIds(body.senders.include), exclude: stripIds(body.senders.exclude) },
        recipients: { include: stripIds(body.recipients.include), exclude: stripIds(body.recipients.exclude) },
        // The default is always evaluated last; its priority is not the admin's to set.
        priority: before.isDefault ? 0 : body.priority,
        updatedAt: now(),
      };
      await policies.updateOne({ _id: id, tenantId: admin.tenantId }, { $set: update });
      cached.delete(admin.tenantId);
      const after = await get(admin.tenantId, id);
      await record(admin, ctx, before.isDefault && before.mode !== after.mode ? 'mode.change' : 'policy.update', after, before, after);
      return after;
    },

    async remove(admin: AdminIdentity, id: string, ctx: AuditContext): Promise<void> {
      const before = await get(admin.tenantId, id);
      if (before.isDefault) throw conflict('The default policy cannot be deleted.');
      await policies.deleteOne({ _id: id, tenantId: admin.tenantId });
      cached.delete(admin.tenantId);
      await record(admin, ctx, 'policy.delete', before, before, null);
    },

    /** The tenant's mode: the default policy's. */
    async tenantMode(tenantId: string) {
      return (await get(tenantId, defaultPolicyId(tenantId))).mode;
    },

    /** Policy and action for one recipient's copy (pass the verdict `clean` to learn whether to scan at all). */
    async resolveFor(tenantId: string, subject: { mailFrom: string; headerFrom: string | null; recipient: string }, verdict: VerdictKind): Promise<Resolution> {
      const [all, envelope, header, recipient] = await Promise.all([
        forMail(tenantId),
        party(tenantId, subject.mailFrom),
        subject.headerFrom ? party(tenantId, subject.headerFrom) : Promise.resolve(null),
        party(tenantId, subject.recipient),
      ]);
      return resolvePolicy(all, { sender: { envelope, header }, recipient }, verdict);
    },
  };
}
export type PolicyService = ReturnType<typeof createPolicyService>;
