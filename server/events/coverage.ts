/**
 * Who continuity events cover, when: the events capability's read interface for the rest of the
 * server (mail, push status, notify, portal). Nothing outside server/events reads the events
 * collection; the questions asked of it live here, once. It never writes.
 *
 * An event covers a user when its affected group contains the user, directly or through nested
 * groups. It is in force at t when it has started (start <= t) and not ended (no end, or end > t).
 */
import type { DirectoryService } from '../directory/service';
import type { EventModel, EventRecord } from './model';

// Readers get the record type from here, never from model.ts.
export type { EventRecord } from './model';

/** Events that are not over at t (current or future): `end` unset or later. */
const notOverAt = (t: Date) => ({ $or: [{ end: null }, { end: { $gt: t } }] });

export function inForceAt(event: Pick<EventRecord, 'start' | 'end'>, t: Date): boolean {
  return event.start.getTime() <= t.getTime() && (!event.end || event.end.getTime() > t.getTime());
}

/** The events (of those given) that cover someone in `groupIds` (a user's transitive groups). */
export function coveringAny<E extends Pick<EventRecord, 'affectedGroupId'>>(events: readonly E[], groupIds: ReadonlySet<string>): E[] {
  return events.filter((e) => groupIds.has(e.affectedGroupId));
}

/**
 * A caller's own short-lived copy of each tenant's events (the mail hot path asks per recipient).
 * The caller drops a tenant's copy when told its events changed (forget); changes made by another
 * process are seen after ttlMs.
 */
export interface CachedCoverage {
  /** The tenant's events in force now. */
  current(tenantId: string): Promise<EventRecord[]>;
  forget(tenantId: string): void;
  forgetAll(): void;
}

export function createEventCoverage(deps: { events: EventModel; directory: DirectoryService; now?: () => Date }) {
  const { events, directory } = deps;
  const now = deps.now ?? (() => new Date());

  async function ofGroups(tenantId: string, groupIds: string[], t: Date, outlookOnly: boolean): Promise<EventRecord[]> {
    if (!groupIds.length) return [];
    const filter = { tenantId, affectedGroupId: { $in: groupIds }, start: { $lte: t }, ...notOverAt(t), ...(outlookOnly ? { outlookContinuity: true } : {}) };
    return events.find(filter).sort({ start: 1 }).lean<EventRecord[]>();
  }

  /** Events covering the user at t, oldest start first. */
  async function ofUser(tenantId: string, userId: string, options: { at?: Date; outlookOnly?: boolean } = {}): Promise<EventRecord[]> {
    const groupIds = await directory.transitiveGroupIds(tenantId, userId);
    return ofGroups(tenantId, groupIds, options.at ?? now(), options.outlookOnly ?? false);
  }

  return {
    ofUser,

    /** The tenant's events in force at t, oldest start first. */
    async current(tenantId: string, at: Date = now()): Promise<EventRecord[]> {
      return events
        .find({ tenantId, start: { $lte: at }, ...notOverAt(at) })
        .sort({ start: 1, _id: 1 })
        .lean<EventRecord[]>();
    },

    /** Events covering a group at t: affecting the group itself or a group it is nested in. */
    async ofGroup(tenantId: string, groupId: string, at: Date = now()): Promise<EventRecord[]> {
      return ofGroups(tenantId, [groupId, ...(await directory.transitiveGroupIds(tenantId, groupId))], at, false);
    },

    /** Events covering the directory user with this address at t (none for an unknown address). */
    async ofAddress(tenantId: string, address: string, at: Date = now()): Promise<EventRecord[]> {
      const user = await directory.findUserByAddress(tenantId, address);
      return user ? ofUser(tenantId, user.id, { at }) : [];
    },

    /** Outlook-continuity events that have started by t and are in force, or ended less than `endedWithinMs` before t. */
    async shownInOutlook(tenantId: string, at: Date, endedWithinMs: number): Promise<EventRecord[]> {
      return events
        .find({ tenantId, outlookContinuity: true, start: { $lte: at }, ...notOverAt(new Date(at.getTime() - endedWithinMs)) })
        .sort({ start: 1 })
        .lean<EventRecord[]>();
    },

    /** All tenants: events with SMS whose start SMS is due at t and that are not over (earliest send first). */
    async smsStartsDue(at: Date, limit: number): Promise<EventRecord[]> {
      return events
        .find({ sms: { $ne: null }, 'sms.startSendAt': { $lte: at }, ...notOverAt(at) })
        .sort({ 'sms.startSendAt': 1 })
        .limit(limit)
        .lean<EventRecord[]>();
    },

    /** All tenants: events with SMS that ended at or before t, at most `lookbackMs` before it (earliest end first). */
    async smsEndsDue(at: Date, lookbackMs: number, limit: number): Promise<EventRecord[]> {
      return events
        .find({ sms: { $ne: null }, end: { $ne: null, $lte: at, $gte: new Date(at.getTime() - lookbackMs) } })
        .sort({ end: 1 })
        .limit(limit)
        .lean<EventRecord[]>();
    },

    /**
     * A cached reader for a hot path: per tenant, the events not over yet are read once per ttlMs and
     * filtered by the clock (the caller's, when given) at each use. A read that started before a forget is not kept (it may be stale).
     */
    cached(ttlMs: number, clock: () => Date = now): CachedCoverage {
      const copies = new Map<string, { at: number; events: EventRecord[] }>();
      let generation = 0;
      async function live(tenantId: string): Promise<EventRecord[]> {
        const hit = copies.get(tenantId);
        if (hit && Date.now() - hit.at < ttlMs) return hit.events;
        const started = generation;
        const read = await events.find({ tenantId, ...notOverAt(clock()) }).lean<EventRecord[]>();
        if (started === generation) copies.set(tenantId, { at: Date.now(), events: read });
        return read;
      }
      return {
        async current(tenantId) {
          const t = clock();
          return (await live(tenantId)).filter((e) => inForceAt(e, t));
        },
        forget(tenantId) {
          generation++;
          copies.delete(tenantId);
        },
        forgetAll() {
          generation++;
          copies.clear();
        },
      };
    },
  };
}
export type EventCoverage = ReturnType<typeof createEventCoverage>;
