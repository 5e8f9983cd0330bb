/** A tenant's mail settings (primary servers, relay, retention): read by delivery and the sweeper, written by admins (audited). */
import type { AuditContext } from '../audit/context';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import type { MailModels, ServerAddress } from './model';

const DEFAULT_RETENTION_DAYS = 5;

export function createMailSettings(deps: { models: MailModels; audit: AuditService; now: () => Date }) {
  const { models, audit, now } = deps;

  async function settingsOf(tenantId: string) {
    const s = await models.settings.findById(tenantId).lean();
    return { primaryServers: s?.primaryServers ?? [], relay: s?.relay ?? null, retentionDays: s?.retentionDays ?? DEFAULT_RETENTION_DAYS };
  }

  return {
    settingsOf,

    async putSettings(
      by: AdminIdentity,
      input: { primaryServers: ServerAddress[]; relay: ServerAddress | null; retentionDays?: number },
      context: AuditContext,
    ) {
      const before = await settingsOf(by.tenantId);
      const after = { primaryServers: input.primaryServers, relay: input.relay, retentionDays: input.retentionDays ?? DEFAULT_RETENTION_DAYS };
      await models.settings.replaceOne({ _id: by.tenantId }, { _id: by.tenantId, ...after, updatedAt: now() }, { upsert: true });
      await audit.record({
        tenantId: by.tenantId,
        category: 'mail',
        action: 'mail.settings.updated',
        actor: adminActor(by),
        target: { type: 'mailSettings', id: by.tenantId, label: 'Mail settings' },
        before,
        after,
        ...context,
      });
      return after;
    },
  };
}
export type MailSettings = ReturnType<typeof createMailSettings>;
