/**
 * The continuity event form's state: what the form holds (wall-clock times as typed), its start
 * values for a new event, an edit or a clone, and the request body built from it (for an edit, only
 * what changed). No React: the form component (EventForm.tsx) renders it.
 */
import type { ContinuityEvent, EventInput, FieldError } from '../contract';
import { browserZone, localInputValue } from '../time';

export type FormMode = { kind: 'new' } | { kind: 'edit'; event: ContinuityEvent } | { kind: 'clone'; event: ContinuityEvent };

const local16 = (s: string | null | undefined) => (s ? s.slice(0, 16) : '');

export type State = Pick<
  ContinuityEvent,
  'description' | 'notes' | 'outlookContinuity' | 'cloudPasswordReset' | 'expandDistributionLists' | 'pauseInboundDelivery' | 'timeZone'
> & {
  group: { id: string; displayName: string } | null;
  startLocal: string;
  endLocal: string;
  eternal: boolean;
  startMessage: string;
  endMessage: string;
  smsOn: boolean;
  smsGroup: { id: string; displayName: string } | null;
  smsStart: string;
  smsEnd: string;
  smsSendAtLocal: string;
};

/** A new event ends this long after its start unless the admin picks Eternal (one click away). */
export const DEFAULT_DURATION_HOURS = 4;

export function initial(mode: FormMode): State {
  if (mode.kind === 'new') {
    const timeZone = browserZone();
    const start = new Date();
    return {
      description: '',
      group: null,
      notes: '',
      outlookContinuity: true,
      cloudPasswordReset: 'inherit',
      expandDistributionLists: false,
      pauseInboundDelivery: false,
      timeZone,
      startLocal: localInputValue(start, timeZone),
      endLocal: localInputValue(new Date(start.getTime() + DEFAULT_DURATION_HOURS * 3_600_000), timeZone),
      eternal: false,
      startMessage: '',
      endMessage: '',
      smsOn: false,
      smsGroup: null,
      smsStart: '',
      smsEnd: '',
      smsSendAtLocal: '',
    };
  }
  const e = mode.event;
  return {
    description: e.description,
    // A clone never copies the affected group: the admin picks it again.
    group: mode.kind === 'clone' ? null : { id: e.affectedGroupId, displayName: e.affectedGroup?.displayName ?? e.affectedGroupId },
    notes: e.notes,
    outlookContinuity: e.outlookContinuity,
    cloudPasswordReset: e.cloudPasswordReset,
    expandDistributionLists: e.expandDistributionLists,
    pauseInboundDelivery: e.pauseInboundDelivery,
    timeZone: e.timeZone,
    startLocal: local16(e.startLocal),
    endLocal: local16(e.endLocal),
    eternal: e.end === null,
    startMessage: e.appNotifications.startMessage,
    endMessage: e.appNotifications.endMessage,
    smsOn: e.sms !== null,
    smsGroup: e.sms ? { id: e.sms.groupId, displayName: e.sms.group?.displayName ?? e.sms.groupId } : null,
    smsStart: e.sms?.startMessage ?? '',
    smsEnd: e.sms?.endMessage ?? '',
    smsSendAtLocal: local16(e.sms?.startSendAtLocal),
  };
}

/** The request body: every field for new events and clones, only what changed for an edit. */
export function bodyOf(mode: FormMode, s: State, start: State): EventInput {
  const zoneChanged = s.timeZone !== start.timeZone;
  const all = mode.kind !== 'edit';
  const body: EventInput = {
    description: s.description,
    notes: s.notes,
    outlookContinuity: s.outlookContinuity,
    cloudPasswordReset: s.cloudPasswordReset,
    expandDistributionLists: s.expandDistributionLists,
    pauseInboundDelivery: s.pauseInboundDelivery,
    timeZone: s.timeZone,
    appNotifications: { startMessage: s.startMessage, endMessage: s.endMessage },
  };
  if (s.group) body.affectedGroupId = s.group.id;
  // The version the form was opened on: an edit saved over someone else's newer one is refused (409).
  if (mode.kind === 'edit') body.updatedAt = mode.event.updatedAt;
  if (all || zoneChanged || s.startLocal !== start.startLocal) body.startLocal = s.startLocal;
  if (s.eternal) {
    if (all || !start.eternal) body.end = null;
  } else if (all || zoneChanged || start.eternal || s.endLocal !== start.endLocal) body.endLocal = s.endLocal || null;
  if (!s.smsOn) {
    if (all || start.smsOn) body.sms = null;
  } else {
    const sms: NonNullable<EventInput['sms']> = { groupId: s.smsGroup?.id ?? '', startMessage: s.smsStart, endMessage: s.smsEnd };
    // An untouched send time is left to the server, which keeps its lead time when the start moves.
    if (s.smsSendAtLocal && (zoneChanged || s.smsSendAtLocal !== start.smsSendAtLocal)) sms.startSendAtLocal = s.smsSendAtLocal;
    body.sms = sms;
  }
  return body;
}

