/**
 * The monitor's answer to "may users reset their cloud password now?": a monitor record's own
 * Allow Cloud Password Reset option overrides the events' and the tenant's (seed, Continuity
 * Events). Read by the reset service only; it never changes a monitor.
 */
import type { CloudPasswordReset } from '../events/model';
import type { MonitorRecord } from './model';
import type { monitorModels } from './model';

export type MonitorResetOverride = (tenantId: string) => Promise<Exclude<CloudPasswordReset, 'inherit'> | null>;

/** Enabled monitors with an explicit option decide ('never' wins, then the first by name); null: none does. */
export function monitorResetOverride(models: Pick<ReturnType<typeof monitorModels>, 'monitors'>): MonitorResetOverride {
  return async (tenantId) => {
    const rows = await models.monitors
      .find({ tenantId, enabled: true })
      .sort({ name: 1 })
      .select({ cloudPasswordReset: 1 })
      .lean<Pick<MonitorRecord, 'cloudPasswordReset'>[]>();
    const explicit = rows.map((r) => r.cloudPasswordReset ?? 'inherit').filter((p) => p !== 'inherit');
    if (explicit.includes('never')) return 'never';
    return explicit[0] ?? null;
  };
}
