/**
 * Continuity mail: queue and held-mail counts with the release progress (polled, faster while a
 * release runs, and at once when an event changes), the settings form (primary servers, relay,
 * retention), the copy of users' sent mail into Exchange Sent Items (SentItemsCard.tsx) and how to
 * route mail through Lifeboat (MX / connectors).
 */
import { Button, Card, Checkbox, Field, Input, MessageBar, MessageBarBody, ProgressBar, Subtitle2, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useEffect, useState, type FormEvent } from 'react';
import { AdminApiError, denied } from '../api';
import { mail } from '../client';
import type { FieldError, MailSettings, MailSettingsInput, MailStatus, Me } from '../contract';
import { ErrorBar, Guard, Hint, PageHead, Show, useEvery, useLoad } from '../common';
import { useContinuityChanges } from '../live';
import { showInstant } from '../time';
import { QueueList } from './QueueList';
import { SentItemsCard } from './SentItemsCard';

/** The form keeps what was typed (ports as text) until it is saved. */
interface Draft {
  primaryServers: { host: string; port: string }[];
  relayHost: string;
  relayPort: string;
  retentionDays: string;
  verifyTls: boolean;
}

const POLL_MS = 5000;
const POLL_RELEASING_MS = 1000;

const useStyles = makeStyles({
  page: { display: 'flex', flexDirection: 'column', rowGap: '16px' },
  card: { display: 'flex', flexDirection: 'column', rowGap: '8px' },
  stats: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(130px, 1fr))', gap: '8px', margin: 0 },
  stat: { padding: '8px 12px', borderRadius: tokens.borderRadiusMedium, backgroundColor: tokens.colorNeutralBackground2, margin: 0 },
  statValue: { fontSize: tokens.fontSizeHero700, fontWeight: tokens.fontWeightSemibold, lineHeight: tokens.lineHeightHero700, margin: 0, display: 'block' },
  statLabel: { color: tokens.colorNeutralForeground2, fontSize: tokens.fontSizeBase200 },
  // Host and port side by side; on a phone the host takes the line and the port wraps below.
  row: { display: 'flex', flexWrap: 'wrap', gap: '8px', alignItems: 'flex-start' },
  host: { flex: '1 1 240px', minWidth: 0 },
  port: { flex: '0 0 160px', minWidth: 0 },
  input: { width: '100%', minWidth: 0 },
  narrow: { maxWidth: '200px' },
  fieldset: { border: 'none', margin: 0, padding: 0, minWidth: 0, display: 'flex', flexDirection: 'column', rowGap: '12px' },
  legend: { padding: 0, fontWeight: tokens.fontWeightSemibold, marginBottom: '4px' },
  actions: { display: 'flex', gap: '8px', flexWrap: 'wrap', alignItems: 'center' },
  removeButton: { marginTop: '26px' },
  steps: { margin: 0, paddingLeft: '20px', display: 'flex', flexDirection: 'column', rowGap: '6px' },
  code: { fontFamily: tokens.fontFamilyMonospace, overflowWrap: 'anywhere' },
});

const toDraft = (s: MailSettings): Draft => ({
  primaryServers: s.primaryServers.map((p) => ({ host: p.host, port: String(p.port) })),
  relayHost: s.relay?.host ?? '',
  relayPort: s.relay ? String(s.relay.port) : '25',
  retentionDays: String(s.retentionDays),
  verifyTls: s.verifyTls !== false,
});

/** Numbers stay numbers only when they are; anything else goes as typed so the server names the field. */
const num = (v: string): number | string => (/^\s*\d+\s*$/.test(v) ? Number(v) : v);

function toBody(d: Draft): MailSettingsInput {
  return {
    primaryServers: d.primaryServers.map((p) => ({ host: p.host.trim(), port: num(p.port) })),
    relay: d.relayHost.trim() ? { host: d.relayHost.trim(), port: num(d.relayPort) } : null,
    retentionDays: num(d.retentionDays),
    verifyTls: d.verifyTls,
  };
}

