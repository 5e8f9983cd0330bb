/** Tenants: the root every other record hangs from. */
import { isDuplicateKey } from '../db/claims';
import type { TenantModel, TenantRecord } from './model';

export interface Tenant {
  id: string;
  name: string;
  domains: string[];
  entraTenantId?: string | null;
}

const toTenant = (r: Pick<TenantRecord, '_id' | 'name' | 'domains' | 'entraTenantId'>): Tenant => ({
  id: r._id,
  name: r.name,
  domains: r.domains,
  entraTenantId: r.entraTenantId ?? null,
});

export function createTenantService(tenants: TenantModel) {
  return {
    async upsert(tenant: Tenant, directorySource: 'file' | 'graph' = 'file'): Promise<void> {
      const set = {
        name: tenant.name,
        domains: tenant.domains.map((d) => d.toLowerCase()),
        directorySource,
        ...(tenant.entraTenantId !== undefined ? { entraTenantId: tenant.entraTenantId?.toLowerCase() ?? null } : {}),
      };
      try {
        await tenants.updateOne({ _id: tenant.id }, { $set: set }, { upsert: true });
      } catch (err) {
        // Two nodes starting together on an empty database both insert the tenant: the one that lost updates it.
        if (!isDuplicateKey(err)) throw err;
        await tenants.updateOne({ _id: tenant.id }, { $set: set });
      }
    },
    async get(id: string): Promise<Tenant | null> {
      const record = await tenants.findById(id).lean();
      return record ? toTenant(record) : null;
    },
    async list(): Promise<Tenant[]> {
      return (await tenants.find().sort({ _id: 1 }).lean()).map(toTenant);
    },
    /** The tenant whose Entra ID directory has this id (a token's `tid`). */
    async byEntraTenantId(entraTenantId: string): Promise<Tenant | null> {
      const record = await tenants.findOne({ entraTenantId: entraTenantId.toLowerCase() }).lean();
      return record ? toTenant(record) : null;
    },
    /** The tenant that owns a mail domain, if any. */
    async byDomain(domain: string): Promise<Tenant | null> {
      const record = await tenants.findOne({ domains: domain.toLowerCase() }).lean();
      return record ? toTenant(record) : null;
    },
  };
}
export type TenantService = ReturnType<typeof createTenantService>;
