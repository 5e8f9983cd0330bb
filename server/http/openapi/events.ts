/**
 * Contract of continuity events and their reports (server/events/, server/reports/). The event body is
 * read field by field by server/events/input.ts (every rule, every bad field at once), not by zod: the
 * schema below documents that reader's fields and limits; the integration tests hold the rules.
 */
import { z } from 'zod';
import { CLOUD_PASSWORD_RESET } from '../../events/model';
import { LIMITS } from '../../events/input';
import { listQuery } from '../../events/routes';
import type { Contract } from './contract';

const instant = z.iso.datetime({ offset: true }).meta({ description: 'ISO 8601 date-time with an offset or Z' });
const local = z.string().meta({ description: 'Wall-clock time in the event’s time zone (instead of the instant)' });
const text = (max: number) => z.string().max(max).nullable();

const EventInput = z
  .object({
    description: z.string().min(1).max(LIMITS.description),
    affectedGroupId: z.string().min(1),
    notes: text(LIMITS.notes),
    outlookContinuity: z.boolean(),
    cloudPasswordReset: z.enum(CLOUD_PASSWORD_RESET),
    expandDistributionLists: z.boolean(),
    pauseInboundDelivery: z.boolean(),
    timeZone: z.string().meta({ description: 'An IANA time zone such as Europe/Berlin' }),
    start: instant,
    startLocal: local,
    end: instant.nullable(),
    endLocal: local.nullable(),
    appNotifications: z
      .object({ startMessage: text(LIMITS.appMessage), endMessage: text(LIMITS.appMessage) })
      .partial()
      .nullable(),
    sms: z
      .object({
        groupId: z.string().min(1),
        startMessage: text(LIMITS.smsMessage),
        endMessage: text(LIMITS.smsMessage),
        startSendAt: instant.nullable(),
        startSendAtLocal: local.nullable(),
      })
      .partial()
      .nullable(),
  })
  .partial();
/** New events need a description, a group, a time zone and a start (the reader names each missing one). */
const NewEvent = EventInput.required({ description: true, affectedGroupId: true, timeZone: true }).meta({ id: 'EventInput' });
/** An edit may carry the event's `updatedAt` as the admin read it: a stale one gets 409 (someone else changed it). */
const EventChange = EventInput.extend({
  updatedAt: instant.optional().meta({ description: 'The event’s updatedAt as read; if it changed since, the edit is refused with 409' }),
});

const GroupRef = z.object({ id: z.string(), displayName: z.string().nullable() });
const EventView = z
  .object({
    id: z.string(),
    status: z.enum(['pending', 'current', 'expired']),
    description: z.string(),
    affectedGroupId: z.string(),
    affectedGroup: GroupRef,
    notes: z.string(),
    outlookContinuity: z.boolean(),
    cloudPasswordReset: z.enum(CLOUD_PASSWORD_RESET),
    expandDistributionLists: z.boolean(),
    pauseInboundDelivery: z.boolean(),
    timeZone: z.string(),
    start: z.string(),
    end: z.string().nullable(),
    startLocal: z.string(),
    endLocal: z.string().nullable(),
    appNotifications: z.object({ startMessage: z.string(), endMessage: z.string() }),
    sms: z
      .object({ groupId: z.string(), group: GroupRef, startMessage: z.string(), endMessage: z.string(), startSendAt: z.string(), startSendAtLocal: z.string() })
      .loose()
      .nullable(),
    endedEarly: z.boolean(),
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    createdBy: z.string(),
    clonedFrom: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .loose()
  .meta({ id: 'Event' });
const Transition = z.object({ kind: z.string(), cause: z.string().nullable(), scheduledAt: z.string() }).loose();
const Continuity = z.object({ active: z.boolean(), events: z.array(EventView) });
const Report = z
  .object({
    generatedAt: z.string(),
    final: z.boolean(),
    event: z.object({ id: z.string() }).loose(),
    timeline: z.array(z.object({ at: z.string(), kind: z.string() }).loose()),
  })
  .loose()
  .meta({ id: 'EventReport' });
const CSV = { status: 200, contentType: 'text/csv', description: 'CSV, one row per line' };
/** The event reader answers a missing or non-object body with 422s naming the fields (no parseBody 415). */
const BODY_ERRORS = [400, 413, 415, 422];

export function registerEvents(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/events',
    summary: 'Events (current and pending; show=all for every one)',
    access: 'reader',
    query: listQuery,
    ok: { status: 200, schema: z.array(EventView) },
  });
  c.operation({
    method: 'post',
    path: '/api/events',
    summary: 'Plan a continuity event',
    access: 'basic',
    body: NewEvent,
    ok: { status: 201, schema: EventView },
  });
  c.operation({ method: 'get', path: '/api/events/:id', summary: 'One event', access: 'reader', ok: { status: 200, schema: EventView } });
  c.operation({
    method: 'patch',
    path: '/api/events/:id',
    summary: 'Change an event',
    access: 'basic',
    body: EventChange,
    ok: { status: 200, schema: EventView },
    errors: [409],
  });
  c.operation({
    method: 'delete',
    path: '/api/events/:id',
    summary: 'Delete an event that never started',
    access: 'basic',
    ok: { status: 204, description: 'Deleted' },
    errors: [409],
  });
  c.operation({
    method: 'post',
    path: '/api/events/:id/start',
    summary: 'Start a pending event now (its end stays)',
    access: 'basic',
    ok: { status: 200, schema: EventView },
    errors: [409],
  });
  c.operation({
    method: 'post',
    path: '/api/events/:id/end',
    summary: 'End a current event now',
    access: 'basic',
    ok: { status: 200, schema: EventView },
    errors: [409],
  });
  c.operation({
    method: 'post',
    path: '/api/events/:id/clone',
    summary: 'Plan a new event from an old one',
    access: 'basic',
    body: EventInput,
    bodyOptional: true,
    ok: { status: 201, schema: EventView },
    errors: BODY_ERRORS,
  });
  c.operation({
    method: 'get',
    path: '/api/events/:id/transitions',
    summary: 'The start/end transitions that fired',
    access: 'reader',
    ok: { status: 200, schema: z.array(Transition) },
  });
  c.operation({
    method: 'get',
    path: '/api/users/:id/continuity',
    summary: 'Whether a user is covered by a current event',
    access: 'reader',
    ok: { status: 200, schema: Continuity },
  });
  c.operation({ method: 'get', path: '/api/events/:id/report', summary: 'Post-incident report', access: 'reader', ok: { status: 200, schema: Report } });
  c.operation({ method: 'get', path: '/api/events/:id/report.csv', summary: 'Post-incident report as CSV', access: 'reader', ok: CSV });
}
