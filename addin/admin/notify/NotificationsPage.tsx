/**
 * Notifications: the tenant's email (SMTP relay) and SMS (gateway) channels with write-only secrets,
 * the phone attribute, the self-service reset default, a test send per channel and the send log.
 * Everyone sees it; full administrators change it.
 */
import { Badge, Button, Card, Checkbox, Field, Input, Select, Subtitle2, Text, makeStyles } from '@fluentui/react-components';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { AdminApiError, denied } from '../api';
import { notify } from '../client';
import type { FieldError, Me, NotifySettings } from '../contract';
import { Note, errorFor } from './NotifyParts';
import { SendLog } from './SendLog';
import { TestSend } from './TestSend';
import { ErrorBar, Guard, Hint, Loading, PageHead } from '../common';
import { showInstant } from '../time';

/** A write-only secret: keep (untouched), replace (typed value) or remove. */
type SecretEdit = { mode: 'keep' } | { mode: 'replace'; value: string } | { mode: 'remove' };

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', rowGap: '16px' },
  card: { display: 'flex', flexDirection: 'column', rowGap: '12px' },
  grid: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(220px, 1fr))', gap: '12px', alignItems: 'start' },
  actions: { display: 'flex', gap: '8px', flexWrap: 'wrap', alignItems: 'end' },
  secret: { display: 'flex', flexDirection: 'column', rowGap: '4px' },
  secretRow: { display: 'flex', gap: '8px', flexWrap: 'wrap', alignItems: 'center' },
});

