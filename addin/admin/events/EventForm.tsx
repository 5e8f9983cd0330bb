/**
 * The continuity event form: new, edit and clone. Times are wall clock in the event's zone
 * (sent as startLocal / endLocal / sms.startSendAtLocal; the server resolves clock changes and
 * refuses a time skipped by one). Only changed times are sent on edit, so an untouched start keeps
 * its seconds. Server validation errors are shown beside their fields.
 */
import {
  Badge,
  Button,
  Card,
  Dropdown,
  Field,
  Input,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  Option,
  Select,
  Switch,
  Text,
  Textarea,
  ToggleButton,
  Subtitle2,
  makeStyles,
} from '@fluentui/react-components';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { EVENT_LIMITS as LIMITS, EVENT_STATUS_LABELS as STATUS_LABELS } from '../../../server/shared/constants';
import { AdminApiError } from '../api';
import { events } from '../client';
import type { CloudPasswordReset, ContinuityEvent, FieldError, Group } from '../contract';
import { instantOfLocal, localInputValue, zones } from '../time';
import { ErrorSummary } from './ErrorSummary';
import {
  bodyOf,
  DEFAULT_DURATION_HOURS,
  endInWords,
  errorFor,
  FIELD_LABELS,
  initial,
  PATHS_OF,
  readDraft,
  writeDraft,
  type FormMode,
  type State,
} from './form-state';
import { GroupLookup } from './GroupLookup';
import { SmsSection } from './SmsSection';

export type { FormMode };

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', rowGap: '16px' },
  card: { display: 'flex', flexDirection: 'column', rowGap: '12px' },
  grid: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(260px, 1fr))', gap: '12px', alignItems: 'start' },
  // A button beside a field lines up with its input whatever hints or errors grow below it.
  pick: { display: 'flex', gap: '8px', alignItems: 'flex-start' },
  beside: { marginTop: '22px', flexShrink: 0 },
  grow: { flexGrow: 1, minWidth: 0 },
  actions: { display: 'flex', gap: '8px', flexWrap: 'wrap' },
});

const RESET_LABELS: Record<CloudPasswordReset, string> = {
  inherit: 'Tenant default',
  never: 'Never',
  email: 'By email (external address)',
  sms: 'By SMS',
};

const len = (s: string) => [...s].length;

