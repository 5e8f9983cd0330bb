/** What changes a user's continuity status, told to push. */
import type { Services } from '../services';
import { eventStatus } from '../events/service';
import type { Push } from './socket';

export const DIRECTORY_SYNC_EVENT = 'directory:sync';

export function pushContinuityChanges(services: Services, push: Push, now: () => Date = () => new Date()): void {
  services.scheduler.onTransition(async (transition, event) => {
    if (event.outlookContinuity) await push.tenantChanged(transition.tenantId, `event ${transition.kind}`);
  });
  // Edits of an event users can see (current, or recently ended: its end message) change their status.
  services.events.onEventChanged(async (event) => {
    if (event.startFiredAt && eventStatus(event, now()) !== 'pending') await push.tenantChanged(event.tenantId, 'event edited');
  });
  services.directory.onDirectoryChanged((tenantId) => push.tenantChanged(tenantId, 'directory changed'));
  // Directory sync progress, live on the admins' pages.
  services.entra.sync.onProgress((tenantId) => {
    services.entra.sync
      .status(tenantId)
      .then((status) => push.toAdmins(tenantId, DIRECTORY_SYNC_EVENT, status))
      .catch(() => {});
  });
}
