/** The detector over a deterministic clock: counter, threshold, repeats, suppression, recovery, auto-activation. */
import { latencyThreshold } from '../../server/monitor/checks';
import { decide, directionThresholds, type DetectorSettings, type WindowResult } from '../../server/monitor/detector';
import { INITIAL_STATE, type MonitorState } from '../../server/monitor/model';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);
const at = (minutes: number) => new Date(T0 + minutes * MIN);
const FAIL: WindowResult = { failed: true, idle: false };
const OK: WindowResult = { failed: false, idle: false };
const IDLE: WindowResult = { failed: false, idle: true };

const base: DetectorSettings = {
  failureThreshold: 3,
  repeatMs: 30 * MIN,
  suppressedUntil: null,
  autoActivation: null,
  answeredAt: null,
  autoActivationCancelledAt: null,
};

/** Runs 2-minute windows from T0 and returns every decision with the counter after it. */
function run(windows: WindowResult[], settings: Partial<DetectorSettings> = {}, start: MonitorState = INITIAL_STATE) {
  let state = start;
  return windows.map((w, i) => {
    const out = decide(state, w, { ...base, ...settings }, at(2 * (i + 1)));
    state = out.state;
    return { decision: out.decision, count: state.failureCount, notify: out.notify, startEvent: out.startEvent, state };
  });
}

