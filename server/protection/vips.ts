/**
 * The VIP list an admin edits: names (and addresses) that outsiders must not use as a display name, on top
 * of every directory user's. Stored in one document per tenant; a change is audited.
 */
import type { AuditContext } from '../audit/context';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import type { ProtectionModels, ProtectionSettingsRecord } from './model';

export interface Vip {
  displayName: string;
  address: string | null;
}

export function createVipService(deps: { models: ProtectionModels; audit: AuditService; onChange: (tenantId: string) => void; now?: () => Date }) {
  const { settings } = deps.models;
  const now = deps.now ?? (() => new Date());

  async function list(tenantId: string): Promise<Vip[]> {
    const doc = await settings.findById(tenantId).lean<ProtectionSettingsRecord>();
    return (doc?.vips ?? []).map((v) => ({ displayName: v.displayName, address: v.address ?? null }));
  }

  return {
    list,
    async replace(admin: AdminIdentity, vips: Vip[], ctx: AuditContext): Promise<Vip[]> {
      const before = await list(admin.tenantId);
      await settings.updateOne({ _id: admin.tenantId }, { $set: { vips, updatedAt: now() } }, { upsert: true });
      deps.onChange(admin.tenantId);
      await deps.audit.record({
        tenantId: admin.tenantId,
        category: 'protection',
        action: 'vips.update',
        actor: adminActor(admin),
        target: { type: 'protectionVips', id: admin.tenantId, label: 'VIP list' },
        before,
        after: vips,
        ...ctx,
      });
      return list(admin.tenantId);
    },
  };
}
export type VipService = ReturnType<typeof createVipService>;
