/**
 * The detector (docs/ARCHITECTURE.md "Continuity monitor facts"): a pure function from the monitor's state and one
 * window's result to the next state and the decision. No clock of its own: `now` is given.
 *
 *  - the failure counter goes +1 for a failed window (at most +1, even if both checks failed) and
 *    −1 (never below 0) for a successful or idle window;
 *  - reaching the threshold enters `detected` and sends an alert, repeated every interval while
 *    the condition holds; falling back below the threshold is `recovered` (a notice is sent);
 *  - while suppressed, a due alert is not sent but still decided (logged as `suppressed`);
 *  - with a failure threshold of its own on either direction, each direction counts apart (same
 *    rule) and either reaching its threshold detects; without, the shared counter decides as ever;
 *  - guarded auto-activation: detected for N minutes with no admin answer (and not cancelled)
 *    starts an event once per detection.
 */
import type { Decision, MonitorRecord, MonitorState } from './model';

/** The per-direction failure thresholds, when a monitor sets one for either direction (else undefined). */
export function directionThresholds(m: Pick<MonitorRecord, 'failureThreshold' | 'inbound' | 'outbound'>): DetectorSettings['directions'] {
  const inbound = m.inbound.failureThreshold ?? null;
  const outbound = m.outbound.failureThreshold ?? null;
  if (inbound === null && outbound === null) return undefined;
  return { inbound: inbound ?? m.failureThreshold, outbound: outbound ?? m.failureThreshold };
}

export interface WindowResult {
  /** At least one check ran and the window failed (outbound failed, or every inbound route failed). */
  failed: boolean;
  /** No check ran (nothing configured or nothing to test): counts like a success. */
  idle: boolean;
  /** Which direction failed (for per-direction counters); absent: as `failed` says for both. */
  failedInbound?: boolean;
  failedOutbound?: boolean;
}

export interface DetectorSettings {
  failureThreshold: number;
  /** Each direction's failure threshold, when either has its own; absent: the shared counter decides. */
  directions?: { inbound: number; outbound: number };
  repeatMs: number;
  suppressedUntil: Date | null;
  autoActivation: { enabled: boolean; afterMs: number } | null;
  answeredAt: Date | null;
  autoActivationCancelledAt: Date | null;
}

export interface DetectorOutcome {
  state: MonitorState;
  decision: Decision;
  /** What to send now: an alert, a recovered notice, or nothing. */
  notify: 'alert' | 'recovered' | null;
  /** Start an event for the default group now (auto-activation). */
  startEvent: boolean;
}

const isSuppressed = (s: DetectorSettings, now: Date) => s.suppressedUntil !== null && s.suppressedUntil > now;

export function decide(previous: MonitorState, window: WindowResult, settings: DetectorSettings, now: Date): DetectorOutcome {
  const failed = window.failed && !window.idle;
  const step = (count: number | undefined, f: boolean) => (f && !window.idle ? (count ?? 0) + 1 : Math.max(0, (count ?? 0) - 1));
  const inboundFailures = step(previous.inboundFailures, window.failedInbound ?? window.failed);
  const outboundFailures = step(previous.outboundFailures, window.failedOutbound ?? window.failed);
  const split = settings.directions;
  const failureCount = split ? Math.max(inboundFailures, outboundFailures) : step(previous.failureCount, failed);
  const state: MonitorState = { ...previous, failureCount, inboundFailures, outboundFailures, lastWindowStart: previous.lastWindowStart };
  const suppressed = isSuppressed(settings, now);
  const above = split
    ? inboundFailures >= Math.max(1, split.inbound) || outboundFailures >= Math.max(1, split.outbound)
    : failureCount >= Math.max(1, settings.failureThreshold);

  const done = (decision: Decision, notify: DetectorOutcome['notify'], startEvent = false): DetectorOutcome => ({
    state: { ...state, lastDecision: decision },
    decision,
    notify,
    startEvent,
  });

  if (!previous.detected && !above) return done('below threshold', null);

  if (previous.detected && !above) {
    state.detected = false;
    state.detectedAt = null;
    state.lastAlertAt = null;
    state.autoEventId = null;
    state.autoActivatedAt = null;
    return done('recovered', suppressed ? null : 'recovered');
  }

  // Above the threshold: newly detected, or still detected.
  if (!previous.detected) {
    state.detected = true;
    state.detectedAt = now;
    state.lastAlertAt = null;
    state.autoEventId = null;
    state.autoActivatedAt = null;
  }
  const detectedAt = state.detectedAt ?? now;

  const auto = settings.autoActivation;
  if (auto?.enabled && state.autoActivatedAt === null && now.getTime() - detectedAt.getTime() >= auto.afterMs) {
    const answered = settings.answeredAt !== null && settings.answeredAt >= detectedAt;
    const cancelled = settings.autoActivationCancelledAt !== null && settings.autoActivationCancelledAt >= detectedAt;
    if (!answered && !cancelled) {
      state.autoActivatedAt = now;
      return done('event started', null, true);
    }
  }

  const due = state.lastAlertAt === null || now.getTime() - state.lastAlertAt.getTime() >= settings.repeatMs;
  if (!due) return done('still detected', null);
  if (suppressed) return done('suppressed', null);
  state.lastAlertAt = now;
  return done('alert sent', 'alert');
}
