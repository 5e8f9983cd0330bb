/** Readiness figures the admin page cannot compute from other APIs: how many users can sign in without Entra. */
import type { AuditContext } from '../audit/context';
import type { Model } from 'mongoose';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import type { DirectoryService } from '../directory/service';
import { unprocessable } from '../http/problem';
import type { UserAuthService } from '../user-auth/service';
import { includeFor, type DnsConfig, type SpfSetting } from './dns';
import type { ReadinessSettingsRecord } from './model';

/** Opted-in users among the given ids who have a number to receive SMS at (server/notify consents). */
type OptedInRecipients = (tenantId: string, userIds: string[]) => Promise<{ userId: string }[]>;

export interface ReadinessSettingsInput {
  region: string | null;
  customInclude: string | null;
}

export function createReadinessService(deps: {
  directory: DirectoryService;
  userAuth: UserAuthService;
  smsOptedIn: OptedInRecipients;
  settings?: Model<ReadinessSettingsRecord>;
  audit?: AuditService;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());

  async function spfSetting(tenantId: string): Promise<SpfSetting> {
    const doc = deps.settings ? await deps.settings.findById(tenantId).lean<ReadinessSettingsRecord>() : null;
    return { region: doc?.region ?? null, customInclude: doc?.customInclude ?? null };
  }

  function settingsView(setting: SpfSetting, config: DnsConfig) {
    const effective = includeFor(config, setting);
    return {
      region: setting.region,
      customInclude: setting.customInclude,
      spfInclude: effective.include,
      spfIncludeSource: effective.source,
      defaultInclude: config.spfInclude,
      regions: Object.entries(config.spfRegions ?? {}).map(([id, include]) => ({ id, include })),
    };
  }

  return {
    spfSetting,
    async settings(tenantId: string, config: DnsConfig) {
      return settingsView(await spfSetting(tenantId), config);
    },
    /** Full administrators pick the region (or a custom include); audited. An unknown region is a 422 naming `region`. */
    async updateSettings(by: AdminIdentity, input: ReadinessSettingsInput, config: DnsConfig, context: AuditContext) {
      if (!deps.settings || !deps.audit) throw new Error('readiness settings are not configured');
      const regions = config.spfRegions ?? {};
      if (input.region !== null && !regions[input.region]) {
        const known = Object.keys(regions);
        throw unprocessable([
          {
            path: 'region',
            message: known.length
              ? `unknown region "${input.region}"; known regions: ${known.join(', ')}`
              : `unknown region "${input.region}": this server has no regions (LIFEBOAT_SPF_REGIONS)`,
          },
        ]);
      }
      const before = await spfSetting(by.tenantId);
      const after: SpfSetting = { region: input.region, customInclude: input.customInclude };
      await deps.settings.updateOne({ _id: by.tenantId }, { $set: { ...after, updatedAt: now(), updatedBy: by.email } }, { upsert: true });
      await deps.audit.record({
        tenantId: by.tenantId,
        category: 'configuration',
        action: 'readiness.settings.updated',
        actor: adminActor(by),
        target: { type: 'readinessSettings', id: by.tenantId, label: 'outbound SPF include' },
        before: { ...before },
        after: { ...after, spfInclude: includeFor(config, after).include },
        ...context,
      });
      return settingsView(after, config);
    },
    async users(tenantId: string) {
      const users = await deps.directory.allUserIds(tenantId);
      const known = new Set(users);
      // Credentials of users no longer in the directory do not count.
      const withPassword = new Set((await deps.userAuth.cloudPasswordUserIds(tenantId)).filter((id) => known.has(id))).size;
      const optedIn = (await deps.smsOptedIn(tenantId, users)).length;
      return {
        users: users.length,
        cloudPassword: { users: withPassword, percent: percentOf(withPassword, users.length) },
        smsOptIn: { users: optedIn, percent: percentOf(optedIn, users.length) },
      };
    },
  };
}
function percentOf(part: number, whole: number): number | null {
  return whole ? Math.round((part / whole) * 1000) / 10 : null;
}
export type ReadinessService = ReturnType<typeof createReadinessService>;
