/** Connects push to the continuity reactions once the socket server exists (what reacts: reactions/catalogue.ts). */
import type { Services } from '../services';
import { wirePush } from '../reactions/wiring';
import type { Push } from './socket';

export { DIRECTORY_SYNC_EVENT } from '../reactions/wiring';
export { PREPARE_LEAD_MS } from './prepare-ahead';

export function pushContinuityChanges(services: Services, push: Push, now: () => Date = () => new Date()): void {
  wirePush(services.reactions, { status: services.status, sync: services.entra.sync, push, now });
}