export function EventForm({
  mode,
  draftKey,
  readOnlyReason,
  onDone,
  onCancel,
}: {
  mode: FormMode;
  /** The form's address (e.g. events/new): its unsaved state is kept under it across Back and reload. */
  draftKey: string;
  readOnlyReason: string | null;
  onDone: (saved: ContinuityEvent) => void;
  onCancel: () => void;
}) {
  const c = useStyles();
  const first = useMemo(() => initial(mode), [mode]);
  const [s, setS] = useState<State>(() => (readOnlyReason ? null : readDraft(draftKey)) ?? first);
  const [restored, setRestored] = useState(() => !readOnlyReason && readDraft(draftKey) !== null);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [lookup, setLookup] = useState<null | 'affected' | 'sms'>(null);
  const [focusKey, setFocusKey] = useState(0);
  const zoneList = useMemo(() => zones(), []);
  /** Changing a field clears its error: a stale "Is required" must not outlive the fix. */
  const clearFor = (key: keyof State) => {
    const paths = PATHS_OF[key] ?? [];
    setErrors((list) => (list.some((e) => paths.includes(e.path)) ? list.filter((e) => !paths.includes(e.path)) : list));
  };
  const set = <K extends keyof State>(key: K, value: State[K]) => {
    clearFor(key);
    setS((x) => ({ ...x, [key]: value }));
  };
  const dirty = JSON.stringify(s) !== JSON.stringify(first);

  // Every change is kept for Back and reload; an untouched form keeps nothing.
  useEffect(() => {
    if (!readOnlyReason) writeDraft(draftKey, dirty ? s : null);
  }, [draftKey, dirty, s, readOnlyReason]);
  const discard = () => {
    writeDraft(draftKey, null);
    setErrors([]);
    setFailure(null);
    setRestored(false);
    setS(first);
  };
  const cancel = () => {
    writeDraft(draftKey, null);
    onCancel();
  };

  // A half-filled form is not lost silently: reloading or leaving the page asks first.
  useEffect(() => {
    if (!dirty || readOnlyReason) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty, readOnlyReason]);

  /** Moving the start moves a chosen SMS send time with it, keeping its lead (as the server does). */
  /** On a new event or clone the end moves along too, keeping the length the admin sees in words. */
  const moveStart = (value: string) => {
    clearFor('startLocal');
    setS((x) => {
      const before = instantOfLocal(x.startLocal, x.timeZone);
      const after = instantOfLocal(value, x.timeZone);
      const shift = (local: string) => {
        const at = local ? instantOfLocal(local, x.timeZone) : null;
        return before !== null && after !== null && at !== null ? localInputValue(new Date(at + after - before), x.timeZone) : local;
      };
      const endLocal = mode.kind !== 'edit' && !x.eternal ? shift(x.endLocal) : x.endLocal;
      return { ...x, startLocal: value, endLocal, smsSendAtLocal: shift(x.smsSendAtLocal) };
    });
  };
  /** Eternal off again: an empty end becomes the default length after the start. */
  const toggleEternal = () => {
    clearFor('eternal');
    setS((x) => {
      const startAt = instantOfLocal(x.startLocal, x.timeZone);
      const endLocal =
        x.eternal && !x.endLocal && startAt !== null ? localInputValue(new Date(startAt + DEFAULT_DURATION_HOURS * 3_600_000), x.timeZone) : x.endLocal;
      return { ...x, eternal: !x.eternal, endLocal };
    });
  };

  const heading =
    mode.kind === 'new' ? 'New continuity event' : mode.kind === 'clone' ? `Clone of “${mode.event.description}”` : `Edit “${mode.event.description}”`;
  const statusText = mode.kind === 'edit' ? STATUS_LABELS[mode.event.status] : 'New continuity event';
  const started = mode.kind === 'edit' && mode.event.status !== 'pending';

  // Where the 5-day and 24-hour rules bite, say so before the server does.
  const now = Date.now();
  const startAt = instantOfLocal(s.startLocal, s.timeZone);
  const startTooOld = startAt !== null && now - startAt > LIMITS.startPastDays * 86_400_000;
  const endAt = s.eternal || !s.endLocal ? null : instantOfLocal(s.endLocal, s.timeZone);
  // A clone keeps its original's description until the admin changes it: mark it so the two are told apart.
  const unchangedCopy = mode.kind === 'clone' && s.description === mode.event.description;
  const sendAt = s.smsSendAtLocal ? instantOfLocal(s.smsSendAtLocal, s.timeZone) : startAt;
  const smsLeadBad = s.smsOn && sendAt !== null && startAt !== null && (startAt - sendAt > LIMITS.smsLeadHours * 3_600_000 || sendAt > startAt);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors([]);
    setFailure(null);
    const missing: FieldError[] = [];
    if (!s.description.trim()) missing.push({ path: 'description', message: 'is required' });
    if (!s.group)
      missing.push({
        path: 'affectedGroupId',
        message: mode.kind === 'clone' ? 'choose the affected group for the clone (it is never copied)' : 'is required',
      });
    if (!s.eternal && !s.endLocal) missing.push({ path: 'end', message: 'choose an end, or press Eternal' });
    if (missing.length) {
      setErrors(missing);
      setFailure('The event was not saved: correct these fields.');
      setFocusKey((k) => k + 1);
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
      writeDraft(draftKey, null);
      onDone(saved);
    } catch (err) {
      const apiErr = err as AdminApiError;
      setErrors(apiErr.fieldErrors ?? []);
      setFailure(apiErr.fieldErrors?.length ? 'The event was not saved: correct these fields.' : apiErr.message);
      setFocusKey((k) => k + 1);
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
      {/* Once every listed field is fixed, the summary goes too. */}
      {failure && (errors.length > 0 || !failure.endsWith('correct these fields.')) && (
        <ErrorSummary errors={errors} labels={FIELD_LABELS} title={failure} focusKey={focusKey} />
      )}
      {restored && dirty && (
        <MessageBar intent="info" data-testid="draft-restored">
          <MessageBarBody>Your unsaved changes to this form were kept (after Back or a reload). Save them, or start again.</MessageBarBody>
          <MessageBarActions>
            <Button size="small" onClick={discard}>
              Discard changes
            </Button>
          </MessageBarActions>
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
        <div data-field="description">
          <Field label="Description" required {...fieldProps(['description'], s.description, LIMITS.description)}>
            <Input value={s.description} disabled={disabled} onChange={(_, d) => set('description', d.value)} />
          </Field>
          {unchangedCopy && (
            <Badge appearance="tint" color="warning" data-testid="copy-badge" style={{ marginTop: 4 }}>
              Copy of “{mode.event.description}”: change the description so the two events can be told apart
            </Badge>
          )}
        </div>
        <div className={c.pick} data-field="affectedGroupId">
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
        <div data-field="notes">
          <Field label="Notes (for administrators)" {...fieldProps(['notes'], s.notes, LIMITS.notes)}>
            <Textarea value={s.notes} disabled={disabled} onChange={(_, d) => set('notes', d.value)} resize="vertical" />
          </Field>
        </div>
      </Card>

      <Card className={c.card}>
        <Subtitle2 as="h3">When</Subtitle2>
        <Field
          data-field="timeZone"
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
            data-field="start"
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
            <div className={c.pick} data-field="end">
              <Field className={c.grow} label="End" {...fieldProps(['end'])}>
                <Input
                  type="datetime-local"
                  value={s.eternal ? '' : s.endLocal}
                  disabled={disabled || s.eternal}
                  onChange={(_, d) => set('endLocal', d.value)}
                />
              </Field>
              <ToggleButton className={c.beside} checked={s.eternal} disabled={disabled} onClick={toggleEternal} aria-label="Eternal (no end)">
                Eternal
              </ToggleButton>
            </div>
            <Text size={200} data-testid="end-choice" style={{ display: 'block' }}>
              {endInWords(s, startAt, endAt)}
            </Text>
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
        <Field data-field="cloudPasswordReset" label="Cloud password reset" {...fieldProps(['cloudPasswordReset'])}>
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
        <Field
          data-field="appNotifications.startMessage"
          label="Start message"
          {...fieldProps(['appNotifications.startMessage'], s.startMessage, LIMITS.appMessage)}
        >
          <Textarea value={s.startMessage} disabled={disabled} onChange={(_, d) => set('startMessage', d.value)} />
        </Field>
        <Field data-field="appNotifications.endMessage" label="End message" {...fieldProps(['appNotifications.endMessage'], s.endMessage, LIMITS.appMessage)}>
          <Textarea value={s.endMessage} disabled={disabled} onChange={(_, d) => set('endMessage', d.value)} />
        </Field>
      </Card>

      <Card className={c.card}>
        <Subtitle2 as="h3">SMS notifications</Subtitle2>
        <SmsSection mode={mode} s={s} set={set} disabled={disabled} fieldProps={fieldProps} onLookup={() => setLookup('sms')} leadBad={smsLeadBad} />
      </Card>

      <div className={c.actions}>
        <Button appearance="primary" type="submit" disabled={disabled}>
          {busy ? 'Saving…' : mode.kind === 'edit' ? 'Save changes' : mode.kind === 'clone' ? 'Create clone' : 'Create event'}
        </Button>
        <Button onClick={cancel} disabled={busy}>
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
