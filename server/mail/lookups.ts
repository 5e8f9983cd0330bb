/**
 * What the mail path asks of other capabilities (tenants, directory, events), cached: the SMTP
 * receiver and routing ask per recipient. Directory answers are dropped whenever the directory
 * changes (onDirectoryChange), a tenant's events whenever they change in this process (onEventChange); changes made by
 * another process are seen after a short time. Never writes.
 */
import type { DirectoryService } from '../directory/service';
import { coveringAny, type EventCoverage, type EventRecord } from '../events/coverage';
import type { TenantService } from '../tenants/service';

/** Directory and settings look-ups are cached this long (dropped at once on a directory change). */
const CACHE_MS = 30_000;
/** A tenant's events are cached this long (dropped at once on an event change in this process). */
const EVENTS_CACHE_MS = 5_000;

export function createMailLookups(deps: { tenants: TenantService; directory: DirectoryService; events: EventCoverage; now: () => Date }) {
  const { tenants, directory } = deps;
  const events = deps.events.cached(EVENTS_CACHE_MS, deps.now);
  const cache = new Map<string, { at: number; value: unknown }>();
  // Bumped by every invalidation: a load that started before one is not cached (it may be stale).
  let epoch = 0;
  async function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value as T;
    const started = epoch;
    const value = await load();
    if (cache.size > 10_000) cache.clear();
    if (started === epoch) cache.set(key, { at: Date.now(), value });
    return value;
  }

  const groupsOf = (tenantId: string, userId: string) => cached(`tg:${tenantId}:${userId}`, () => directory.transitiveGroupIds(tenantId, userId));

  return {
    tenantByDomain: (domain: string) => cached(`d:${domain}`, () => tenants.byDomain(domain)),
    userByAddress: (tenantId: string, address: string) => cached(`u:${tenantId}:${address}`, () => directory.findUserByAddress(tenantId, address)),
    groupByAddress: (tenantId: string, address: string) => cached(`g:${tenantId}:${address}`, () => directory.findGroupByAddress(tenantId, address)),
    group: (tenantId: string, groupId: string) => cached(`gg:${tenantId}:${groupId}`, () => directory.getGroup(tenantId, groupId)),
    groupsOf,
    membersOf: (tenantId: string, groupId: string) => cached(`tu:${tenantId}:${groupId}`, () => directory.transitiveUserIds(tenantId, groupId)),

    /** The tenant's events in force now. */
    currentEvents: (tenantId: string) => events.current(tenantId),
    pausingEvents: async (tenantId: string) => (await events.current(tenantId)).filter((e) => e.pauseInboundDelivery),
    /** The ids of the pausing events (of those given) covering a recipient: the recipient itself or a group it belongs to. */
    async holdingEvents(tenantId: string, recipientId: string, pausing: EventRecord[]): Promise<string[]> {
      if (!pausing.length) return [];
      return coveringAny(pausing, new Set([recipientId, ...(await groupsOf(tenantId, recipientId))])).map((e) => e._id.toHexString());
    },
    /** A tenant's events changed: the next look reads them again. */
    forgetEvents: (tenantId: string) => events.forget(tenantId),
    /** The directory changed (reactions: `directory:changed`): a user or group added or removed is seen at once. */
    forgetAll(): void {
      epoch++;
      cache.clear();
      events.forgetAll();
    },
  };
}
export type MailLookups = ReturnType<typeof createMailLookups>;
