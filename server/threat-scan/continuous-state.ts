/**
 * Whether continuous protection runs for a tenant, and why: on by default for every Graph-connected
 * tenant whose mode (the default policy's) is Monitor or Protect, off for Disabled (and Threat Scan
 * Only) unless an administrator switched it on, and off whenever an administrator opted out. It needs
 * Mail.Read granted to Lifeboat's app (Mail.ReadWrite for Protect's moves): the permission probe's
 * answer is kept on the tenant's settings and asked again only every `recheckMs` (or when an
 * administrator switches it on), so a tenant without the permission is told which one is missing and
 * is not probed on every loop pass. Never writes deltas or detections: continuous.ts follows mailboxes.
 */
import type { ContinuousModels, ContinuousSettingsRecord } from './continuous-model';
import type { GraphApi } from '../directory/graph/client';
import { probePermissions } from '../directory/graph/permissions';
import { SCAN_PERMISSIONS } from './permissions';

export type TenantMode = 'protect' | 'monitor' | 'disabled' | 'threatScanOnly';

export interface ContinuousStatus {
  /** Whether new mail is being followed now. */
  enabled: boolean;
  /** `automatic`: the administrator has not chosen (on for Monitor/Protect); `on`/`off`: their choice. */
  choice: 'automatic' | 'on' | 'off';
  mode: TenantMode | null;
  /** Why it is on or off, in the administrator's words. */
  reason: string;
  /** The Graph permission it lacks to run at all (Mail.Read), or to move threats in Protect (Mail.ReadWrite). */
  missingPermission: string | null;
  canRemediate: boolean;
  permissionCheckedAt: string | null;
}

export interface StateDeps {
  models: ContinuousModels;
  connected: (tenantId: string) => Promise<boolean>;
  tenantMode: (tenantId: string) => Promise<TenantMode>;
  api: (tenantId: string) => Promise<{ api: GraphApi; clientId: string }>;
  now: () => Date;
  recheckMs: number;
}

const MODE_NAMES: Record<TenantMode, string> = { protect: 'Protect', monitor: 'Monitor', disabled: 'Disabled', threatScanOnly: 'Threat Scan Only' };

export function createContinuousState(deps: StateDeps) {
  const { models, now } = deps;
  // One probe per tenant per recheckMs in this process: the loop and an admin's page asking together share it.
  const probing = new Map<string, { answer: Promise<NonNullable<ContinuousSettingsRecord['permission']>>; at: number }>();

  function checkPermissions(tenantId: string, force = false): Promise<NonNullable<ContinuousSettingsRecord['permission']>> {
    const known = probing.get(tenantId);
    if (known && !force && now().getTime() - known.at < deps.recheckMs) return known.answer;
    const answer = probe(tenantId);
    probing.set(tenantId, { answer, at: now().getTime() });
    return answer;
  }

  /** Reads the granted permissions and keeps the answer (a probe failure is kept too, and retried later). */
  async function probe(tenantId: string): Promise<NonNullable<ContinuousSettingsRecord['permission']>> {
    let permission: NonNullable<ContinuousSettingsRecord['permission']>;
    try {
      const { api, clientId } = await deps.api(tenantId);
      const { granted, refused } = await probePermissions(api, clientId);
      const has = (p: { satisfiedBy: string[] }) => p.satisfiedBy.some((name) => granted.includes(name));
      permission = {
        checkedAt: now(),
        read: has(SCAN_PERMISSIONS.scan),
        readWrite: has(SCAN_PERMISSIONS.remediate),
        error: refused,
      };
    } catch (err) {
      permission = { checkedAt: now(), read: false, readWrite: false, error: `the permission check failed: ${(err as Error).message}` };
    }
    await models.settings.updateOne({ _id: tenantId }, { $set: { permission } }, { upsert: true });
    return permission;
  }

  /** The tenant's state; probes the permissions when the kept answer is missing or older than recheckMs. */
  async function status(tenantId: string, options: { recheck?: boolean } = {}): Promise<ContinuousStatus & { settings: ContinuousSettingsRecord | null }> {
    const settings = await models.settings.findById(tenantId).lean<ContinuousSettingsRecord>();
    const choice = settings?.enabled === true ? 'on' : settings?.enabled === false ? 'off' : 'automatic';
    const base = { choice, missingPermission: null, canRemediate: false, permissionCheckedAt: null, settings } as const;
    if (!(await deps.connected(tenantId)))
      return { ...base, enabled: false, mode: null, reason: 'This tenant is not connected to Microsoft Graph (Directory settings).' };
    const mode = await deps.tenantMode(tenantId);
    if (choice === 'off') return { ...base, enabled: false, mode, reason: 'An administrator switched it off.' };
    if (mode === 'disabled') return { ...base, enabled: false, mode, reason: 'The tenant’s mode is Disabled: no mail is judged.' };
    if (choice === 'automatic' && mode !== 'protect' && mode !== 'monitor')
      return { ...base, enabled: false, mode, reason: `The tenant’s mode is ${MODE_NAMES[mode]}: switch it on to follow new mail.` };
    let permission = settings?.permission ?? null;
    if (options.recheck || !permission || now().getTime() - new Date(permission.checkedAt).getTime() >= deps.recheckMs)
      permission = await checkPermissions(tenantId, options.recheck);
    const checkedAt = permission.checkedAt.toISOString();
    if (!permission.read) {
      const why = permission.error ?? `Lifeboat’s app lacks the Microsoft Graph application permission ${SCAN_PERMISSIONS.scan.permission}`;
      return {
        ...base,
        enabled: false,
        mode,
        missingPermission: SCAN_PERMISSIONS.scan.permission,
        permissionCheckedAt: checkedAt,
        reason: `Off: ${why.replace(/\.$/, '')}. Grant it with admin consent in Entra ID; Lifeboat checks again within ${Math.round(deps.recheckMs / 60_000)} min.`,
      };
    }
    const who = choice === 'on' ? 'An administrator switched it on' : `On by default: the tenant’s mode is ${MODE_NAMES[mode]}`;
    const moves = mode === 'monitor' ? ' New threats are only recorded.' : ' New threats are handled by the recipient’s policy.';
    const noMoves =
      permission.readWrite || mode === 'monitor'
        ? ''
        : ` Threats are recorded, not moved: grant ${SCAN_PERMISSIONS.remediate.permission} for Protect to move them.`;
    return {
      ...base,
      enabled: true,
      mode,
      canRemediate: permission.readWrite,
      // Monitor never moves mail: only Protect misses Mail.ReadWrite.
      missingPermission: permission.readWrite || mode === 'monitor' ? null : SCAN_PERMISSIONS.remediate.permission,
      permissionCheckedAt: checkedAt,
      reason: `${who}.${moves}${noMoves}`,
    };
  }

  return { status, checkPermissions };
}
export type ContinuousState = ReturnType<typeof createContinuousState>;
