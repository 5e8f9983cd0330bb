/** Continuity events: the rules of their lifecycle and who they cover. */
import type { AuditContext } from '../audit/context';
import { Types } from 'mongoose';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import type { DirectoryService } from '../directory/service';
import { conflict, HttpProblem, notFound, unprocessable } from '../http/problem';
import { createEventCoverage } from './coverage';
import { EMPTY_DRAFT, readEventInput, type EventDraft } from './input';
import type { EventModel, EventRecord, TransitionModel, TransitionRecord } from './model';
import { toZonedIso } from './zoned-time';
import type { EventStatus } from '../shared/constants';

export type { EventStatus };

export function eventStatus(event: { start: Date; end: Date | null }, now: Date): EventStatus {
  if (now < event.start) return 'pending';
  if (event.end && event.end <= now) return 'expired';
  return 'current';
}

export type EventView = ReturnType<typeof toView>;

function toView(r: EventRecord, groupNames: Map<string, string>, now: Date) {
  const group = (id: string) => ({ id, displayName: groupNames.get(id) ?? null });
  return {
    id: r._id.toHexString(),
    status: eventStatus(r, now),
    description: r.description,
    affectedGroupId: r.affectedGroupId,
    affectedGroup: group(r.affectedGroupId),
    notes: r.notes,
    outlookContinuity: r.outlookContinuity,
    cloudPasswordReset: r.cloudPasswordReset,
    expandDistributionLists: r.expandDistributionLists,
    pauseInboundDelivery: r.pauseInboundDelivery,
    timeZone: r.timeZone,
    start: r.start.toISOString(),
    end: r.end ? r.end.toISOString() : null,
    startLocal: toZonedIso(r.start, r.timeZone),
    endLocal: r.end ? toZonedIso(r.end, r.timeZone) : null,
    appNotifications: { startMessage: r.appNotifications?.startMessage ?? '', endMessage: r.appNotifications?.endMessage ?? '' },
    sms: r.sms
      ? {
          groupId: r.sms.groupId,
          group: group(r.sms.groupId),
          startMessage: r.sms.startMessage,
          endMessage: r.sms.endMessage,
          startSendAt: r.sms.startSendAt.toISOString(),
          startSendAtLocal: toZonedIso(r.sms.startSendAt, r.timeZone),
        }
      : null,
    endedEarly: r.endedEarly,
    requestedEnd: r.requestedEnd?.toISOString() ?? null,
    startedAt: r.startFiredAt?.toISOString() ?? null,
    endedAt: r.endFiredAt?.toISOString() ?? null,
    createdBy: r.createdBy,
    clonedFrom: r.clonedFrom?.toHexString() ?? null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/**
 * An event's version is its `updatedAt`, set only by admin writes (the scheduler writes without timestamps).
 * Each write moves it forward by at least a millisecond, so two writes within one millisecond still differ.
 */
const nextVersion = (r: EventRecord) => new Date(Math.max(Date.now(), r.updatedAt.getTime() + 1));

/** The `updatedAt` an edit was made from, when the body carries one (checked before the fields are read). */
function versionOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('updatedAt' in body) || body.updatedAt === undefined) return undefined;
  const value = body.updatedAt;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw unprocessable([{ path: 'updatedAt', message: 'must be the updatedAt of the event as you read it, like 2026-03-29T09:30:00.000Z' }]);
  }
  return new Date(value).toISOString();
}

const changedMeanwhile = (r: EventRecord) =>
  new HttpProblem(409, 'Conflict', 'This event was changed by someone else since you opened it. Reload it and make your change again.', {
    conflict: 'updatedAt',
    eventId: r._id.toHexString(),
  });

const toDraft = (r: EventRecord): EventDraft => ({
  description: r.description,
  affectedGroupId: r.affectedGroupId,
  notes: r.notes,
  outlookContinuity: r.outlookContinuity,
  cloudPasswordReset: r.cloudPasswordReset,
  expandDistributionLists: r.expandDistributionLists,
  pauseInboundDelivery: r.pauseInboundDelivery,
  timeZone: r.timeZone,
  start: r.start,
  end: r.end,
  appNotifications: { startMessage: r.appNotifications?.startMessage ?? '', endMessage: r.appNotifications?.endMessage ?? '' },
  sms: r.sms ? { groupId: r.sms.groupId, startMessage: r.sms.startMessage, endMessage: r.sms.endMessage, startSendAt: r.sms.startSendAt } : null,
});

