/** What changes a user's continuity status, told to push. */
import type { Services } from '../services';
import { eventStatus } from '../events/service';
import type { Push } from './socket';

export const DIRECTORY_SYNC_EVENT = 'directory:sync';

/** How long before a scheduled start or end the statuses it brings are computed (see status.prepare). */
export const PREPARE_LEAD_MS = 750;
/** setTimeout's limit; transitions further away are not prepared (they push as usual). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function pushContinuityChanges(services: Services, push: Push, now: () => Date = () => new Date()): void {
  // Users' banners go first: the other consumers of a transition (holding mail, SMS) start their
  // database work only once the statuses are written to the sockets, not while they are.
  services.scheduler.onTransition(
    async (transition, event) => {
      if (event.outlookContinuity) await push.tenantChanged(transition.tenantId, `event ${transition.kind}`);
    },
    { first: true },
  );
  // Edits of an event users can see (current, or recently ended: its end message) change their status.
  services.events.onEventChanged(async (event) => {
    services.status.forgetPrepared(event.tenantId);
    prepareAhead(event);
    if (event.startFiredAt && eventStatus(event, now()) !== 'pending') await push.tenantChanged(event.tenantId, 'event edited');
  });
  services.directory.onDirectoryChanged((tenantId) => {
    services.status.forgetPrepared(tenantId);
    return push.tenantChanged(tenantId, 'directory changed');
  });

  // A scheduled start or end: its statuses are computed, and the sockets grouped by them, just
  // before it is due, so the push at the transition only records the change and emits (one timer
  // per event; a change re-arms it).
  const timers = new Map<string, NodeJS.Timeout>();
  function prepareAhead(event: Parameters<Parameters<typeof services.events.onEventChanged>[0]>[0]): void {
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
      services.status
        .prepare(event.tenantId, at)
        .then(() => push.prepare(event.tenantId))
        .catch(() => {});
    }, delay);
    timer.unref();
    timers.set(id, timer);
  }
  // After a start fired, prepare the scheduled end.
  services.scheduler.onTransition((transition, event) => {
    if (transition.kind === 'start') prepareAhead(event);
  });
  // Directory sync progress, live on the admins' pages.
  services.entra.sync.onProgress((tenantId) => {
    services.entra.sync
      .status(tenantId)
      .then((status) => push.toAdmins(tenantId, DIRECTORY_SYNC_EVENT, status))
      .catch(() => {});
  });
}
