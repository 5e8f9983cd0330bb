/**
 * Reads an event from a request body onto a base (defaults for a new event, the stored event
 * for an edit or a clone) and checks every rule, collecting every bad field at once.
 */
import type { FieldError } from '../http/problem';
import { CLOUD_PASSWORD_RESET, type CloudPasswordReset, type EventRecord, type SmsSettings } from './model';
import { EVENT_LIMITS } from '../shared/constants';
import { fromZonedLocal, isValidTimeZone } from './zoned-time';

/** The limits are shared with the admin page's form (server/shared/constants.ts). */
export const LIMITS = EVENT_LIMITS;

/** An event as read from a request: the stored fields an admin sets (start may still be missing). */
export type EventDraft = Pick<
  EventRecord,
  | 'description'
  | 'affectedGroupId'
  | 'notes'
  | 'outlookContinuity'
  | 'cloudPasswordReset'
  | 'expandDistributionLists'
  | 'pauseInboundDelivery'
  | 'timeZone'
  | 'end'
  | 'appNotifications'
  | 'sms'
> & { start: Date | null };

export const EMPTY_DRAFT: EventDraft = {
  description: '',
  affectedGroupId: '',
  notes: '',
  outlookContinuity: true,
  cloudPasswordReset: 'inherit',
  expandDistributionLists: false,
  pauseInboundDelivery: false,
  timeZone: '',
  start: null,
  end: null,
  appNotifications: { startMessage: '', endMessage: '' },
  sms: null,
};

export interface InputContext {
  now: Date;
  /** True for a new event or a clone: every rule applies to its times. */
  isNew: boolean;
  /** The stored event has started (its start transition fired). */
  started: boolean;
  groupExists: (groupId: string) => Promise<boolean>;
}

