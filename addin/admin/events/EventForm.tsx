/**
 * The continuity event form: new, edit and clone. Times are wall clock in the event's zone
 * (sent as startLocal / endLocal / sms.startSendAtLocal; the server resolves clock changes and
 * refuses a time skipped by one). Only changed times are sent on edit, so an untouched start keeps
 * its seconds. Server validation errors are shown beside their fields.
 */
import {
  Button,
  Card,
  Dropdown,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Option,
  Select,
  Switch,
  Text,
  Textarea,
  ToggleButton,
  Subtitle2,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { EVENT_LIMITS as LIMITS, EVENT_STATUS_LABELS as STATUS_LABELS } from '../../../server/shared/constants';
import { AdminApiError } from '../api';
import { events, notify } from '../client';
import type { CloudPasswordReset, ContinuityEvent, FieldError, Group } from '../contract';
import { Hint } from '../common';
import { instantOfLocal, localInputValue, zones } from '../time';
import { bodyOf, errorFor, initial, type FormMode, type State } from './form-state';
import { GroupLookup } from './GroupLookup';

export type { FormMode };

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', rowGap: '16px' },
  card: { display: 'flex', flexDirection: 'column', rowGap: '12px' },
  grid: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(260px, 1fr))', gap: '12px', alignItems: 'start' },
  // A button beside a field lines up with its input whatever hints or errors grow below it.
  pick: { display: 'flex', gap: '8px', alignItems: 'flex-start' },
  beside: { marginTop: '22px', flexShrink: 0 },
  grow: { flexGrow: 1, minWidth: 0 },
  preview: {
    fontFamily: tokens.fontFamilyMonospace,
    backgroundColor: tokens.colorNeutralBackground3,
    padding: '6px 8px',
    borderRadius: tokens.borderRadiusMedium,
    overflowWrap: 'anywhere',
  },
  actions: { display: 'flex', gap: '8px', flexWrap: 'wrap' },
});

const RESET_LABELS: Record<CloudPasswordReset, string> = {
  inherit: 'Tenant default',
  never: 'Never',
  email: 'By email (external address)',
  sms: 'By SMS',
};

const len = (s: string) => [...s].length;
/**
 * The directory attribute SMS numbers come from: a saved event's own view (GET /api/events/:id gives
 * sms.phoneAttribute), otherwise the tenant's notification settings. Shown read-only.
 */
function usePhoneAttribute(mode: FormMode): string | null {
  const [attribute, setAttribute] = useState<string | null>(null);
  const eventId = mode.kind === 'new' ? null : mode.event.id;
  useEffect(() => {
    let live = true;
    const fromSettings = () => notify.settings().then((x) => x.phoneAttribute);
    const load = eventId ? events.get(eventId).then((e) => e.sms?.phoneAttribute ?? fromSettings()) : fromSettings();
    load.then(
      (a) => live && setAttribute(a),
      () => live && setAttribute('unknown (the setting could not be read)'),
    );
    return () => {
      live = false;
    };
  }, [eventId]);
  return attribute;
}