export function MailPage({ me }: { me: Me }) {
  const c = useStyles();
  return (
    <section aria-labelledby="page-title" className={c.page}>
      <PageHead title="Mail" />
      <QueueCard />
      <QueueList me={me} />
      <SentItemsCard me={me} className={c.card} />
      <SettingsCard me={me} />
      <SetupCard />
    </section>
  );
}

function Stat({ label, value, testId }: { label: string; value: number | undefined; testId: string }) {
  const c = useStyles();
  return (
    <div className={c.stat} data-testid={testId}>
      <dt className={c.statLabel}>{label}</dt>
      <dd className={c.statValue}>{value ?? '—'}</dd>
    </div>
  );
}

function QueueCard() {
  const c = useStyles();
  const [status, reload] = useLoad(mail.status);
  const [checkedAt, setCheckedAt] = useState<Date | null>(null);
  // An event ending starts a release: look at once.
  useContinuityChanges(() => void reload());
  const releasing = status.state === 'ready' && status.data.release?.state === 'running';

  useEffect(() => {
    if (status.state === 'ready') setCheckedAt(new Date());
  }, [status]);
  useEvery(reload, releasing ? POLL_RELEASING_MS : POLL_MS);

  return (
    <Card className={c.card}>
      <Subtitle2 as="h2">Queue and held mail</Subtitle2>
      <Show value={status} label="Loading mail status…">
        {(s) => (
          <>
            <dl className={c.stats} aria-label="Mail counts">
              <Stat label="Queued for delivery" value={s.queued} testId="count-queued" />
              <Stat label="Deferred (retrying)" value={s.deferred} testId="count-deferred" />
              <Stat label="Held by a pausing event" value={s.held} testId="count-held" />
              <Stat label="Delivered" value={s.delivered} testId="count-delivered" />
              <Stat label="Bounced / failed" value={s.failed} testId="count-failed" />
            </dl>
            <Hint>
              Queued counts every delivery still to do (inbound to your primary servers, outbound through the relay); deferred ones were tried and wait for a
              retry. Held mail stays in Lifeboat while an event with “Pause inbound delivery” covers its recipient and is released when that event ends.
            </Hint>
            <Release release={s.release} />
            <Text size={200} data-testid="mail-checked">
              {checkedAt
                ? `Updated ${checkedAt.toLocaleTimeString('en-GB')}; refreshes every ${releasing ? 'second while releasing' : `${POLL_MS / 1000} seconds`}.`
                : ''}
            </Text>
          </>
        )}
      </Show>
    </Card>
  );
}

function Release({ release }: { release: MailStatus['release'] }) {
  if (!release)
    return (
      <Text data-testid="release" data-state="none">
        No held mail has been released yet.
      </Text>
    );
  const done = release.released + release.stillHeld;
  const value = release.total ? done / release.total : 1;
  const label =
    release.state === 'running'
      ? `Releasing held mail: ${release.released} of ${release.total} released${release.stillHeld ? `, ${release.stillHeld} still covered by a pausing event` : ''}.`
      : `Last release finished ${showInstant(release.finishedAt)}: ${release.released} of ${release.total} released${release.stillHeld ? `, ${release.stillHeld} still held by a pausing event` : ''}.`;
  return (
    <Field label="Release of held mail" validationMessage={label} validationState="none" data-testid="release" data-state={release.state}>
      <ProgressBar value={value} max={1} thickness="large" color={release.state === 'done' ? 'success' : 'brand'} aria-label="Release of held mail" />
    </Field>
  );
}

