/**
 * Every cross-capability subscription of the server, in one place: each emitter is connected to the
 * reaction bus, and each catalogued listener is attached (./catalogue.ts says what they are, in which
 * order they run and what a failure does). Services never subscribe to each other in their constructors.
 * wireServices runs when the services are composed; wirePush when the socket server exists.
 */
import type { DirectoryService } from '../directory/service';
import type { DirectorySync } from '../directory/graph/sync';
import type { Entra } from '../directory/graph/index';
import type { Scheduler } from '../events/scheduler';
import type { EventService } from '../events/service';
import { eventStatus } from '../events/service';
import type { MailService } from '../mail/service';
import type { MonitorService } from '../monitor/service';
import type { NotifyService } from '../notify/index';
import { createPrepareAhead } from '../push/prepare-ahead';
import { ADMIN_CHANGE_EVENT, type Push } from '../push/socket';
import type { StatusService } from '../push/status';
import type { ThreatScanService } from '../threat-scan/index';
import type { UserAuthService } from '../user-auth/service';
import type { EndUserAccess } from '../inbox/access';
import type { Protection } from '../protection/index';
import type { SentItemsWriteBack } from '../sent-items/service';
import type { Reactions } from './bus';

/** The admins' pages hear of sync progress under this Socket.IO event. */
export const DIRECTORY_SYNC_EVENT = 'directory:sync';

export function wireServices(
  reactions: Reactions,
  s: {
    scheduler: Scheduler;
    events: EventService;
    directory: DirectoryService;
    sync: DirectorySync;
    mail: MailService;
    notify: NotifyService;
    monitor: MonitorService;
    status: StatusService;
    connections: Entra['connections'];
    threatScan: ThreatScanService;
    userAuth: UserAuthService;
    protection: Protection;
    endUserAccess: EndUserAccess;
    sentItems: SentItemsWriteBack;
  },
): void {
  // Emitters → the bus.
  s.scheduler.onTransition((transition, event) => reactions.emit(transition.kind === 'start' ? 'event:started' : 'event:ended', { transition, event }));
  s.events.onEventChanged((event) => void reactions.emit('event:changed', { event }));
  s.directory.onDirectoryChanged((tenantId) => reactions.emit('directory:changed', { tenantId }));
  s.sync.onProgress((tenantId) => void reactions.emit('directory:sync-progress', { tenantId }));
  s.monitor.onAddressesChanged((tenantId) => void reactions.emit('monitor:addresses-changed', { tenantId }));
  s.connections.onChanged((tenantId) => void reactions.emit('entra:connection-changed', { tenantId }));
  s.threatScan.onChange((change) => void reactions.emit('threat-scan:changed', change));
  s.userAuth.onRevoked((tenantId, userId) => reactions.emit('user:tokens-revoked', { tenantId, userId }));
  s.endUserAccess.onChanged((tenantId) => void reactions.emit('settings:changed', { tenantId, setting: 'end-user-access' }));
  s.protection.onVipsChanged((tenantId) => void reactions.emit('settings:changed', { tenantId, setting: 'protection-vips' }));

  // Listeners (push's are in wirePush).
  for (const name of ['event:started', 'event:ended'] as const) {
    reactions.on(name, 'mail.hold-release', ({ event }) => s.mail.onEventChange(event));
    reactions.on(name, 'notify.event-sms', () => s.notify.eventSms.wake());
  }
  reactions.on('event:ended', 'sent-items.write-back', async ({ event }) => {
    await s.sentItems.startAfterEvent(event.tenantId, String(event._id));
  });
  reactions.on('event:changed', 'scheduler.wake', () => s.scheduler.wake());
  reactions.drop('event:changed', 'status.caches', ({ tenantId }) => s.status.forget(tenantId));
  reactions.drop('event:changed', 'mail.caches', ({ tenantId }) => s.mail.forgetEvents(tenantId));
  reactions.on('event:changed', 'mail.hold-release', ({ event }) => s.mail.onEventChange(event));
  reactions.on('event:changed', 'notify.event-sms', () => s.notify.eventSms.wake());
  reactions.drop('directory:changed', 'directory.file-snapshot', ({ tenantId }) => s.directory.forget(tenantId));
  reactions.drop('directory:changed', 'mail.caches', () => s.mail.onDirectoryChange());
  reactions.drop('directory:changed', 'status.caches', ({ tenantId }) => s.status.forget(tenantId));
  reactions.drop('directory:changed', 'user-auth.tokens', ({ tenantId }) => s.userAuth.forgetTokens(tenantId));
  reactions.drop('directory:changed', 'protection.facts', ({ tenantId }) => s.protection.forgetFacts(tenantId));
  reactions.drop('user:tokens-revoked', 'user-auth.tokens', ({ tenantId }) => s.userAuth.forgetTokens(tenantId));
  reactions.drop('settings:changed', 'inbox.access', ({ tenantId }) => s.endUserAccess.forget(tenantId));
  reactions.drop('settings:changed', 'protection.facts', ({ tenantId }) => s.protection.forgetFacts(tenantId));
  reactions.drop('monitor:addresses-changed', 'monitor.address-book', () => s.monitor.forgetAddresses());
  reactions.drop('entra:connection-changed', 'directory.connection-state', ({ tenantId }) => s.connections.forget(tenantId));
  reactions.drop('entra:connection-changed', 'mail.caches', () => s.mail.onDirectoryChange());

  // Hooks.
  for (const interceptor of reactions.providers('mail:intercept', { 'monitor.probe-replies': s.monitor.interceptor })) s.mail.intercept(interceptor);
}