describe('monitor detector', () => {
  it('counts +1 per failed window and −1 (floor 0) per successful or idle one', () => {
    const steps = run([FAIL, FAIL, OK, IDLE, OK, FAIL]);
    expect(steps.map((s) => s.count)).toEqual([1, 2, 1, 0, 0, 1]);
    expect(steps.every((s) => s.decision === 'below threshold' && s.notify === null)).toBe(true);
  });

  it('an idle window never counts as failed, even if flagged failed', () => {
    expect(run([{ failed: true, idle: true }])[0]!.count).toBe(0);
  });

  it('alerts at the threshold, repeats every interval while detected, then recovers below it', () => {
    const steps = run([FAIL, FAIL, FAIL, ...Array(15).fill(FAIL), OK]);
    expect(steps[1]!.decision).toBe('below threshold');
    expect(steps[2]).toMatchObject({ decision: 'alert sent', notify: 'alert', count: 3 });
    expect(steps[2]!.state.detected).toBe(true);
    // Windows every 2 min: the next alert is due 30 min after the first (window 18, minute 36).
    const alerts = steps.map((s, i) => (s.decision === 'alert sent' ? i : -1)).filter((i) => i >= 0);
    expect(alerts).toEqual([2, 17]);
    expect(steps.slice(3, 17).every((s) => s.decision === 'still detected')).toBe(true);
    // Counter 18 → 17: still above the threshold, so no recovery yet.
    expect(steps[18]).toMatchObject({ decision: 'still detected', count: 17 });
  });

  it('recovers when the counter falls back below the threshold and sends a notice', () => {
    const steps = run([FAIL, FAIL, FAIL, FAIL, OK, OK, OK]);
    expect(steps.map((s) => s.decision)).toEqual([
      'below threshold',
      'below threshold',
      'alert sent',
      'still detected',
      'still detected',
      'recovered',
      'below threshold',
    ]);
    expect(steps[5]).toMatchObject({ notify: 'recovered', count: 2 });
    expect(steps[5]!.state.detected).toBe(false);
  });

  it('suppression silences a due alert (logged as suppressed); the alert goes out once suppression ends', () => {
    const steps = run([FAIL, FAIL, FAIL, FAIL, FAIL], { suppressedUntil: at(9) });
    expect(steps.map((s) => s.decision)).toEqual(['below threshold', 'below threshold', 'suppressed', 'suppressed', 'alert sent']);
    expect(steps[2]!.notify).toBeNull();
    expect(steps[4]!.notify).toBe('alert');
  });

  it('a recovery while suppressed is decided but sends no notice', () => {
    const detected = run([FAIL, FAIL, FAIL])[2]!.state;
    const out = decide(detected, OK, { ...base, suppressedUntil: at(60) }, at(8));
    expect(out).toMatchObject({ decision: 'recovered', notify: null });
  });

  describe('guarded auto-activation', () => {
    const auto = { autoActivation: { enabled: true, afterMs: 4 * MIN } };

    it('starts an event once, after being detected for N minutes with no answer', () => {
      const steps = run(Array(7).fill(FAIL), auto);
      // Detected at minute 6 (window 3); 4 minutes later (minute 10) the event starts.
      expect(steps.map((s) => s.decision)).toEqual([
        'below threshold',
        'below threshold',
        'alert sent',
        'still detected',
        'event started',
        'still detected',
        'still detected',
      ]);
      expect(steps[4]!.startEvent).toBe(true);
    });

    it('does not fire when an admin answered or cancelled after the detection', () => {
      expect(run(Array(7).fill(FAIL), { ...auto, answeredAt: at(7) }).some((s) => s.startEvent)).toBe(false);
      expect(run(Array(7).fill(FAIL), { ...auto, autoActivationCancelledAt: at(7) }).some((s) => s.startEvent)).toBe(false);
      // An answer from before this detection does not count.
      expect(run(Array(7).fill(FAIL), { ...auto, answeredAt: at(1) }).some((s) => s.startEvent)).toBe(true);
    });

    it('fires at most once per detection (the service records the event it started)', () => {
      const steps = run(Array(5).fill(FAIL), auto);
      expect(steps[4]!.state.autoActivatedAt).toEqual(at(10));
      expect(decide(steps[4]!.state, FAIL, { ...base, ...auto }, at(12)).startEvent).toBe(false);
      // A new detection after a recovery may fire again.
      const recovered = run([OK, OK, OK], {}, steps[4]!.state).pop()!.state;
      expect(recovered.autoActivatedAt).toBeNull();
    });
  });

  describe('per-direction failure thresholds', () => {
    const OUT: WindowResult = { failed: true, idle: false, failedOutbound: true, failedInbound: false };
    const IN: WindowResult = { failed: true, idle: false, failedOutbound: false, failedInbound: true };
    const GOOD: WindowResult = { failed: false, idle: false, failedOutbound: false, failedInbound: false };

    it('counts each direction apart and detects when either reaches its own threshold', () => {
      const steps = run([OUT, OUT, IN], { directions: { inbound: 5, outbound: 2 } });
      expect(steps.map((s) => [s.state.outboundFailures, s.state.inboundFailures])).toEqual([
        [1, 0],
        [2, 0],
        [1, 1],
      ]);
      expect(steps[1]).toMatchObject({ decision: 'alert sent', notify: 'alert' });
      // Inbound alone needs 5 failed windows.
      const inbound = run([IN, IN, IN, IN, IN], { directions: { inbound: 5, outbound: 2 } });
      expect(inbound.map((s) => s.decision)).toEqual(['below threshold', 'below threshold', 'below threshold', 'below threshold', 'alert sent']);
    });

    it('does not add failures of different directions together', () => {
      // Shared (today's rule): out, in, out is three failed windows and detects at 3.
      expect(run([OUT, IN, OUT]).map((s) => s.decision)).toEqual(['below threshold', 'below threshold', 'alert sent']);
      // Per direction, with both at 3: neither direction failed three times.
      const split = run([OUT, IN, OUT, GOOD], { directions: { inbound: 3, outbound: 3 } });
      expect(split.every((s) => s.decision === 'below threshold')).toBe(true);
    });
  });

  it("takes each direction's own thresholds, else the shared ones", () => {
    const direction = (latencyThresholdSeconds: number | null, failureThreshold: number | null) => ({
      enabled: true,
      latencyThresholdSeconds,
      failureThreshold,
    });
    const shared = { latencyThresholdSeconds: 60, failureThreshold: 3, inbound: direction(null, null), outbound: direction(null, null) };
    expect(directionThresholds(shared)).toBeUndefined();
    expect([latencyThreshold(shared, 'inbound'), latencyThreshold(shared, 'outbound')]).toEqual([60, 60]);
    const own = { ...shared, inbound: direction(120, null), outbound: direction(null, 1) };
    expect(directionThresholds(own)).toEqual({ inbound: 3, outbound: 1 });
    expect([latencyThreshold(own, 'inbound'), latencyThreshold(own, 'outbound')]).toEqual([120, 60]);
  });
});