function SettingsCard({ me }: { me: Me }) {
  const c = useStyles();
  const cannot = denied(me, 'basicAdministrator');
  // The fieldset disables everything natively; the props give the controls their disabled look too.
  const off = Boolean(cannot);
  const [loaded, reload] = useLoad(mail.settings);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [failure, setFailure] = useState<Error | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (loaded.state === 'ready') setDraft(toDraft(loaded.data));
  }, [loaded]);

  const error = (path: string) => errors.find((e) => e.path === path)?.message;
  const errorsUnder = (prefix: string) =>
    errors
      .filter((e) => e.path === prefix)
      .map((e) => e.message)
      .join(' ');

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!draft || cannot) return;
    setBusy(true);
    setSaved(false);
    setFailure(null);
    try {
      const next = await mail.saveSettings(toBody(draft));
      setErrors([]);
      setDraft(toDraft(next));
      setSaved(true);
    } catch (err) {
      const fieldErrors = err instanceof AdminApiError ? err.fieldErrors : [];
      setErrors(fieldErrors);
      if (!fieldErrors.length) setFailure(err as Error);
    } finally {
      setBusy(false);
    }
  }

  const edit = (next: Partial<Draft>) => {
    setSaved(false);
    setDraft((d) => (d ? { ...d, ...next } : d));
  };
  const editServer = (i: number, next: Partial<{ host: string; port: string }>) =>
    edit({ primaryServers: draft!.primaryServers.map((p, j) => (j === i ? { ...p, ...next } : p)) });

  return (
    <Card className={c.card}>
      <Subtitle2 as="h2" id="mail-settings-title">
        Settings
      </Subtitle2>
      <Show value={loaded} label="Loading mail settings…">
        {() =>
          draft && (
            <form onSubmit={save} aria-labelledby="mail-settings-title" data-testid="mail-settings" noValidate>
              <fieldset className={c.fieldset} disabled={Boolean(cannot)}>
                {cannot && (
                  <MessageBar intent="info" data-testid="settings-read-only">
                    <MessageBarBody>{cannot}</MessageBarBody>
                  </MessageBar>
                )}
                <fieldset className={c.fieldset}>
                  <legend className={c.legend}>Primary servers</legend>
                  <Hint>Where Lifeboat delivers inbound mail onward, tried in order: usually your Exchange Online MX host, port 25.</Hint>
                  {draft.primaryServers.length === 0 && (
                    <Text data-testid="no-primary">No primary server: inbound mail stays queued in Lifeboat until you add one.</Text>
                  )}
                  {draft.primaryServers.map((p, i) => (
                    <div className={c.row} key={i} data-testid="primary-server">
                      <Field className={c.host} label={`Primary server ${i + 1} host`} validationMessage={error(`primaryServers.${i}.host`)}>
                        <Input
                          className={c.input}
                          disabled={off}
                          value={p.host}
                          onChange={(_, d) => editServer(i, { host: d.value })}
                          placeholder="contoso-com.mail.protection.outlook.com"
                        />
                      </Field>
                      <Field className={c.port} label={`Primary server ${i + 1} port`} validationMessage={error(`primaryServers.${i}.port`)}>
                        <Input className={c.input} disabled={off} value={p.port} inputMode="numeric" onChange={(_, d) => editServer(i, { port: d.value })} />
                      </Field>
                      <Button
                        disabled={off}
                        className={c.removeButton}
                        aria-label={`Remove primary server ${i + 1}`}
                        onClick={() => edit({ primaryServers: draft.primaryServers.filter((_, j) => j !== i) })}
                      >
                        Remove
                      </Button>
                    </div>
                  ))}
                  {errorsUnder('primaryServers') && (
                    <Text role="alert" style={{ color: tokens.colorPaletteRedForeground1 }}>
                      {errorsUnder('primaryServers')}
                    </Text>
                  )}
                  <div className={c.actions}>
                    <Button
                      onClick={() => edit({ primaryServers: [...draft.primaryServers, { host: '', port: '25' }] })}
                      disabled={off || draft.primaryServers.length >= 10}
                    >
                      Add primary server
                    </Button>
                  </div>
                </fieldset>
                <fieldset className={c.fieldset}>
                  <legend className={c.legend}>Relay (outbound)</legend>
                  <Hint>
                    The smart host that sends users’ mail and bounces during an outage. Leave the host empty for none: outbound mail then waits in the queue.
                  </Hint>
                  <div className={c.row}>
                    <Field className={c.host} label="Relay host" validationMessage={error('relay.host') ?? error('relay')}>
                      <Input
                        className={c.input}
                        disabled={off}
                        value={draft.relayHost}
                        onChange={(_, d) => edit({ relayHost: d.value })}
                        placeholder="smtp.relay.example"
                      />
                    </Field>
                    <Field className={c.port} label="Relay port" validationMessage={error('relay.port')}>
                      <Input className={c.input} disabled={off} value={draft.relayPort} inputMode="numeric" onChange={(_, d) => edit({ relayPort: d.value })} />
                    </Field>
                  </div>
                </fieldset>
                <Field
                  label="Retention (days)"
                  className={c.narrow}
                  validationMessage={error('retentionDays')}
                  hint={error('retentionDays') ? undefined : 'How long continuity mailboxes keep mail: 1 to 30 days.'}
                >
                  <Input
                    className={c.input}
                    disabled={off}
                    value={draft.retentionDays}
                    inputMode="numeric"
                    onChange={(_, d) => edit({ retentionDays: d.value })}
                  />
                </Field>
                <Field
                  validationMessage={error('verifyTls')}
                  hint="Leave on. Turn off only for an internal relay whose certificate comes from your own CA (recorded in the audit log)."
                >
                  <Checkbox
                    label="Verify the TLS certificates of the primary servers and relay"
                    checked={draft.verifyTls}
                    disabled={off}
                    onChange={(_, d) => edit({ verifyTls: Boolean(d.checked) })}
                  />
                </Field>
                <div className={c.actions}>
                  <Guard reason={cannot}>
                    <Button type="submit" appearance="primary" disabledFocusable={Boolean(cannot) || busy}>
                      {busy ? 'Saving…' : 'Save mail settings'}
                    </Button>
                  </Guard>
                  <Button
                    disabled={off}
                    onClick={() => {
                      setErrors([]);
                      void reload();
                    }}
                  >
                    Discard changes
                  </Button>
                  {errors.length > 0 && (
                    <Text role="alert" data-testid="settings-invalid">
                      Some fields need attention; nothing was saved.
                    </Text>
                  )}
                  {saved && (
                    <Text role="status" data-testid="settings-saved">
                      Saved. The change is in the audit trail.
                    </Text>
                  )}
                </div>
                {failure && <ErrorBar error={failure} title="The settings were not saved" />}
              </fieldset>
            </form>
          )
        }
      </Show>
    </Card>
  );
}