/** JSON-comparable form of a draft, for audit diffs. */
function plain(draft: EventDraft): Record<string, unknown> {
  return JSON.parse(JSON.stringify(draft));
}

/** Only the fields that changed, before and after. */
function diff(before: EventDraft | null, after: EventDraft): { before: Record<string, unknown> | null; after: Record<string, unknown> } {
  const a = plain(after);
  if (!before) return { before: null, after: a };
  const b = plain(before);
  const changedBefore: Record<string, unknown> = {};
  const changedAfter: Record<string, unknown> = {};
  for (const key of Object.keys(a)) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) {
      changedBefore[key] = b[key] ?? null;
      changedAfter[key] = a[key] ?? null;
    }
  }
  return { before: changedBefore, after: changedAfter };
}

const fieldsOf = (draft: EventDraft) => ({ ...draft, start: draft.start!, end: draft.end });

export function createEventService(deps: {
  events: EventModel;
  transitions: TransitionModel;
  directory: DirectoryService;
  audit: AuditService;
  now?: () => Date;
}) {
  const { events, transitions, directory, audit } = deps;
  const now = deps.now ?? (() => new Date());
  const coverage = createEventCoverage({ events, directory, now });
  const listeners: ((event: EventRecord) => void)[] = [];
  const changed = (event: EventRecord) => {
    for (const listener of listeners) listener(event);
  };

  async function groupNames(tenantId: string, records: EventRecord[]): Promise<Map<string, string>> {
    const ids = new Set(records.flatMap((r) => [r.affectedGroupId, ...(r.sms ? [r.sms.groupId] : [])]));
    const names = new Map<string, string>();
    for (const id of ids) {
      const group = await directory.getGroup(tenantId, id);
      if (group) names.set(id, group.displayName);
    }
    return names;
  }

  async function view(tenantId: string, record: EventRecord): Promise<EventView> {
    return toView(record, await groupNames(tenantId, [record]), now());
  }

  async function load(tenantId: string, id: string): Promise<EventRecord> {
    const record = Types.ObjectId.isValid(id) ? await events.findOne({ _id: id, tenantId }).lean<EventRecord>() : null;
    if (!record) throw notFound('event');
    return record;
  }

  /**
   * An admin's write (optimistic concurrency): `fields` are set only on the version that was read, with a new
   * version; a 409 when someone else wrote meanwhile. Returns the event as written.
   */
  async function writeOver(tenantId: string, id: string, existing: EventRecord, fields: Record<string, unknown>): Promise<EventRecord> {
    const result = await events.updateOne(
      { _id: existing._id, tenantId, updatedAt: existing.updatedAt },
      { $set: { ...fields, updatedAt: nextVersion(existing) } },
      { timestamps: false },
    );
    if (result.matchedCount === 0) throw changedMeanwhile(existing);
    return load(tenantId, id);
  }

  async function read(tenantId: string, body: unknown, base: EventDraft, options: { isNew: boolean; started: boolean }) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw unprocessable([{ path: '(body)', message: 'must be a JSON object' }]);
    const { draft, errors, pastEnd } = await readEventInput(body as Record<string, unknown>, base, {
      now: now(),
      ...options,
      groupExists: async (groupId) => Boolean(await directory.getGroup(tenantId, groupId)),
    });
    if (errors.length) throw unprocessable(errors);
    return { draft, pastEnd };
  }

  /** "Description (group: Name)" for the audit trail; the id when the group is no longer in the directory. */
  async function labelOf(tenantId: string, description: string, groupId: string): Promise<string> {
    const group = await directory.getGroup(tenantId, groupId).catch(() => null);
    return `${description} (group: ${group?.displayName ?? groupId})`;
  }

  async function record(
    by: AdminIdentity,
    action: string,
    target: EventRecord,
    before: EventDraft | null,
    after: EventDraft,
    context: AuditContext,
    extra: Record<string, unknown> = {},
  ) {
    const changes = diff(before, after);
    // The label names the affected group too, so the trail says which users an action touched.
    const label = await labelOf(by.tenantId, after.description, after.affectedGroupId);
    await audit.record({
      tenantId: by.tenantId,
      category: 'continuity',
      action,
      actor: adminActor(by),
      target: { type: 'event', id: target._id.toHexString(), label },
      before: changes.before,
      after: { ...changes.after, ...extra },
      ...context,
    });
  }

  async function insert(by: AdminIdentity, draft: EventDraft, clonedFrom: Types.ObjectId | null): Promise<EventRecord> {
    const created = await events.create({ tenantId: by.tenantId, ...fieldsOf(draft), createdBy: by.email, clonedFrom });
    return created.toObject() as EventRecord;
  }

  return {
    /** Who events cover, when: the read interface other capabilities use (see coverage.ts). */
    coverage,

    /**
     * Tells the listener, synchronously, about every write to an event. In the server the one listener
     * is the reaction bus (reactions/catalogue.ts, `event:changed`), which runs the reactions detached
     * and logs their failures; the request does not wait for them.
     */
    onEventChanged(listener: (event: EventRecord) => void): void {
      listeners.push(listener);
    },

    async create(by: AdminIdentity, body: unknown, context: AuditContext): Promise<EventView> {
      const { draft } = await read(by.tenantId, body, EMPTY_DRAFT, { isNew: true, started: false });
      const created = await insert(by, draft, null);
      await record(by, 'event.created', created, null, draft, context);
      changed(created);
      return view(by.tenantId, created);
    },

    async list(tenantId: string, showAll: boolean): Promise<EventView[]> {
      const t = now();
      const filter = showAll ? { tenantId } : { tenantId, $or: [{ end: null }, { end: { $gt: t } }] };
      const records = await events.find(filter).sort({ start: 1, _id: 1 }).lean<EventRecord[]>();
      const names = await groupNames(tenantId, records);
      const views = records.map((r) => toView(r, names, t));
      // Current and pending by start; then the expired ones, the most recently ended first.
      const expired = views.filter((v) => v.status === 'expired').sort((a, b) => b.end!.localeCompare(a.end!) || b.start.localeCompare(a.start));
      return [...views.filter((v) => v.status !== 'expired'), ...expired];
    },

    async get(tenantId: string, id: string): Promise<EventView> {
      return view(tenantId, await load(tenantId, id));
    },

    async update(by: AdminIdentity, id: string, body: unknown, context: AuditContext): Promise<EventView> {
      const existing = await load(by.tenantId, id);
      if (eventStatus(existing, now()) === 'expired') throw conflict('This event has ended; ended events are read-only. Clone it to plan a new one.');
      // The editor's version (the `updatedAt` it read): an edit made from an older one would silently undo another's.
      const readVersion = versionOf(body);
      if (readVersion !== undefined && readVersion !== existing.updatedAt.toISOString()) throw changedMeanwhile(existing);
      const before = toDraft(existing);
      const { draft, pastEnd } = await read(by.tenantId, body, before, {
        isNew: false,
        started: existing.startFiredAt !== null || existing.start <= now(),
      });
      // A past end completes the event now, as End Now does; the time the admin gave is kept beside it.
      if (pastEnd) draft.end = now();
      const ending = pastEnd ? { endedEarly: true, requestedEnd: pastEnd } : {};
      // The write applies only to the version we validated against.
      const updated = await writeOver(by.tenantId, id, existing, { ...fieldsOf(draft), ...ending });
      if (pastEnd) await record(by, 'event.ended', updated, before, draft, context, { endedEarly: true, requestedEnd: pastEnd.toISOString() });
      else await record(by, 'event.updated', updated, before, draft, context);
      changed(updated);
      return view(by.tenantId, updated);
    },

    /** "End Now": the event ends at this moment; the scheduler fires its end at once. */
    async endNow(by: AdminIdentity, id: string, context: AuditContext): Promise<EventView> {
      const existing = await load(by.tenantId, id);
      const t = now();
      const status = eventStatus(existing, t);
      if (status === 'expired') throw conflict('This event has already ended.');
      if (status === 'pending') throw conflict('This event has not started yet. Change its start or end, or delete it.');
      const before = toDraft(existing);
      const updated = await writeOver(by.tenantId, id, existing, { end: t, endedEarly: true });
      await record(by, 'event.ended', updated, before, toDraft(updated), context, { endedEarly: true });
      changed(updated);
      return view(by.tenantId, updated);
    },

    /**
     * "Start now": a pending event starts at this moment (its end stays); the scheduler fires its start at
     * once. A start SMS planned for later goes now too, since the event it announces has begun.
     */
    async startNow(by: AdminIdentity, id: string, context: AuditContext): Promise<EventView> {
      const existing = await load(by.tenantId, id);
      const t = now();
      const status = eventStatus(existing, t);
      if (status === 'current') throw conflict('This event has already started.');
      if (status === 'expired') throw conflict('This event has already ended. Clone it to plan a new one.');
      const before = toDraft(existing);
      const sms = existing.sms && existing.sms.startSendAt > t ? { 'sms.startSendAt': t } : {};
      const updated = await writeOver(by.tenantId, id, existing, { start: t, ...sms });
      await record(by, 'event.started', updated, before, toDraft(updated), context, { startedEarly: true, plannedStart: existing.start.toISOString() });
      changed(updated);
      return view(by.tenantId, updated);
    },

    /** A new event with every detail of the original except its affected group, which the body must name. */
    async clone(by: AdminIdentity, id: string, body: unknown, context: AuditContext): Promise<EventView> {
      const original = await load(by.tenantId, id);
      const base = { ...toDraft(original), affectedGroupId: '' };
      const { draft } = await read(by.tenantId, body, base, { isNew: true, started: false });
      const created = await insert(by, draft, original._id);
      await record(by, 'event.cloned', created, null, draft, context, { clonedFrom: original._id.toHexString() });
      changed(created);
      return view(by.tenantId, created);
    },

    /** Only an event that never started can be deleted; the others are history. */
    async remove(by: AdminIdentity, id: string, context: AuditContext): Promise<void> {
      const existing = await load(by.tenantId, id);
      if (existing.startFiredAt || eventStatus(existing, now()) !== 'pending') {
        throw conflict('Only events that have not started can be deleted. Use End Now for a current event.');
      }
      await events.deleteOne({ _id: existing._id, tenantId: by.tenantId, startFiredAt: null });
      await audit.record({
        tenantId: by.tenantId,
        category: 'continuity',
        action: 'event.deleted',
        actor: adminActor(by),
        target: { type: 'event', id, label: await labelOf(by.tenantId, existing.description, existing.affectedGroupId) },
        before: plain(toDraft(existing)),
        ...context,
      });
      changed(existing);
    },

    async transitionsOf(tenantId: string, id: string) {
      const event = await load(tenantId, id);
      const rows = await transitions.find({ tenantId, eventId: event._id }).sort({ firedAt: 1 }).lean<TransitionRecord[]>();
      return rows.map((t) => ({
        kind: t.kind,
        cause: t.cause,
        scheduledAt: t.scheduledAt.toISOString(),
        firedAt: t.firedAt.toISOString(),
        lateMs: t.firedAt.getTime() - t.scheduledAt.getTime(),
      }));
    },

    /** Current events with Outlook continuity that cover a group the user belongs to (transitively). */
    async currentEventsForUser(tenantId: string, userId: string): Promise<EventView[]> {
      const t = now();
      const records = await coverage.ofUser(tenantId, userId, { at: t, outlookOnly: true });
      const names = await groupNames(tenantId, records);
      return records.map((r) => toView(r, names, t));
    },

    /** The tenant's events in force now, as the admin sees them. */
    async current(tenantId: string): Promise<EventView[]> {
      const t = now();
      const records = await coverage.current(tenantId, t);
      const names = await groupNames(tenantId, records);
      return records.map((r) => toView(r, names, t));
    },
  };
}
export type EventService = ReturnType<typeof createEventService>;
