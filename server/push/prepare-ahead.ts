/**
 * Prepares a scheduled start or end: its statuses are computed, and the sockets grouped by them, just
 * before it is due, so the push at the transition only records the change and emits. One timer per
 * event; a change re-arms it. Owns only these timers (the reactions that call it: reactions/wiring.ts).
 */
import type { EventRecord } from '../events/model';
import type { Push } from './socket';
import type { StatusService } from './status';

/** How long before a scheduled start or end the statuses it brings are computed (see status.prepare). */
export const PREPARE_LEAD_MS = 750;
/** setTimeout's limit; transitions further away are not prepared (they push as usual). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createPrepareAhead(deps: { status: StatusService; push: Push; now: () => Date }) {
  const { status, push, now } = deps;
  const timers = new Map<string, NodeJS.Timeout>();

  /** (Re-)arms the timer for the event's next transition, if it has Outlook continuity and one is due in time. */
  return function prepareAhead(event: EventRecord): void {
    const id = event._id.toHexString();
    clearTimeout(timers.get(id));
    timers.delete(id);
    if (!event.outlookContinuity) return;
    const at = !event.startFiredAt ? event.start : !event.endFiredAt && event.end ? event.end : null;
    if (!at) return;
    const delay = at.getTime() - PREPARE_LEAD_MS - now().getTime();
    if (delay < 0 || delay > MAX_TIMER_MS) return;
    const timer = setTimeout(() => {
      timers.delete(id);
      // Only an optimisation: when it fails the transition computes its statuses itself.
      status
        .prepare(event.tenantId, at)
        .then(() => push.prepare(event.tenantId, at))
        .catch(() => {});
    }, delay);
    timer.unref();
    timers.set(id, timer);
  };
}