export function wirePush(reactions: Reactions, s: { status: StatusService; sync: DirectorySync; push: Push; now: () => Date }): void {
  const { status, sync, push, now } = s;
  const prepareAhead = createPrepareAhead({ status, push, now });
  for (const name of ['event:started', 'event:ended'] as const) {
    reactions.on(name, 'push.banners', async ({ transition, event }) => {
      if (event.outlookContinuity) await push.tenantChanged(transition.tenantId, `event ${transition.kind}`);
    });
  }
  reactions.on('event:started', 'push.prepare-end', ({ event }) => prepareAhead(event));
  // Edits of an event users can see (current, or recently ended: its end message) change their status.
  reactions.on('event:changed', 'push.status', async ({ event }) => {
    status.forgetPrepared(event.tenantId);
    prepareAhead(event);
    if (event.startFiredAt && eventStatus(event, now()) !== 'pending') await push.tenantChanged(event.tenantId, 'event edited');
  });
  // Two admins at 3 a.m.: one's create, edit or delete shows on the other's page without a reload.
  reactions.on('event:changed', 'push.admins', ({ event }) => push.toAdmins(event.tenantId, ADMIN_CHANGE_EVENT, { reason: 'event changed' }));
  // Each node judges its own sockets again (a user's, or every user's of the tenant after a directory change).
  reactions.drop('user:tokens-revoked', 'push.revoked-sockets', ({ tenantId, userId }) => push.recheckSockets(tenantId, userId));
  reactions.drop('directory:changed', 'push.revoked-sockets', ({ tenantId }) => push.recheckSockets(tenantId));
  reactions.on('directory:changed', 'push.status', ({ tenantId }) => {
    status.forgetPrepared(tenantId);
    return push.tenantChanged(tenantId, 'directory changed');
  });
  reactions.on('directory:sync-progress', 'push.admins', async ({ tenantId }) => push.toAdmins(tenantId, DIRECTORY_SYNC_EVENT, await sync.status(tenantId)));
  reactions.on('threat-scan:changed', 'push.admins', ({ tenantId, kind, body }) => push.toAdmins(tenantId, `threat-scan:${kind}`, body));
}
