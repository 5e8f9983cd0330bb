/**
 * A tenant's mail settings (primary servers, relay, retention, TLS certificate checks): read by delivery
 * and the sweeper, written by admins (audited). Every server must pass the SSRF guard (a private,
 * loopback or link-local address is refused unless the operator allows it) and must not be Lifeboat's
 * own SMTP listener (a loop): both refused with a 422 naming the field.
 */
import type { AuditContext } from '../audit/context';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import { unprocessable, type FieldError } from '../http/problem';
import { ANY_TARGET, type TargetGuard } from '../http/private-target';
import type { MailModels, ServerAddress } from './model';
import type { OwnListeners } from './own-listener';

const DEFAULT_RETENTION_DAYS = 5;

export function createMailSettings(deps: { models: MailModels; audit: AuditService; now: () => Date; targets?: TargetGuard; own?: OwnListeners }) {
  const { models, audit, now } = deps;
  const guard = deps.targets ?? ANY_TARGET;

  async function settingsOf(tenantId: string) {
    const s = await models.settings.findById(tenantId).lean();
    return {
      primaryServers: s?.primaryServers ?? [],
      relay: s?.relay ?? null,
      retentionDays: s?.retentionDays ?? DEFAULT_RETENTION_DAYS,
      // Certificates are checked unless an admin turned it off for an internal relay with its own CA.
      verifyTls: s?.verifyTls ?? true,
    };
  }

  /** The SSRF guard and the loop check for every configured server; each error names its field. */
  async function serverErrors(input: { primaryServers: ServerAddress[]; relay: ServerAddress | null }): Promise<FieldError[]> {
    const servers: [string, ServerAddress][] = input.primaryServers.map((s, i) => [`primaryServers.${i}.host`, s]);
    if (input.relay) servers.push(['relay.host', input.relay]);
    const errors: FieldError[] = [];
    for (const [path, s] of servers) {
      if (await deps.own?.isOwn(s.host, s.port)) {
        errors.push({ path, message: `is Lifeboat's own SMTP listener (${s.host}:${s.port}): mail would loop back into it` });
        continue;
      }
      const why = await guard.refusal(s.host);
      if (why) errors.push({ path, message: `is not allowed: ${why} (an operator may allow it in LIFEBOAT_ALLOWED_PRIVATE_TARGETS)` });
    }
    return errors;
  }

  return {
    settingsOf,

    async putSettings(
      by: AdminIdentity,
      input: { primaryServers: ServerAddress[]; relay: ServerAddress | null; retentionDays?: number; verifyTls?: boolean },
      context: AuditContext,
    ) {
      const errors = await serverErrors(input);
      if (errors.length) throw unprocessable(errors);
      const before = await settingsOf(by.tenantId);
      const after = {
        primaryServers: input.primaryServers,
        relay: input.relay,
        retentionDays: input.retentionDays ?? DEFAULT_RETENTION_DAYS,
        // Omitted: as it was (a form that does not show the switch never turns checking back on or off).
        verifyTls: input.verifyTls ?? before.verifyTls,
      };
      await models.settings.replaceOne({ _id: by.tenantId }, { _id: by.tenantId, ...after, updatedAt: now() }, { upsert: true });
      const actor = adminActor(by);
      const target = { type: 'mailSettings', id: by.tenantId, label: 'Mail settings' };
      await audit.record({ tenantId: by.tenantId, category: 'mail', action: 'mail.settings.updated', actor, target, before, after, ...context });
      if (before.verifyTls !== after.verifyTls) {
        // Its own entry: turning certificate checks off is a security decision someone must own.
        await audit.record({
          tenantId: by.tenantId,
          category: 'mail',
          action: after.verifyTls ? 'mail.tls-verification.on' : 'mail.tls-verification.off',
          actor,
          target,
          before: { verifyTls: before.verifyTls },
          after: { verifyTls: after.verifyTls },
          ...context,
        });
      }
      return after;
    },
  };
}
export type MailSettings = ReturnType<typeof createMailSettings>;