/** ISO 8601 with a date, a time and an explicit offset or Z. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const MINUTE = 60_000;
const length = (s: string) => [...s].length;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function readEventInput(body: Record<string, unknown>, base: EventDraft, ctx: InputContext) {
  const errors: FieldError[] = [];
  const fail = (path: string, message: string) => errors.push({ path, message });
  const has = (obj: Record<string, unknown>, key: string) => Object.prototype.hasOwnProperty.call(obj, key) && obj[key] !== undefined;
  const draft: EventDraft = { ...base, appNotifications: { ...base.appNotifications }, sms: base.sms ? { ...base.sms } : null };

  function text(obj: Record<string, unknown>, key: string, path: string, max: number, current: string, required = false): string {
    if (!has(obj, key)) {
      if (required && !current.trim()) fail(path, 'is required');
      return current;
    }
    const value = obj[key];
    if (value === null && !required) return '';
    if (typeof value !== 'string') {
      fail(path, 'must be a string');
      return current;
    }
    const trimmed = required ? value.trim() : value;
    if (required && trimmed.length === 0) fail(path, 'is required');
    else if (length(trimmed) > max) fail(path, `must be at most ${max} characters (got ${length(trimmed)})`);
    return trimmed;
  }

  function flag(key: keyof EventDraft & string): void {
    if (!has(body, key)) return;
    if (typeof body[key] !== 'boolean') fail(key, 'must be true or false');
    else (draft as unknown as Record<string, unknown>)[key] = body[key];
  }

  /** A time given as an instant (`start`) or as wall clock in the event's zone (`startLocal`). */
  function instant(obj: Record<string, unknown>, key: string, path: string, current: Date | null, nullable: boolean): { value: Date | null; given: boolean } {
    const localKey = `${key}Local`;
    if (has(obj, key)) {
      const value = obj[key];
      if (value === null) {
        if (!nullable) fail(path, 'is required');
        return { value: null, given: true };
      }
      if (typeof value !== 'string' || !ISO_WITH_OFFSET.test(value) || Number.isNaN(Date.parse(value))) {
        fail(path, 'must be an ISO 8601 date-time with an offset or Z, like 2026-03-29T09:30:00+02:00');
        return { value: current, given: true };
      }
      return { value: new Date(value), given: true };
    }
    if (has(obj, localKey)) {
      const value = obj[localKey];
      if (value === null) {
        if (!nullable) fail(path, 'is required');
        return { value: null, given: true };
      }
      if (typeof value !== 'string') {
        fail(`${path}Local`, 'must be a string');
        return { value: current, given: true };
      }
      if (!isValidTimeZone(draft.timeZone)) return { value: current, given: true }; // reported on timeZone
      const result = fromZonedLocal(value, draft.timeZone);
      if (!result.ok) {
        fail(`${path}Local`, result.problem);
        return { value: current, given: true };
      }
      return { value: result.instant, given: true };
    }
    return { value: current, given: false };
  }

  draft.description = text(body, 'description', 'description', LIMITS.description, draft.description, true);
  draft.notes = text(body, 'notes', 'notes', LIMITS.notes, draft.notes);

  if (has(body, 'affectedGroupId')) {
    if (typeof body.affectedGroupId !== 'string' || !body.affectedGroupId) fail('affectedGroupId', 'must be a group id');
    else draft.affectedGroupId = body.affectedGroupId;
  }
  if (!draft.affectedGroupId) {
    if (!errors.some((e) => e.path === 'affectedGroupId')) fail('affectedGroupId', 'is required');
  } else if (!(await ctx.groupExists(draft.affectedGroupId))) {
    fail('affectedGroupId', `no group "${draft.affectedGroupId}" in this tenant's directory`);
  }

  flag('outlookContinuity');
  flag('expandDistributionLists');
  flag('pauseInboundDelivery');
  if (has(body, 'cloudPasswordReset')) {
    if (!CLOUD_PASSWORD_RESET.includes(body.cloudPasswordReset as CloudPasswordReset)) {
      fail('cloudPasswordReset', `must be one of ${CLOUD_PASSWORD_RESET.join(', ')}`);
    } else draft.cloudPasswordReset = body.cloudPasswordReset as CloudPasswordReset;
  }

  if (has(body, 'timeZone')) {
    if (typeof body.timeZone !== 'string' || !isValidTimeZone(body.timeZone)) fail('timeZone', 'must be an IANA time zone such as Europe/Berlin');
    else draft.timeZone = body.timeZone;
  } else if (!draft.timeZone) fail('timeZone', 'is required (an IANA time zone such as Europe/Berlin)');

  const previousStart = base.start;
  /** The past end an admin gave a current event: it ends now, and this time is kept as the one asked for. */
  let pastEnd: Date | null = null;
  const start = instant(body, 'start', 'start', draft.start, false);
  const end = instant(body, 'end', 'end', draft.end, true);
  draft.start = start.value;
  draft.end = end.value;
  const startBad = errors.some((e) => e.path.startsWith('start'));
  if (!draft.start) {
    if (!startBad) fail('start', 'is required');
  } else if (!startBad && (ctx.isNew || start.given) && draft.start.getTime() !== previousStart?.getTime()) {
    // Whole minutes, so "exactly 5 days ago" stays accepted while the request is in flight.
    const minutesAgo = Math.floor((ctx.now.getTime() - draft.start.getTime()) / MINUTE);
    if (minutesAgo > LIMITS.startPastDays * 24 * 60) {
      fail('start', `may lie at most ${LIMITS.startPastDays} days in the past (the continuity mailbox keeps ${LIMITS.startPastDays} days)`);
    } else if (ctx.started && !ctx.isNew && draft.start > ctx.now) {
      fail('start', 'this event has already started; its start cannot move into the future (end it and plan a new one)');
    }
  }
  if (draft.start && draft.end && !errors.some((e) => e.path.startsWith('end')) && draft.end <= draft.start) {
    fail('end', 'must be after start (or null for an eternal event)');
  } else if (draft.end && (ctx.isNew || end.given) && draft.end <= ctx.now && !errors.some((e) => e.path.startsWith('end'))) {
    // The seed's way to complete an outage: an end in the past on a current event ends it now, as End Now does.
    if (!ctx.isNew && ctx.started && end.given) pastEnd = draft.end;
    else fail('end', 'must be in the future (use End Now to end a current event)');
  }

  if (has(body, 'appNotifications')) {
    const value = body.appNotifications;
    if (value === null) draft.appNotifications = { startMessage: '', endMessage: '' };
    else if (!isObject(value)) fail('appNotifications', 'must be an object with startMessage and endMessage');
    else {
      draft.appNotifications.startMessage = text(
        value,
        'startMessage',
        'appNotifications.startMessage',
        LIMITS.appMessage,
        draft.appNotifications.startMessage,
      );
      draft.appNotifications.endMessage = text(value, 'endMessage', 'appNotifications.endMessage', LIMITS.appMessage, draft.appNotifications.endMessage);
    }
  }

  await readSms();
  return { draft, errors, pastEnd };

  async function readSms(): Promise<void> {
    const startMoved = draft.start && previousStart && draft.start.getTime() !== previousStart.getTime();
    if (!has(body, 'sms')) {
      // Moving the start keeps the SMS lead time the admin chose.
      if (draft.sms && startMoved) draft.sms.startSendAt = new Date(draft.sms.startSendAt.getTime() + (draft.start!.getTime() - previousStart!.getTime()));
      if (draft.sms) checkSendWindow();
      return;
    }
    const value = body.sms;
    if (value === null) {
      draft.sms = null;
      return;
    }
    if (!isObject(value)) {
      fail('sms', 'must be an object with groupId, startMessage, endMessage and startSendAt, or null');
      return;
    }
    const current = draft.sms ?? { groupId: '', startMessage: '', endMessage: '', startSendAt: draft.start ?? new Date(0) };
    const sms: SmsSettings = { ...current };
    if (has(value, 'groupId')) {
      if (typeof value.groupId !== 'string' || !value.groupId) fail('sms.groupId', 'must be a group id');
      else sms.groupId = value.groupId;
    }
    if (!sms.groupId) {
      if (!errors.some((e) => e.path === 'sms.groupId')) fail('sms.groupId', 'is required');
    } else if (!(await ctx.groupExists(sms.groupId))) fail('sms.groupId', `no group "${sms.groupId}" in this tenant's directory`);
    sms.startMessage = text(value, 'startMessage', 'sms.startMessage', LIMITS.smsMessage, sms.startMessage);
    sms.endMessage = text(value, 'endMessage', 'sms.endMessage', LIMITS.smsMessage, sms.endMessage);
    const sendAt = instant(value, 'startSendAt', 'sms.startSendAt', null, true);
    if (sendAt.value) sms.startSendAt = sendAt.value;
    else if (!draft.sms || startMoved) {
      // No send time given: send at the start (or keep the old lead time when the start moved).
      const lead = draft.sms && previousStart ? previousStart.getTime() - draft.sms.startSendAt.getTime() : 0;
      if (draft.start) sms.startSendAt = new Date(draft.start.getTime() - lead);
    }
    draft.sms = sms;
    checkSendWindow();
  }

  function checkSendWindow(): void {
    if (!draft.sms || !draft.start || errors.some((e) => e.path.startsWith('sms.startSendAt') || e.path.startsWith('start'))) return;
    const lead = draft.start.getTime() - draft.sms.startSendAt.getTime();
    if (lead < 0) fail('sms.startSendAt', 'must not be after the event starts');
    else if (lead > LIMITS.smsLeadHours * 3600_000) fail('sms.startSendAt', `may be at most ${LIMITS.smsLeadHours} hours before the event starts`);
  }
}
