/** Mail figures for people: queue, held and release state for the admin page, and one event's mail for its post-incident report (scans: never on a hot path). */
import type { MailModels } from './model';

export function createMailFigures(models: MailModels) {
  return {
    /** Queue, held and release figures for admins (scans: admin pages only). */
    async status(tenantId: string) {
      const [queued, deferred, held, delivered, failed, release] = await Promise.all([
        models.queue.countDocuments({ tenantId }),
        models.queue.countDocuments({ tenantId, 'attempts.0': { $exists: true } }),
        models.held.countDocuments({ tenantId }),
        models.results.countDocuments({ tenantId, state: 'delivered' }),
        models.results.countDocuments({ tenantId, state: 'failed' }),
        models.releases.findById(tenantId).lean(),
      ]);
      return {
        queued,
        /** Of the queued: tried at least once and waiting for a retry. */
        deferred,
        held,
        delivered,
        failed,
        release: release
          ? {
              state: release.state,
              startedAt: release.startedAt.toISOString(),
              finishedAt: release.finishedAt?.toISOString() ?? null,
              total: release.total,
              released: release.released,
              stillHeld: release.stillHeld,
            }
          : null,
      };
    },

    /**
     * Mail figures of one event for its post-incident report (scans: admin pages only): mailbox
     * copies received and messages sent by the covered users in the window, mail the event held
     * and how much of it has been released.
     */
    async eventFigures(tenantId: string, eventId: string, window: { from: Date; to: Date }, userIds: string[]) {
      const inWindow = { $gte: window.from, $lt: window.to };
      const users = { $in: userIds };
      const [received, sent, stillHeld, released] = await Promise.all([
        models.mailbox.countDocuments({ tenantId, folder: 'inbox', userId: users, receivedAt: inWindow }),
        models.mailbox.countDocuments({ tenantId, folder: 'sent', userId: users, receivedAt: inWindow }),
        models.held.countDocuments({ tenantId, eventIds: eventId }),
        models.releasedHeld.countDocuments({ tenantId, eventIds: eventId }),
      ]);
      return { received, sent, held: stillHeld + released, released, stillHeld };
    },
  };
}
