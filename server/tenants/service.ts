/** Tenants: the root every other record hangs from. */
import type { TenantModel, TenantRecord } from './model';

export interface Tenant {
  id: string;
  name: string;
  domains: string[];
}

const toTenant = (r: Pick<TenantRecord, '_id' | 'name' | 'domains'>): Tenant => ({ id: r._id, name: r.name, domains: r.domains });

export function createTenantService(tenants: TenantModel) {
  return {
    async upsert(tenant: Tenant, directorySource: 'file' | 'graph' = 'file'): Promise<void> {
      await tenants.updateOne(
        { _id: tenant.id },
        { $set: { name: tenant.name, domains: tenant.domains.map((d) => d.toLowerCase()), directorySource } },
        { upsert: true },
      );
    },
    async get(id: string): Promise<Tenant | null> {
      const record = await tenants.findById(id).lean();
      return record ? toTenant(record) : null;
    },
    async list(): Promise<Tenant[]> {
      return (await tenants.find().sort({ _id: 1 }).lean()).map(toTenant);
    },
    /** The tenant that owns a mail domain, if any. */
    async byDomain(domain: string): Promise<Tenant | null> {
      const record = await tenants.findOne({ domains: domain.toLowerCase() }).lean();
      return record ? toTenant(record) : null;
    },
  };
}
export type TenantService = ReturnType<typeof createTenantService>;