/** Errors for a field: the server reports a wall-clock field as e.g. `startLocal`. */
export function errorFor(errors: FieldError[], ...paths: string[]): string | undefined {
  const found = errors.filter((e) => paths.some((p) => e.path === p || e.path === `${p}Local`));
  return found.length ? found.map((e) => e.message.charAt(0).toUpperCase() + e.message.slice(1)).join('; ') : undefined;
}

/** The field each piece of state feeds (as the server names it), so fixing a field clears its stale error. */
export const PATHS_OF: Partial<Record<keyof State, string[]>> = {
  description: ['description'],
  group: ['affectedGroupId'],
  notes: ['notes'],
  timeZone: ['timeZone', 'start', 'startLocal', 'end', 'endLocal'],
  startLocal: ['start', 'startLocal'],
  endLocal: ['end', 'endLocal'],
  eternal: ['end', 'endLocal'],
  cloudPasswordReset: ['cloudPasswordReset'],
  startMessage: ['appNotifications.startMessage'],
  endMessage: ['appNotifications.endMessage'],
  smsOn: ['sms', 'sms.groupId', 'sms.startMessage', 'sms.endMessage', 'sms.startSendAt', 'sms.startSendAtLocal'],
  smsGroup: ['sms', 'sms.groupId'],
  smsStart: ['sms.startMessage'],
  smsEnd: ['sms.endMessage'],
  smsSendAtLocal: ['sms.startSendAt', 'sms.startSendAtLocal'],
};

/** The labels the error summary links show, by the server's field path (without a Local suffix). */
export const FIELD_LABELS: Record<string, string> = {
  description: 'Description',
  affectedGroupId: 'Affected group',
  notes: 'Notes',
  timeZone: 'Time zone',
  start: 'Start',
  end: 'End',
  cloudPasswordReset: 'Cloud password reset',
  'appNotifications.startMessage': 'Start message',
  'appNotifications.endMessage': 'End message',
  sms: 'SMS',
  'sms.groupId': 'SMS group',
  'sms.startMessage': 'SMS start message',
  'sms.endMessage': 'SMS end message',
  'sms.startSendAt': 'Send the start SMS at',
};

/** The end as words: which of "ends at …" and "eternal" is chosen, and how long after the start. */
export function endInWords(s: State, startAt: number | null, endAt: number | null): string {
  if (s.eternal) return 'Eternal: no end is set; the event runs until someone ends it (End Now).';
  if (endAt === null) return 'No end chosen yet: pick one, or press Eternal.';
  const day = s.endLocal.slice(0, 10);
  const time = s.endLocal.slice(11, 16);
  if (startAt === null) return `Ends on ${day} at ${time} (${s.timeZone}).`;
  const minutes = Math.round((endAt - startAt) / 60_000);
  if (minutes <= 0) return `Ends on ${day} at ${time}: that is not after the start.`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const length = [h ? `${h} hour${h === 1 ? '' : 's'}` : '', m ? `${m} minute${m === 1 ? '' : 's'}` : ''].filter(Boolean).join(' ');
  return `Ends on ${day} at ${time} (${s.timeZone}), ${length} after the start.`;
}

/**
 * A half-filled form survives Back and reload: the state is kept in this tab's sessionStorage under
 * the form's address (#events/new, #events/edit/<id>, …) until it is saved or cancelled.
 */
const draftStore = (key: string) => `lifeboat:event-form:${key}`;
export function readDraft(key: string): State | null {
  try {
    const raw = window.sessionStorage.getItem(draftStore(key));
    return raw ? (JSON.parse(raw) as State) : null;
  } catch {
    return null;
  }
}
export function writeDraft(key: string, state: State | null): void {
  try {
    if (state) window.sessionStorage.setItem(draftStore(key), JSON.stringify(state));
    else window.sessionStorage.removeItem(draftStore(key));
  } catch {
    // Storage full or blocked: the beforeunload warning still protects the form.
  }
}
