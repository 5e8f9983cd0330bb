/**
 * The event form's SMS card: the group, the messages, the send time, where numbers come from, and,
 * before saving, who the SMS would reach (GET /api/notify/sms-audience: channel missing, N of M
 * opted in with a number). Presentational: the form owns the state and passes its setters.
 */
import { Button, Field, Input, MessageBar, MessageBarBody, MessageBarTitle, Switch, Text, Textarea, makeStyles, tokens } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { EVENT_LIMITS as LIMITS } from '../../../server/shared/constants';
import { events, notify } from '../client';
import type { SmsAudienceView } from '../contract';
import { Hint } from '../common';
import type { FormMode, State } from './form-state';

const useStyles = makeStyles({
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
});

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

/** Who the SMS group's message would reach, asked again whenever the group changes. */
function useAudience(groupId: string | null): SmsAudienceView | null {
  const [audience, setAudience] = useState<SmsAudienceView | null>(null);
  useEffect(() => {
    let live = true;
    setAudience(null);
    if (groupId)
      notify.smsAudience(groupId).then(
        (a) => live && setAudience(a),
        () => undefined,
      );
    return () => {
      live = false;
    };
  }, [groupId]);
  return audience;
}

type FieldProps = (paths: string[], value?: string, max?: number, hint?: string) => Record<string, unknown>;

export function SmsSection(props: {
  mode: FormMode;
  s: State;
  set: <K extends keyof State>(key: K, value: State[K]) => void;
  disabled: boolean;
  fieldProps: FieldProps;
  onLookup: () => void;
  /** The chosen send time breaks the lead-time rule (the server would refuse it). */
  leadBad: boolean;
}) {
  const { s, set, disabled, fieldProps } = props;
  const c = useStyles();
  const phoneAttribute = usePhoneAttribute(props.mode);
  const audience = useAudience(s.smsOn ? (s.smsGroup?.id ?? null) : null);
  return (
    <>
      <Switch label="Send SMS to a group" checked={s.smsOn} disabled={disabled} onChange={(_, d) => set('smsOn', d.checked)} />
      {s.smsOn && (
        <>
          <Text data-testid="sms-phone-attribute">
            Numbers from: <strong>{phoneAttribute ?? '…'}</strong> (tenant setting, changed on the Notifications page)
          </Text>
          <div className={c.pick} data-field="sms.groupId">
            <Field className={c.grow} label="SMS group" required {...fieldProps(['sms.groupId', 'sms'])}>
              <Input readOnly value={s.smsGroup?.displayName ?? ''} placeholder="No group chosen" />
            </Field>
            <Button className={c.beside} disabled={disabled} onClick={props.onLookup} aria-label="Look Up SMS group">
              Look Up
            </Button>
          </div>
          {audience && (
            <MessageBar intent={audience.warnings.length ? 'warning' : 'info'} data-testid="sms-audience">
              <MessageBarBody>
                <MessageBarTitle>
                  {audience.optedInWithNumber} of {audience.groupMembers} member(s) opted in with a number
                </MessageBarTitle>
                {audience.warnings.length ? audience.warnings.join(' ') : 'The SMS channel is configured.'}
              </MessageBarBody>
            </MessageBar>
          )}
          {(['smsStart', 'smsEnd'] as const).map((key) => (
            <div key={key} data-field={key === 'smsStart' ? 'sms.startMessage' : 'sms.endMessage'}>
              <Field
                label={key === 'smsStart' ? 'SMS start message' : 'SMS end message'}
                {...fieldProps([key === 'smsStart' ? 'sms.startMessage' : 'sms.endMessage'], s[key], LIMITS.smsMessage)}
              >
                <Textarea value={s[key]} disabled={disabled} onChange={(_, d) => set(key, d.value)} />
              </Field>
            </div>
          ))}
          <div>
            <Text size={200}>Preview of the start SMS:</Text>
            <div className={c.preview} data-testid="sms-preview">
              Email Status: {s.smsStart || '…'}
            </div>
          </div>
          <div data-field="sms.startSendAt">
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
          </div>
          {props.leadBad && <Hint>The start SMS must go out at most {LIMITS.smsLeadHours} hours before the event starts, and not after it.</Hint>}
        </>
      )}
    </>
  );
}
