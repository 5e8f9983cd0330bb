/** A monitor as the API shows it (settings, state, auto-activation countdown). Reads the group's name only. */
import type { DirectoryService } from '../directory/service';
import type { FieldError } from '../http/problem';
import { iso, type MonitorContext } from './context';
import type { MonitorRecord } from './model';

const directionView = (d: MonitorRecord['inbound']) => ({
  enabled: d.enabled,
  latencyThresholdSeconds: d.latencyThresholdSeconds ?? null,
  failureThreshold: d.failureThreshold ?? null,
});

export function createMonitorView(ctx: MonitorContext, directory: Pick<DirectoryService, 'getGroup'>) {
  const { now, minuteMs } = ctx;
  const suppressedNow = (m: MonitorRecord) => m.suppressedUntil !== null && m.suppressedUntil > now();

  function autoActivationView(m: MonitorRecord) {
    if (!m.autoActivation.enabled) return { enabled: false, afterMinutes: m.autoActivation.afterMinutes, firesAt: null, cancelled: false, eventId: null };
    const detectedAt = m.state.detected ? m.state.detectedAt : null;
    const cancelled = Boolean(detectedAt && m.autoActivationCancelledAt && m.autoActivationCancelledAt >= detectedAt);
    const answered = Boolean(detectedAt && m.answeredAt && m.answeredAt >= detectedAt);
    const pending = detectedAt && !m.state.autoActivatedAt && !cancelled && !answered;
    return {
      enabled: true,
      afterMinutes: m.autoActivation.afterMinutes,
      firesAt: pending ? new Date(detectedAt!.getTime() + m.autoActivation.afterMinutes * minuteMs).toISOString() : null,
      cancelled: cancelled || answered,
      eventId: m.state.autoEventId,
    };
  }

  return async function view(m: MonitorRecord, warnings: FieldError[] = []) {
    const group = m.defaultGroupId ? await directory.getGroup(m.tenantId, m.defaultGroupId) : null;
    return {
      id: m._id,
      name: m.name,
      enabled: m.enabled,
      inbound: directionView(m.inbound),
      outbound: directionView(m.outbound),
      probeMailbox: m.probeMailbox,
      address: m.address,
      latencyThresholdSeconds: m.latencyThresholdSeconds,
      failureThreshold: m.failureThreshold,
      windowMinutes: m.windowMinutes,
      repeatMinutes: m.repeatMinutes,
      alertRecipients: { sms: [...m.alertRecipients.sms], email: [...m.alertRecipients.email] },
      defaultGroupId: m.defaultGroupId,
      defaultGroup: m.defaultGroupId ? { id: m.defaultGroupId, displayName: group?.displayName ?? null } : null,
      defaultDurationHours: m.defaultDurationHours,
      timeZone: m.timeZone,
      autoActivation: { enabled: m.autoActivation.enabled, afterMinutes: m.autoActivation.afterMinutes },
      cloudPasswordReset: m.cloudPasswordReset ?? 'inherit',
      state: {
        status: m.state.detected ? ('detected' as const) : ('normal' as const),
        failureCount: m.state.failureCount,
        detectedAt: iso(m.state.detectedAt),
        lastAlertAt: iso(m.state.lastAlertAt),
        lastWindowStart: iso(m.state.lastWindowStart),
        lastDecision: m.state.lastDecision,
        suppressedUntil: suppressedNow(m) ? iso(m.suppressedUntil) : null,
        autoActivation: autoActivationView(m),
      },
      createdAt: m.createdAt.toISOString(),
      updatedAt: m.updatedAt.toISOString(),
      ...(warnings.length ? { warnings } : {}),
    };
  };
}
export type MonitorView = Awaited<ReturnType<ReturnType<typeof createMonitorView>>>;
