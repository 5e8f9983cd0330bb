/**
 * Admin accounts of a tenant (add, change role, remove, reset password, unlock), and the first full
 * administrator of a tenant that has none. A tenant always keeps at least one full administrator.
 */
import { Types } from 'mongoose';
import type { AuditContext } from '../audit/context';
import type { AuditService } from '../audit/service';
import { claimByInsert, isDuplicateKey } from '../db/claims';
import { domainOf } from '../http/addresses';
import { conflict, forbidden, notFound, unprocessable } from '../http/problem';
import type { Tenant, TenantService } from '../tenants/service';
import { adminActor, type AdminIdentity } from './identity';
import type { AdminModel, AdminRecord, Role, SessionModel } from './model';
import { generatePassword, hashPassword } from './password';
import type { LoginThrottle } from './throttle';

export interface AdminView {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  twoFactor: boolean;
  createdAt: string;
}

const toView = (a: AdminRecord): AdminView => ({
  id: a._id.toHexString(),
  email: a.email,
  displayName: a.displayName,
  role: a.role,
  twoFactor: Boolean(a.totpSecret),
  createdAt: a.createdAt.toISOString(),
});

export function createAdminService(deps: {
  admins: AdminModel;
  sessions: SessionModel;
  audit: AuditService;
  throttle: LoginThrottle;
  tenants: TenantService;
  /** LIFEBOAT_ADMIN_EMAIL_DOMAINS: domains allowed besides the tenant's own (`*`: any), set by the server's operator. */
  emailDomains?: string[];
}) {
  const { admins, audit } = deps;
  const emailDomains = new Set((deps.emailDomains ?? []).map((d) => d.toLowerCase()));

  /** An admin's address is in the tenant's own domains, unless the server's operator allows more. */
  async function checkEmailDomain(tenantId: string, email: string): Promise<void> {
    const domain = domainOf(email);
    if (emailDomains.has('*') || emailDomains.has(domain)) return;
    const tenant = await deps.tenants.get(tenantId);
    if (tenant?.domains.includes(domain)) return;
    throw unprocessable([{ path: 'email', message: `must be in one of your organisation's domains (${(tenant?.domains ?? []).join(', ')})` }]);
  }

  async function audited(by: AdminIdentity, action: string, target: AdminRecord, context: AuditContext, extra: { before?: object; after?: object } = {}) {
    await audit.record({
      tenantId: by.tenantId,
      category: 'security',
      action,
      actor: adminActor(by),
      target: { type: 'admin', id: target._id.toHexString(), label: target.email },
      ...extra,
      ...context,
    });
  }

  /** Refuses to leave the tenant without a full administrator (not atomic: two full admins removing each other at once may both pass). */
  async function keepOneFullAdministrator(admin: AdminRecord): Promise<void> {
    if (admin.role !== 'fullAdministrator') return;
    const others = await admins.countDocuments({ tenantId: admin.tenantId, role: 'fullAdministrator', _id: { $ne: admin._id } });
    if (others === 0) throw conflict('This is the last full administrator of the organisation: add another one first.');
  }

  async function find(tenantId: string, id: string): Promise<AdminRecord> {
    const admin = Types.ObjectId.isValid(id) ? await admins.findOne({ _id: id, tenantId }).lean<AdminRecord>() : null;
    if (!admin) throw notFound('admin');
    return admin;
  }

  return {
    async list(tenantId: string): Promise<AdminView[]> {
      return (await admins.find({ tenantId }).sort({ email: 1 }).lean<AdminRecord[]>()).map(toView);
    },

    async get(tenantId: string, id: string): Promise<AdminView> {
      return toView(await find(tenantId, id));
    },

    find,

    async update(by: AdminIdentity, id: string, input: { role?: Role; displayName?: string }, context: AuditContext): Promise<AdminView> {
      const admin = await find(by.tenantId, id);
      if (input.role && input.role !== 'fullAdministrator') await keepOneFullAdministrator(admin);
      const set = { ...(input.role ? { role: input.role } : {}), ...(input.displayName !== undefined ? { displayName: input.displayName } : {}) };
      await admins.updateOne({ _id: admin._id }, { $set: set });
      const updated = { ...admin, ...set };
      await audited(by, input.role && input.role !== admin.role ? 'admin.roleChanged' : 'admin.updated', admin, context, {
        before: { role: admin.role, displayName: admin.displayName },
        after: { role: updated.role, displayName: updated.displayName },
      });
      return toView(updated);
    },

    async remove(by: AdminIdentity, id: string, context: AuditContext): Promise<void> {
      const admin = await find(by.tenantId, id);
      if (admin._id.toHexString() === by.adminId) throw forbidden('You cannot remove your own account; ask another full administrator.');
      await keepOneFullAdministrator(admin);
      await admins.deleteOne({ _id: admin._id, tenantId: by.tenantId });
      await deps.sessions.deleteMany({ tenantId: by.tenantId, adminId: admin._id });
      await audited(by, 'admin.removed', admin, context, { before: { email: admin.email, role: admin.role } });
    },

    /** Sets a new password for another admin (forgotten); their sessions end. */
    async resetPassword(by: AdminIdentity, id: string, password: string, context: AuditContext): Promise<void> {
      const admin = await find(by.tenantId, id);
      await admins.updateOne({ _id: admin._id }, { $set: { passwordHash: await hashPassword(password) } });
      await deps.sessions.deleteMany({ tenantId: by.tenantId, adminId: admin._id });
      await audited(by, 'admin.passwordReset', admin, context);
    },

    async unlock(by: AdminIdentity, id: string, context: { ip: string | null; requestId: string | null }): Promise<void> {
      const admin = await find(by.tenantId, id);
      const cleared = await deps.throttle.unlock(`admin:${admin.email}`);
      await audit.record({
        tenantId: by.tenantId,
        category: 'security',
        action: 'admin.unlocked',
        actor: adminActor(by),
        target: { type: 'admin', id, label: admin.email },
        after: { clearedAttempts: cleared },
        ...context,
      });
    },

    async create(by: AdminIdentity, input: { email: string; password: string; role: Role; displayName?: string }, context: AuditContext): Promise<AdminView> {
      await checkEmailDomain(by.tenantId, input.email);
      const passwordHash = await hashPassword(input.password);
      let created: AdminRecord;
      try {
        created = (
          await admins.create({ tenantId: by.tenantId, email: input.email, displayName: input.displayName ?? '', role: input.role, passwordHash })
        ).toObject();
      } catch (err) {
        // Unique within the tenant only: this says nothing about other tenants.
        if (isDuplicateKey(err)) throw conflict('An admin of your organisation already has this email address.');
        throw err;
      }
      const view = toView(created);
      await audit.record({
        tenantId: by.tenantId,
        category: 'security',
        action: 'admin.created',
        actor: adminActor(by),
        target: { type: 'admin', id: view.id, label: view.email },
        after: { email: view.email, role: view.role, displayName: view.displayName },
        ...context,
      });
      return view;
    },

    /**
     * Gives a tenant without admins its first full administrator: the configured one when its
     * domain is the tenant's (or there is just one tenant), else admin@<first domain> with a random
     * password that is returned once and never stored in clear.
     */
    async bootstrap(
      tenant: Tenant,
      configured: { email?: string; password?: string; onlyTenant: boolean },
    ): Promise<{ email: string; generatedPassword: string | null } | null> {
      if (await admins.exists({ tenantId: tenant.id })) return null;
      const configuredDomain = configured.email?.split('@')[1]?.toLowerCase();
      const useConfigured = configured.email && configured.password && (configured.onlyTenant || tenant.domains.includes(configuredDomain ?? ''));
      const email = useConfigured ? configured.email!.toLowerCase() : `admin@${tenant.domains[0]}`;
      const password = useConfigured ? configured.password! : generatePassword();
      const claimed = await claimByInsert(admins, {
        tenantId: tenant.id,
        email,
        displayName: 'Lifeboat administrator',
        role: 'fullAdministrator',
        passwordHash: await hashPassword(password),
      });
      if (!claimed) return null; // another process bootstrapped it first
      await audit.record({
        tenantId: tenant.id,
        category: 'security',
        action: 'admin.bootstrapped',
        actor: { type: 'system', id: null, email: null },
        target: { type: 'admin', id: null, label: email },
        after: { email, role: 'fullAdministrator', passwordSource: useConfigured ? 'LIFEBOAT_ADMIN_PASSWORD' : 'generated' },
      });
      return { email, generatedPassword: useConfigured ? null : password };
    },
  };
}
export type AdminService = ReturnType<typeof createAdminService>;
