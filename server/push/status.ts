/** Each Outlook user's continuity status, derived from events and group membership. */
import type { DirectoryService } from '../directory/service';
import type { EventModel, EventRecord } from '../events/model';
import type { StatusEpochModel } from './model';

export interface StatusEvent {
  id: string;
  description: string;
  startMessage?: string;
  endMessage?: string;
  start: string;
  end: string | null;
}

export interface ContinuityStatus {
  seq: number;
  active: boolean;
  events: StatusEvent[];
  at: string;
}

/** How long after an event ends its users still see "Service restored" with the end message. */
export const RESTORED_FOR_MS = 24 * 3600_000;

const isDuplicateKey = (err: unknown) => (err as { code?: number }).code === 11000;

function statusOf(covering: EventRecord[], t: Date, epoch: { seq: number; at: Date }): ContinuityStatus {
  const current = covering.filter((e) => e.end === null || e.end > t);
  const shown = current.length ? current : covering.filter((e) => e.end !== null && e.end <= t).sort((a, b) => b.end!.getTime() - a.end!.getTime());
  return {
    seq: epoch.seq,
    active: current.length > 0,
    events: shown.map((e) => ({
      id: e._id.toHexString(),
      description: e.description,
      ...(current.length ? { startMessage: e.appNotifications?.startMessage ?? '' } : { endMessage: e.appNotifications?.endMessage ?? '' }),
      start: e.start.toISOString(),
      end: e.end ? e.end.toISOString() : null,
    })),
    at: epoch.at.toISOString(),
  };
}

export function createStatusService(deps: { events: EventModel; epochs: StatusEpochModel; directory: DirectoryService; now?: () => Date }) {
  const { events, epochs, directory } = deps;
  const now = deps.now ?? (() => new Date());

  /** Outlook events that started and are current, or ended recently enough to show "restored". */
  function relevantEvents(tenantId: string, t: Date, groupIds?: string[]) {
    return events
      .find({
        tenantId,
        outlookContinuity: true,
        start: { $lte: t },
        $or: [{ end: null }, { end: { $gt: new Date(t.getTime() - RESTORED_FOR_MS) } }],
        ...(groupIds ? { affectedGroupId: { $in: groupIds } } : {}),
      })
      .sort({ start: 1 })
      .lean<EventRecord[]>();
  }

  async function epoch(tenantId: string): Promise<{ seq: number; at: Date }> {
    const latest = await epochs.findOne({ tenantId }).sort({ epoch: -1 }).lean();
    return latest ? { seq: latest.epoch, at: latest.at } : { seq: 0, at: new Date(0) };
  }

  return {
    epoch,

    /** Records a change of the tenant's state and returns its new seq. */
    async bump(tenantId: string, reason: string): Promise<number> {
      for (let attempt = 0; attempt < 50; attempt++) {
        const next = (await epoch(tenantId)).seq + 1;
        try {
          await epochs.create({ tenantId, epoch: next, reason, at: now() });
          return next;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
      }
      throw new Error('could not record a status change (too much contention)');
    },

    async forUser(tenantId: string, userId: string): Promise<ContinuityStatus> {
      const t = now();
      const groupIds = await directory.transitiveGroupIds(tenantId, userId);
      const [current, covering] = await Promise.all([epoch(tenantId), groupIds.length ? relevantEvents(tenantId, t, groupIds) : Promise.resolve([])]);
      return statusOf(covering, t, current);
    },

    /** Statuses of many users at once: each relevant event's members are expanded once. */
    async forUsers(tenantId: string, userIds: string[]): Promise<Map<string, ContinuityStatus>> {
      const t = now();
      const [current, relevant] = await Promise.all([epoch(tenantId), relevantEvents(tenantId, t)]);
      const members = new Map<string, Set<string>>();
      for (const e of relevant) {
        if (!members.has(e.affectedGroupId)) members.set(e.affectedGroupId, new Set(await directory.transitiveUserIds(tenantId, e.affectedGroupId)));
      }
      const result = new Map<string, ContinuityStatus>();
      for (const userId of userIds) {
        result.set(userId, statusOf(relevant.filter((e) => members.get(e.affectedGroupId)!.has(userId)), t, current));
      }
      return result;
    },
  };
}
export type StatusService = ReturnType<typeof createStatusService>;