function SetupCard() {
  const c = useStyles();
  return (
    <Card className={c.card}>
      <Subtitle2 as="h2">Setup: MX and connectors</Subtitle2>
      <Text>Lifeboat can only keep mail flowing if mail reaches it. Once, before an outage:</Text>
      <ol className={c.steps}>
        <li>
          Route inbound mail through Lifeboat: point the domain’s MX record (or your gateway’s inbound route) at this server on port 25 (forward 25 to the
          server’s <span className={c.code}>SMTP_PORT</span>). Give it a certificate (<span className={c.code}>SMTP_TLS_CERT_FILE</span>,{' '}
          <span className={c.code}>SMTP_TLS_KEY_FILE</span>) so senders can use STARTTLS.
        </li>
        <li>
          In Exchange Online, add an inbound connector from “your organisation’s email server” that accepts mail from Lifeboat’s public IP or certificate name,
          and set the primary servers above to your MX host (<span className={c.code}>&lt;domain-with-dashes&gt;.mail.protection.outlook.com</span>, port 25).
        </li>
        <li>
          Set the relay to a smart host that accepts Lifeboat’s IP, and include that IP (or the relay’s SPF include) in each domain’s SPF record; the Readiness
          page checks SPF and DMARC.
        </li>
      </ol>
    </Card>
  );
}