export function EventForm({
  mode,
  readOnlyReason,
  onDone,
  onCancel,
}: {
  mode: FormMode;
  readOnlyReason: string | null;
  onDone: (saved: ContinuityEvent) => void;
  onCancel: () => void;
}) {
  const c = useStyles();
  const first = useMemo(() => initial(mode), [mode]);
  const [s, setS] = useState<State>(first);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [lookup, setLookup] = useState<null | 'affected' | 'sms'>(null);
  const zoneList = useMemo(() => zones(), []);
  const phoneAttribute = usePhoneAttribute(mode);
  const set = <K extends keyof State>(key: K, value: State[K]) => setS((x) => ({ ...x, [key]: value }));

  /** Moving the start moves a chosen SMS send time with it, keeping its lead (as the server does). */
  const moveStart = (value: string) =>
    setS((x) => {
      const before = instantOfLocal(x.startLocal, x.timeZone);
      const after = instantOfLocal(value, x.timeZone);
      const send = x.smsSendAtLocal ? instantOfLocal(x.smsSendAtLocal, x.timeZone) : null;
      const smsSendAtLocal =
        before !== null && after !== null && send !== null ? localInputValue(new Date(send + after - before), x.timeZone) : x.smsSendAtLocal;
      return { ...x, startLocal: value, smsSendAtLocal };
    });

  const heading =
    mode.kind === 'new' ? 'New continuity event' : mode.kind === 'clone' ? `Clone of “${mode.event.description}”` : `Edit “${mode.event.description}”`;
  const statusText = mode.kind === 'edit' ? STATUS_LABELS[mode.event.status] : 'New continuity event';
  const started = mode.kind === 'edit' && mode.event.status !== 'pending';

  // Where the 5-day and 24-hour rules bite, say so before the server does.
  const now = Date.now();
  const startAt = instantOfLocal(s.startLocal, s.timeZone);
  const startTooOld = startAt !== null && now - startAt > LIMITS.startPastDays * 86_400_000;
  const sendAt = s.smsSendAtLocal ? instantOfLocal(s.smsSendAtLocal, s.timeZone) : startAt;
  const smsLeadBad = s.smsOn && sendAt !== null && startAt !== null && (startAt - sendAt > LIMITS.smsLeadHours * 3_600_000 || sendAt > startAt);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors([]);
    setFailure(null);
    const missing: FieldError[] = [];
    if (!s.group)
      missing.push({
        path: 'affectedGroupId',
        message: mode.kind === 'clone' ? 'choose the affected group for the clone (it is never copied)' : 'is required',
      });
    if (!s.eternal && !s.endLocal) missing.push({ path: 'end', message: 'choose an end, or press Eternal' });
    if (missing.length) {
      setErrors(missing);
      setBusy(false);
      return;
    }
    const body = bodyOf(mode, s, first);
    try {
      const saved =
        mode.kind === 'new'
          ? await events.create(body)
          : mode.kind === 'clone'
            ? await events.clone(mode.event.id, body)
            : await events.update(mode.event.id, body);
      onDone(saved);
    } catch (err) {
      const apiErr = err as AdminApiError;
      setErrors(apiErr.fieldErrors ?? []);
      setFailure(apiErr.fieldErrors?.length ? 'The event was not saved: correct the fields marked below.' : apiErr.message);
      setBusy(false);
    }
  }

  const counter = (value: string, max: number) => `${len(value)} / ${max} characters`;
  const over = (value: string, max: number) => len(value) > max;
  const fieldProps = (paths: string[], value?: string, max?: number, hint?: string) => {
    const message =
      errorFor(errors, ...paths) ?? (value !== undefined && max !== undefined && over(value, max) ? `Too long: at most ${max} characters` : undefined);
    const extra = value !== undefined && max !== undefined ? counter(value, max) : undefined;
    return {
      validationState: message ? ('error' as const) : ('none' as const),
      validationMessage: message,
      hint: [extra, hint].filter(Boolean).join(' · ') || undefined,
    };
  };
  const disabled = Boolean(readOnlyReason) || busy;

  return (
    <form className={c.form} onSubmit={submit} noValidate data-testid="event-form" aria-labelledby="event-form-title">
      <Subtitle2 as="h2" id="event-form-title">
        {heading}
      </Subtitle2>
      {failure && (
        <MessageBar intent="error" role="alert" data-testid="form-error">
          <MessageBarBody>{failure}</MessageBarBody>
        </MessageBar>
      )}
      {readOnlyReason && (
        <MessageBar intent="warning">
          <MessageBarBody>{readOnlyReason}</MessageBarBody>
        </MessageBar>
      )}
      <Card className={c.card}>
        <Field label="Status">
          <Input readOnly value={statusText} data-testid="form-status" />
        </Field>
        <Field label="Description" required {...fieldProps(['description'], s.description, LIMITS.description)}>
          <Input value={s.description} disabled={disabled} onChange={(_, d) => set('description', d.value)} />
        </Field>
        <div className={c.pick}>
          <Field
            className={c.grow}
            label="Affected group"
            required
            {...fieldProps(
              ['affectedGroupId'],
              undefined,
              undefined,
              mode.kind === 'clone' ? 'A clone never copies the affected group: choose it.' : undefined,
            )}
          >
            <Input readOnly value={s.group?.displayName ?? ''} placeholder="No group chosen" data-testid="affected-group" />
          </Field>
          <Button className={c.beside} disabled={disabled} onClick={() => setLookup('affected')} aria-label="Look Up affected group">
            Look Up
          </Button>
        </div>
        <Field label="Notes (for administrators)" {...fieldProps(['notes'], s.notes, LIMITS.notes)}>
          <Textarea value={s.notes} disabled={disabled} onChange={(_, d) => set('notes', d.value)} resize="vertical" />
        </Field>
      </Card>

      <Card className={c.card}>
        <Subtitle2 as="h3">When</Subtitle2>
        <Field
          label="Time zone"
          required
          {...fieldProps(['timeZone'], undefined, undefined, 'Start and end are wall-clock times in this zone; clock changes are handled by the server.')}
        >
          <Select value={s.timeZone} disabled={disabled || started} onChange={(_, d) => set('timeZone', d.value)}>
            {zoneList.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </Select>
        </Field>
        <div className={c.grid}>
          <Field
            label="Start"
            required
            {...fieldProps(
              ['start'],
              undefined,
              undefined,
              started
                ? 'This event has started: its start can move earlier but not into the future.'
                : `At most ${LIMITS.startPastDays} days in the past: the continuity mailbox keeps ${LIMITS.startPastDays} days of mail.`,
            )}
          >
            <Input type="datetime-local" value={s.startLocal} disabled={disabled} onChange={(_, d) => moveStart(d.value)} />
          </Field>
          <div>
            {/* The hint sits under the row so the Eternal button lines up with the input. */}
            <div className={c.pick}>
              <Field className={c.grow} label="End" {...fieldProps(['end'])}>
                <Input
                  type="datetime-local"
                  value={s.eternal ? '' : s.endLocal}
                  disabled={disabled || s.eternal}
                  onChange={(_, d) => set('endLocal', d.value)}
                />
              </Field>
              <ToggleButton
                className={c.beside}
                checked={s.eternal}
                disabled={disabled}
                onClick={() => set('eternal', !s.eternal)}
                aria-label="Eternal (no end)"
              >
                Eternal
              </ToggleButton>
            </div>
            <Hint>{s.eternal ? 'Eternal: the event runs until someone ends it.' : 'Must be after the start and in the future.'}</Hint>
          </div>
        </div>
        {startTooOld && !errorFor(errors, 'start') && (
          <MessageBar intent="warning" data-testid="five-day-hint">
            <MessageBarBody>
              This start is more than {LIMITS.startPastDays} days ago. Lifeboat keeps {LIMITS.startPastDays} days of mail, so the server will refuse it.
            </MessageBarBody>
          </MessageBar>
        )}
      </Card>

      <Card className={c.card}>
        <Subtitle2 as="h3">Settings</Subtitle2>
        <Switch
          label="Outlook continuity (users keep working in Outlook through Lifeboat)"
          checked={s.outlookContinuity}
          disabled={disabled}
          onChange={(_, d) => set('outlookContinuity', d.checked)}
        />
        <Switch
          label="Expand distribution lists"
          checked={s.expandDistributionLists}
          disabled={disabled}
          onChange={(_, d) => set('expandDistributionLists', d.checked)}
        />
        <Switch
          label="Pause inbound delivery"
          checked={s.pauseInboundDelivery}
          disabled={disabled}
          onChange={(_, d) => set('pauseInboundDelivery', d.checked)}
        />
        <Field label="Cloud password reset" {...fieldProps(['cloudPasswordReset'])}>
          <Dropdown
            value={RESET_LABELS[s.cloudPasswordReset]}
            selectedOptions={[s.cloudPasswordReset]}
            disabled={disabled}
            onOptionSelect={(_, d) => d.optionValue && set('cloudPasswordReset', d.optionValue as CloudPasswordReset)}
          >
            {(Object.keys(RESET_LABELS) as CloudPasswordReset[]).map((k) => (
              <Option key={k} value={k}>
                {RESET_LABELS[k]}
              </Option>
            ))}
          </Dropdown>
        </Field>
      </Card>

      <Card className={c.card}>
        <Subtitle2 as="h3">Messages in the Outlook add-in</Subtitle2>
        <Field label="Start message" {...fieldProps(['appNotifications.startMessage'], s.startMessage, LIMITS.appMessage)}>
          <Textarea value={s.startMessage} disabled={disabled} onChange={(_, d) => set('startMessage', d.value)} />
        </Field>
        <Field label="End message" {...fieldProps(['appNotifications.endMessage'], s.endMessage, LIMITS.appMessage)}>
          <Textarea value={s.endMessage} disabled={disabled} onChange={(_, d) => set('endMessage', d.value)} />
        </Field>
      </Card>

      <Card className={c.card}>
        <Subtitle2 as="h3">SMS notifications</Subtitle2>
        <Switch label="Send SMS to a group" checked={s.smsOn} disabled={disabled} onChange={(_, d) => set('smsOn', d.checked)} />
        {s.smsOn && (
          <>
            <Text data-testid="sms-phone-attribute">
              Numbers from: <strong>{phoneAttribute ?? '…'}</strong> (tenant setting, changed on the Notifications page)
            </Text>
            <div className={c.pick}>
              <Field className={c.grow} label="SMS group" required {...fieldProps(['sms.groupId', 'sms'])}>
                <Input readOnly value={s.smsGroup?.displayName ?? ''} placeholder="No group chosen" />
              </Field>
              <Button className={c.beside} disabled={disabled} onClick={() => setLookup('sms')} aria-label="Look Up SMS group">
                Look Up
              </Button>
            </div>
            {(['smsStart', 'smsEnd'] as const).map((key) => (
              <Field
                key={key}
                label={key === 'smsStart' ? 'SMS start message' : 'SMS end message'}
                {...fieldProps([key === 'smsStart' ? 'sms.startMessage' : 'sms.endMessage'], s[key], LIMITS.smsMessage)}
              >
                <Textarea value={s[key]} disabled={disabled} onChange={(_, d) => set(key, d.value)} />
              </Field>
            ))}
            <div>
              <Text size={200}>Preview of the start SMS:</Text>
              <div className={c.preview} data-testid="sms-preview">
                Email Status: {s.smsStart || '…'}
              </div>
            </div>
            <Field
              label="Send the start SMS at (optional)"
              {...fieldProps(
                ['sms.startSendAt'],
                undefined,
                undefined,
                `Within the ${LIMITS.smsLeadHours} hours before the start; empty: at the start. Left unchanged, it keeps its lead time when the start moves.`,
              )}
            >
              <Input type="datetime-local" value={s.smsSendAtLocal} disabled={disabled} onChange={(_, d) => set('smsSendAtLocal', d.value)} />
            </Field>
            {smsLeadBad && <Hint>The start SMS must go out at most {LIMITS.smsLeadHours} hours before the event starts, and not after it.</Hint>}
          </>
        )}
      </Card>

      <div className={c.actions}>
        <Button appearance="primary" type="submit" disabled={disabled}>
          {busy ? 'Saving…' : mode.kind === 'edit' ? 'Save changes' : mode.kind === 'clone' ? 'Create clone' : 'Create event'}
        </Button>
        <Button onClick={onCancel} disabled={busy}>
          Cancel
        </Button>
      </div>

      <GroupLookup
        title={lookup === 'sms' ? 'Look up the SMS group' : 'Look up the affected group'}
        open={lookup !== null}
        onClose={() => setLookup(null)}
        onPick={(g: Group) => {
          set(lookup === 'sms' ? 'smsGroup' : 'group', { id: g.id, displayName: g.displayName });
          setLookup(null);
        }}
      />
    </form>
  );
}