export function NotificationsPage({ me }: { me: Me }) {
  const s = useStyles();
  const [settings, setSettings] = useState<NotifySettings | null>(null);
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [logVersion, setLogVersion] = useState(0);

  const load = useCallback(async () => {
    try {
      setSettings(await notify.settings());
      setLoadError(null);
    } catch (err) {
      setLoadError(err as Error);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section aria-labelledby="page-title">
      <PageHead title="Notifications" />
      <Hint>How Lifeboat reaches people out of band: event SMS, admin alerts and password reset codes.</Hint>
      <div className={s.stack} style={{ marginTop: 12 }}>
        {loadError ? (
          <ErrorBar error={loadError} title="Could not load the notification settings" />
        ) : !settings ? (
          <Loading label="Loading the notification settings…" />
        ) : (
          <>
            <EmailCard me={me} settings={settings} onSaved={setSettings} onSent={() => setLogVersion((v) => v + 1)} />
            <SmsCard me={me} settings={settings} onSaved={setSettings} onSent={() => setLogVersion((v) => v + 1)} />
            <GeneralCard me={me} settings={settings} onSaved={setSettings} />
          </>
        )}
        <SendLog version={logVersion} />
      </div>
    </section>
  );
}

type CardProps = { me: Me; settings: NotifySettings; onSaved: (s: NotifySettings) => void; onSent?: () => void };

function useSave(onSaved: (s: NotifySettings) => void) {
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [message, setMessage] = useState<{ intent: 'success' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async (body: Record<string, unknown>, ok: string) => {
    setBusy(true);
    setErrors([]);
    setMessage(null);
    try {
      onSaved(await notify.updateSettings(body));
      setMessage({ intent: 'success', text: ok });
      return true;
    } catch (err) {
      setErrors((err as AdminApiError).fieldErrors ?? []);
      setMessage({ intent: 'error', text: (err as Error).message });
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { errors, message, busy, save };
}

/** A write-only secret: "set" / "not set", a field to replace it, a button to remove it. */
function SecretField({
  label,
  isSet,
  edit,
  onEdit,
  disabled,
  error,
  testId,
}: {
  label: string;
  isSet: boolean;
  edit: SecretEdit;
  onEdit: (e: SecretEdit) => void;
  disabled: boolean;
  error?: string;
  testId: string;
}) {
  const s = useStyles();
  const state = edit.mode === 'remove' ? 'will be removed' : edit.mode === 'replace' && edit.value ? 'will be replaced' : isSet ? 'set' : 'not set';
  return (
    <div className={s.secret} data-testid={testId}>
      <Field
        label={label}
        validationMessage={error}
        hint={isSet ? 'Write-only: stored encrypted, never shown. Type a new value to replace it.' : 'Write-only: stored encrypted and never shown again.'}
      >
        <Input
          type="password"
          autoComplete="new-password"
          value={edit.mode === 'replace' ? edit.value : ''}
          disabled={disabled || edit.mode === 'remove'}
          onChange={(_, d) => onEdit(d.value ? { mode: 'replace', value: d.value } : { mode: 'keep' })}
        />
      </Field>
      <div className={s.secretRow}>
        <Badge appearance="tint" color={state === 'set' ? 'success' : state === 'not set' ? 'subtle' : 'warning'} data-testid={`${testId}-state`}>
          {state}
        </Badge>
        {isSet && edit.mode !== 'remove' && (
          <Button size="small" disabled={disabled} onClick={() => onEdit({ mode: 'remove' })}>
            Remove {label.toLowerCase()}
          </Button>
        )}
        {edit.mode === 'remove' && (
          <Button size="small" disabled={disabled} onClick={() => onEdit({ mode: 'keep' })}>
            Keep it
          </Button>
        )}
      </div>
    </div>
  );
}

const secretValue = (e: SecretEdit) => (e.mode === 'remove' ? null : e.mode === 'replace' ? e.value : undefined);

function EmailCard({ me, settings, onSaved, onSent }: CardProps) {
  const s = useStyles();
  const cannot = denied(me, 'fullAdministrator');
  const v = settings.email;
  const initial = () => ({
    enabled: v?.enabled ?? true,
    host: v?.host ?? '',
    port: String(v?.port ?? 587),
    secure: v?.secure ?? false,
    user: v?.user ?? '',
    from: v?.from ?? '',
  });
  const [form, setForm] = useState(initial);
  const [password, setPassword] = useState<SecretEdit>({ mode: 'keep' });
  const { errors, message, busy, save } = useSave(onSaved);
  const disabled = Boolean(cannot) || busy;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const email: Record<string, unknown> = {
      enabled: form.enabled,
      host: form.host.trim(),
      port: Number(form.port),
      secure: form.secure,
      user: form.user.trim() || null,
      from: form.from.trim(),
    };
    const p = secretValue(password);
    if (p !== undefined) email.password = p;
    if (await save({ email }, 'Email channel saved.')) setPassword({ mode: 'keep' });
  };
  const err = (k: string) => errorFor(errors, `email.${k}`, k === 'host' ? 'email' : '');

  return (
    <Card className={s.card} data-testid="email-channel">
      <Subtitle2 as="h2">Email channel (SMTP relay)</Subtitle2>
      <Text data-testid="email-state">
        {v
          ? `Sending through ${v.host}:${v.port} as ${v.from}${v.enabled ? '' : ' (turned off)'}.`
          : 'Not configured: no email notifications or reset codes by email.'}
      </Text>
      {cannot && <Hint>{cannot}</Hint>}
      <Note message={message} testId="email-message" />
      <form noValidate onSubmit={submit} className={s.card} aria-label="Email channel">
        <div className={s.grid}>
          <Field label="SMTP relay host" required validationMessage={err('host')}>
            <Input value={form.host} disabled={disabled} onChange={(_, d) => setForm({ ...form, host: d.value })} />
          </Field>
          <Field label="Port" required validationMessage={err('port')}>
            <Input type="number" min={1} max={65535} value={form.port} disabled={disabled} onChange={(_, d) => setForm({ ...form, port: d.value })} />
          </Field>
          <Field label="From address" required validationMessage={err('from')}>
            <Input type="email" value={form.from} disabled={disabled} onChange={(_, d) => setForm({ ...form, from: d.value })} />
          </Field>
          <Field label="User name" validationMessage={err('user')} hint="Leave empty when the relay needs no sign-in.">
            <Input value={form.user} autoComplete="off" disabled={disabled} onChange={(_, d) => setForm({ ...form, user: d.value })} />
          </Field>
          <SecretField
            label="Password"
            isSet={Boolean(v?.passwordSet)}
            edit={password}
            onEdit={setPassword}
            disabled={disabled}
            error={err('password')}
            testId="email-password"
          />
        </div>
        <Checkbox
          label="TLS from the start (port 465); otherwise STARTTLS"
          checked={form.secure}
          disabled={disabled}
          onChange={(_, d) => setForm({ ...form, secure: Boolean(d.checked) })}
        />
        <Checkbox label="Email channel on" checked={form.enabled} disabled={disabled} onChange={(_, d) => setForm({ ...form, enabled: Boolean(d.checked) })} />
        <div className={s.actions}>
          <Guard reason={cannot}>
            <Button appearance="primary" type="submit" disabledFocusable={disabled}>
              Save email channel
            </Button>
          </Guard>
        </div>
      </form>
      <TestSend me={me} channel="email" configured={Boolean(v)} onSent={onSent} />
    </Card>
  );
}

function SmsCard({ me, settings, onSaved, onSent }: CardProps) {
  const s = useStyles();
  const cannot = denied(me, 'fullAdministrator');
  const v = settings.sms;
  const initial = () => ({
    enabled: v?.enabled ?? true,
    provider: v?.provider ?? ('twilio' as 'twilio' | 'webhook'),
    baseUrl: v?.baseUrl ?? '',
    accountSid: v?.accountSid ?? '',
    from: v?.from ?? '',
    url: v?.url ?? '',
  });
  const [form, setForm] = useState(initial);
  const [authToken, setAuthToken] = useState<SecretEdit>({ mode: 'keep' });
  const [signingSecret, setSigningSecret] = useState<SecretEdit>({ mode: 'keep' });
  const [inboundSecret, setInboundSecret] = useState<SecretEdit>({ mode: 'keep' });
  const { errors, message, busy, save } = useSave(onSaved);
  const disabled = Boolean(cannot) || busy;
  const twilio = form.provider === 'twilio';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const sms: Record<string, unknown> = { enabled: form.enabled, provider: form.provider };
    if (twilio) {
      sms.baseUrl = form.baseUrl.trim() || null;
      sms.accountSid = form.accountSid.trim() || null;
      sms.from = form.from.trim() || null;
      const t = secretValue(authToken);
      if (t !== undefined) sms.authToken = t;
    } else {
      sms.url = form.url.trim() || null;
      const t = secretValue(signingSecret);
      if (t !== undefined) sms.signingSecret = t;
    }
    const i = secretValue(inboundSecret);
    if (i !== undefined) sms.inboundSecret = i;
    if (await save({ sms }, 'SMS channel saved.')) {
      setAuthToken({ mode: 'keep' });
      setSigningSecret({ mode: 'keep' });
      setInboundSecret({ mode: 'keep' });
    }
  };
  const err = (k: string) => errorFor(errors, `sms.${k}`);

  return (
    <Card className={s.card} data-testid="sms-channel">
      <Subtitle2 as="h2">SMS channel (gateway)</Subtitle2>
      <Text data-testid="sms-state">
        {v
          ? `Sending through ${v.provider === 'twilio' ? `a Twilio-shaped gateway at ${v.baseUrl}` : `a JSON webhook at ${v.url}`}${v.enabled ? '' : ' (turned off)'}.`
          : 'Not configured: no event SMS, SMS alerts or reset codes by SMS.'}
      </Text>
      {v && <Hint>Replies (STOP / START) from the gateway go to {v.inboundUrl}</Hint>}
      {cannot && <Hint>{cannot}</Hint>}
      <Note message={message} testId="sms-message" />
      <form noValidate onSubmit={submit} className={s.card} aria-label="SMS channel">
        <div className={s.grid}>
          <Field label="Provider" validationMessage={err('provider')}>
            <Select value={form.provider} disabled={disabled} onChange={(_, d) => setForm({ ...form, provider: d.value as 'twilio' | 'webhook' })}>
              <option value="twilio">Twilio-shaped API</option>
              <option value="webhook">JSON webhook</option>
            </Select>
          </Field>
          {twilio ? (
            <>
              <Field label="Base URL" validationMessage={err('baseUrl')} hint="Empty: Twilio's own API.">
                <Input value={form.baseUrl} disabled={disabled} onChange={(_, d) => setForm({ ...form, baseUrl: d.value })} />
              </Field>
              <Field label="Account SID" validationMessage={err('accountSid')}>
                <Input value={form.accountSid} disabled={disabled} onChange={(_, d) => setForm({ ...form, accountSid: d.value })} />
              </Field>
              <Field label="From number" validationMessage={err('from')}>
                <Input value={form.from} disabled={disabled} onChange={(_, d) => setForm({ ...form, from: d.value })} />
              </Field>
              <SecretField
                label="Auth token"
                isSet={Boolean(v?.authTokenSet)}
                edit={authToken}
                onEdit={setAuthToken}
                disabled={disabled}
                error={err('authToken')}
                testId="sms-token"
              />
            </>
          ) : (
            <>
              <Field label="Webhook URL" validationMessage={err('url')}>
                <Input value={form.url} disabled={disabled} onChange={(_, d) => setForm({ ...form, url: d.value })} />
              </Field>
              <SecretField
                label="Signing secret"
                isSet={Boolean(v?.signingSecretSet)}
                edit={signingSecret}
                onEdit={setSigningSecret}
                disabled={disabled}
                error={err('signingSecret')}
                testId="sms-signing"
              />
            </>
          )}
          <SecretField
            label="Inbound secret"
            isSet={Boolean(v?.inboundSecretSet)}
            edit={inboundSecret}
            onEdit={setInboundSecret}
            disabled={disabled}
            error={err('inboundSecret')}
            testId="sms-inbound"
          />
        </div>
        <Checkbox label="SMS channel on" checked={form.enabled} disabled={disabled} onChange={(_, d) => setForm({ ...form, enabled: Boolean(d.checked) })} />
        <div className={s.actions}>
          <Guard reason={cannot}>
            <Button appearance="primary" type="submit" disabledFocusable={disabled}>
              Save SMS channel
            </Button>
          </Guard>
        </div>
      </form>
      <TestSend me={me} channel="sms" configured={Boolean(v)} onSent={onSent} />
    </Card>
  );
}

function GeneralCard({ me, settings, onSaved }: CardProps) {
  const s = useStyles();
  const cannot = denied(me, 'fullAdministrator');
  const [attr, setAttr] = useState(settings.phoneAttribute);
  const [reset, setReset] = useState(settings.cloudPasswordReset);
  const { errors, message, busy, save } = useSave(onSaved);
  const disabled = Boolean(cannot) || busy;
  const known = ['mobilePhone', 'businessPhones'];
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await save({ phoneAttribute: attr.trim(), cloudPasswordReset: reset }, 'Saved.');
  };
  return (
    <Card className={s.card} data-testid="notify-general">
      <Subtitle2 as="h2">Phone numbers and password reset</Subtitle2>
      {cannot && <Hint>{cannot}</Hint>}
      <Note message={message} testId="general-message" />
      <form noValidate onSubmit={submit} className={s.card} aria-label="Phone numbers and password reset">
        <div className={s.grid}>
          <Field
            label="Phone attribute"
            validationMessage={errorFor(errors, 'phoneAttribute')}
            hint={`The directory attribute users' SMS numbers come from (${known.join(' or ')}: the first of the list, or another attribute).`}
          >
            <Input value={attr} disabled={disabled} list="phone-attributes" onChange={(_, d) => setAttr(d.value)} />
          </Field>
          <datalist id="phone-attributes">
            {known.map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
          <Field
            label="Self-service password reset (tenant default)"
            validationMessage={errorFor(errors, 'cloudPasswordReset')}
            hint="Events can set their own; “never” on any current event wins."
          >
            <Select value={reset} disabled={disabled} onChange={(_, d) => setReset(d.value as NotifySettings['cloudPasswordReset'])}>
              <option value="never">Never: an administrator sets cloud passwords</option>
              <option value="email">Code by email to the alternate address</option>
              <option value="sms">Code by SMS (users who opted in)</option>
            </Select>
          </Field>
        </div>
        {settings.updatedAt && (
          <Hint>
            Last changed {showInstant(settings.updatedAt)}
            {settings.updatedBy ? ` by ${settings.updatedBy}` : ''}.
          </Hint>
        )}
        <div className={s.actions}>
          <Guard reason={cannot}>
            <Button appearance="primary" type="submit" disabledFocusable={disabled}>
              Save
            </Button>
          </Guard>
        </div>
      </form>
    </Card>
  );
}
