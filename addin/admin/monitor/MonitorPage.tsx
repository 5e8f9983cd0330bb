/**
 * The continuity monitor: its configuration, its current state (counter, detected / normal,
 * suppression, a pending auto-activation), the detection log with filters and CSV, and a latency chart.
 * Times are shown in the monitor's time zone, with the zone named.
 */
import {
  Badge,
  Button,
  Card,
  Checkbox,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Subtitle2,
  Tab,
  TabList,
  Text,
  Textarea,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useState, type FormEvent, type ReactNode } from 'react';
import { denied } from '../api';
import { monitors } from '../client';
import type { FieldError, Me, MonitorInput, MonitorView } from '../contract';
import { LatencyCard, LogCard } from './MonitorLog';
import { when } from './time';
import { Empty, ErrorBar, Guard, PageHead, Show, useLoad } from '../common';

const useStyles = makeStyles({
  grid: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(220px, 1fr))', gap: '12px', alignItems: 'start' },
  card: { marginBottom: '16px', padding: '16px' },
  row: { display: 'flex', flexWrap: 'wrap', gap: '8px', alignItems: 'end' },
  facts: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(180px, 1fr))', gap: '8px 16px', margin: '8px 0' },
  fact: { display: 'flex', flexDirection: 'column' },
  label: { color: tokens.colorNeutralForeground3 },
  error: { color: tokens.colorPaletteRedForeground1, whiteSpace: 'normal' },
});

export function MonitorPage({ me }: { me: Me }) {
  const [list, reload] = useLoad(monitors.list);
  const [selected, setSelected] = useState<string | 'new' | null>(null);
  const canConfigure = denied(me, 'fullAdministrator');

  return (
    <section aria-labelledby="page-title">
      <PageHead title="Continuity monitor">
        <Guard reason={canConfigure}>
          <Button appearance="primary" disabledFocusable={Boolean(canConfigure)} onClick={() => setSelected('new')}>
            New monitor
          </Button>
        </Guard>
      </PageHead>
      <Show value={list} label="Loading monitors…">
        {(monitors) => {
          const current = selected === 'new' ? null : (monitors.find((m) => m.id === selected) ?? monitors[0] ?? null);
          if (selected === 'new') {
            return (
              <MonitorForm
                me={me}
                monitor={null}
                onSaved={async (m) => {
                  await reload();
                  setSelected(m.id);
                }}
                onCancel={() => setSelected(null)}
              />
            );
          }
          if (!current) {
            return (
              <Empty>
                No monitor yet. A monitor sends test messages both ways every window (outbound from a probe mailbox through Microsoft Graph, inbound through
                your primary servers) and alerts you by SMS and email when mail stops flowing.
              </Empty>
            );
          }
          return (
            <>
              {monitors.length > 1 && (
                <TabList selectedValue={current.id} onTabSelect={(_, d) => setSelected(String(d.value))} aria-label="Monitors">
                  {monitors.map((m) => (
                    <Tab key={m.id} value={m.id}>
                      {m.name}
                    </Tab>
                  ))}
                </TabList>
              )}
              <MonitorDetail key={current.id} me={me} monitor={current} onChanged={reload} />
            </>
          );
        }}
      </Show>
    </section>
  );
}

function MonitorDetail({ me, monitor, onChanged }: { me: Me; monitor: MonitorView; onChanged: () => Promise<void> }) {
  const [editing, setEditing] = useState(false);
  return (
    <>
      <StateCard me={me} monitor={monitor} onChanged={onChanged} onEdit={() => setEditing(true)} />
      {editing && (
        <MonitorForm
          me={me}
          monitor={monitor}
          onSaved={async () => {
            await onChanged();
            setEditing(false);
          }}
          onCancel={() => setEditing(false)}
        />
      )}
      <LatencyCard monitor={monitor} />
      <LogCard monitor={monitor} />
    </>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  const s = useStyles();
  return (
    <div className={s.fact}>
      <Text size={200} className={s.label}>
        {label}
      </Text>
      <Text>{children}</Text>
    </div>
  );
}

function StateCard({ me, monitor, onChanged, onEdit }: { me: Me; monitor: MonitorView; onChanged: () => Promise<void>; onEdit: () => void }) {
  const s = useStyles();
  const [hours, setHours] = useState('4');
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const operate = denied(me, 'basicAdministrator');
  const configure = denied(me, 'fullAdministrator');
  const st = monitor.state;
  const zone = monitor.timeZone;

  async function act(path: 'suppress' | 'resume' | 'auto-activation/cancel', body: { hours?: number } = {}) {
    setBusy(true);
    setError(null);
    try {
      await monitors.act(monitor.id, path, body);
      await onChanged();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card className={s.card} data-testid="monitor-state">
      <div className={s.row} style={{ justifyContent: 'space-between' }}>
        <Subtitle2 as="h2">{monitor.name}</Subtitle2>
        <div className={s.row}>
          {st.status === 'detected' ? (
            <Badge color="danger" size="large" data-testid="monitor-status">
              Problem detected
            </Badge>
          ) : (
            <Badge color="success" size="large" data-testid="monitor-status">
              Normal
            </Badge>
          )}
          {!monitor.enabled && <Badge color="informative">Disabled</Badge>}
          {st.suppressedUntil && <Badge color="warning">Alerts suppressed</Badge>}
        </div>
      </div>
      <div className={s.facts}>
        <Fact label="Failure counter">
          <span data-testid="failure-count">{st.failureCount}</span> of threshold {monitor.failureThreshold}
        </Fact>
        <Fact label="Last decision">{st.lastDecision ?? 'no window yet'}</Fact>
        <Fact label="Last window">{when(st.lastWindowStart, zone)}</Fact>
        <Fact label="Detected since">{when(st.detectedAt, zone)}</Fact>
        <Fact label="Last alert">{when(st.lastAlertAt, zone)}</Fact>
        <Fact label="Suppressed until">{when(st.suppressedUntil, zone)}</Fact>
        <Fact label="Checks">
          {[monitor.outbound.enabled && 'outbound', monitor.inbound.enabled && 'inbound'].filter(Boolean).join(' and ') || 'none'} every {monitor.windowMinutes}{' '}
          min
        </Fact>
        <Fact label="Monitor address">{monitor.address}</Fact>
        <Fact label="Probe mailbox">{monitor.probeMailbox || '—'}</Fact>
        <Fact label="Alerts to">{[...monitor.alertRecipients.sms, ...monitor.alertRecipients.email].join(', ') || 'nobody yet'}</Fact>
      </div>
      {st.autoActivation.firesAt && (
        <MessageBar intent="warning" style={{ marginBottom: 8 }}>
          <MessageBarBody>
            <MessageBarTitle>Auto-activation pending</MessageBarTitle>
            An event for {monitor.defaultGroup?.displayName ?? monitor.defaultGroupId} starts at {when(st.autoActivation.firesAt, zone)} unless someone answers.
          </MessageBarBody>
          <Guard reason={operate}>
            <Button disabledFocusable={Boolean(operate)} disabled={busy} onClick={() => act('auto-activation/cancel')}>
              Cancel auto-activation
            </Button>
          </Guard>
        </MessageBar>
      )}
      {error && <ErrorBar error={error} title="That did not work" />}
      <div className={s.row}>
        <Field label="Suppress alerts for (hours)">
          <Input type="number" min={0.25} step={0.25} value={hours} onChange={(_, d) => setHours(d.value)} style={{ width: 120 }} />
        </Field>
        <Guard reason={operate}>
          <Button disabledFocusable={Boolean(operate)} disabled={busy} onClick={() => act('suppress', { hours: Number(hours) })}>
            Suppress alerts
          </Button>
        </Guard>
        {st.suppressedUntil && (
          <Guard reason={operate}>
            <Button disabledFocusable={Boolean(operate)} disabled={busy} onClick={() => act('resume')}>
              Resume alerts
            </Button>
          </Guard>
        )}
        <Guard reason={configure}>
          <Button disabledFocusable={Boolean(configure)} onClick={onEdit}>
            Edit configuration
          </Button>
        </Guard>
        <Button appearance="subtle" onClick={() => void onChanged()}>
          Refresh
        </Button>
      </div>
    </Card>
  );
}

interface Draft {
  name: string;
  enabled: boolean;
  inbound: boolean;
  outbound: boolean;
  probeMailbox: string;
  address: string;
  latencyThresholdSeconds: string;
  failureThreshold: string;
  windowMinutes: string;
  repeatMinutes: string;
  sms: string;
  email: string;
  defaultGroupId: string;
  defaultDurationHours: string;
  timeZone: string;
  autoActivation: boolean;
  autoAfterMinutes: string;
}

const toDraft = (m: MonitorView | null): Draft => ({
  name: m?.name ?? '',
  enabled: m?.enabled ?? true,
  inbound: m?.inbound.enabled ?? true,
  outbound: m?.outbound.enabled ?? true,
  probeMailbox: m?.probeMailbox ?? '',
  address: m?.address ?? '',
  latencyThresholdSeconds: String(m?.latencyThresholdSeconds ?? 60),
  failureThreshold: String(m?.failureThreshold ?? 3),
  windowMinutes: String(m?.windowMinutes ?? 2),
  repeatMinutes: String(m?.repeatMinutes ?? 30),
  sms: (m?.alertRecipients.sms ?? []).join('\n'),
  email: (m?.alertRecipients.email ?? []).join('\n'),
  defaultGroupId: m?.defaultGroupId ?? '',
  defaultDurationHours: String(m?.defaultDurationHours ?? 4),
  timeZone: m?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC',
  autoActivation: m?.autoActivation.enabled ?? false,
  autoAfterMinutes: String(m?.autoActivation.afterMinutes ?? 30),
});

const lines = (text: string) =>
  text
    .split(/[\n,;]+/)
    .map((x) => x.trim())
    .filter(Boolean);

function MonitorForm({
  me,
  monitor,
  onSaved,
  onCancel,
}: {
  me: Me;
  monitor: MonitorView | null;
  onSaved: (m: MonitorView) => Promise<void>;
  onCancel: () => void;
}) {
  const s = useStyles();
  const [d, setD] = useState<Draft>(() => toDraft(monitor));
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [warnings, setWarnings] = useState<FieldError[]>([]);
  const [saved, setSaved] = useState<MonitorView | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<Draft>) => setD((x) => ({ ...x, ...patch }));
  const fieldError = (...paths: string[]) =>
    errors
      .filter((e) => paths.some((p) => e.path === p || e.path.startsWith(`${p}.`)))
      .map((e) => e.message)
      .join('; ') || undefined;
  const locked = denied(me, 'fullAdministrator');

  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: MonitorInput = {
      name: d.name,
      enabled: d.enabled,
      // Per-direction thresholds are kept as they are (null: the shared ones) until the form edits them.
      inbound: {
        enabled: d.inbound,
        latencyThresholdSeconds: monitor?.inbound.latencyThresholdSeconds ?? null,
        failureThreshold: monitor?.inbound.failureThreshold ?? null,
      },
      outbound: {
        enabled: d.outbound,
        latencyThresholdSeconds: monitor?.outbound.latencyThresholdSeconds ?? null,
        failureThreshold: monitor?.outbound.failureThreshold ?? null,
      },
      probeMailbox: d.probeMailbox.trim(),
      ...(d.address.trim() ? { address: d.address.trim() } : {}),
      latencyThresholdSeconds: Number(d.latencyThresholdSeconds),
      failureThreshold: Number(d.failureThreshold),
      windowMinutes: Number(d.windowMinutes),
      repeatMinutes: Number(d.repeatMinutes),
      alertRecipients: { sms: lines(d.sms), email: lines(d.email) },
      defaultGroupId: d.defaultGroupId.trim() || null,
      defaultDurationHours: Number(d.defaultDurationHours),
      timeZone: d.timeZone,
      autoActivation: { enabled: d.autoActivation, afterMinutes: Number(d.autoAfterMinutes) },
      cloudPasswordReset: monitor?.cloudPasswordReset ?? 'inherit',
    };
    try {
      // After a save with warnings the form stays open (showing them); saving again edits the new monitor.
      const target = monitor ?? saved;
      const result = target ? await monitors.update(target.id, body) : await monitors.create(body);
      setErrors([]);
      setWarnings(result.warnings ?? []);
      if (!result.warnings?.length) await onSaved(result);
      else {
        setSaved(result);
        set({ address: result.address });
      }
    } catch (err) {
      setError(err as Error);
      setErrors((err as { fieldErrors?: FieldError[] }).fieldErrors ?? []);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card className={s.card}>
      <form onSubmit={save} aria-label="Monitor configuration" data-testid="monitor-form">
        <Subtitle2 as="h2">{monitor ? `Configure ${monitor.name}` : 'New monitor'}</Subtitle2>
        {warnings.length > 0 && (
          <MessageBar intent="warning" data-testid="monitor-warnings" style={{ margin: '8px 0' }}>
            <MessageBarBody>
              <MessageBarTitle>Saved, with a warning</MessageBarTitle>
              {warnings.map((w) => w.message).join(' ')}
            </MessageBarBody>
          </MessageBar>
        )}
        {error && <ErrorBar error={error} title="The monitor was not saved" />}
        <div className={s.grid} style={{ marginTop: 8 }}>
          <Field label="Name" required validationMessage={fieldError('name')}>
            <Input value={d.name} onChange={(_, v) => set({ name: v.value })} />
          </Field>
          <Field
            label="Probe mailbox (UPN or object id)"
            validationMessage={fieldError('probeMailbox')}
            hint="A licensed mailbox in your Graph-connected tenant"
          >
            <Input value={d.probeMailbox} onChange={(_, v) => set({ probeMailbox: v.value })} />
          </Field>
          <Field label="Monitor address" validationMessage={fieldError('address')} hint="Received by Lifeboat; empty: one is generated">
            <Input value={d.address} onChange={(_, v) => set({ address: v.value })} />
          </Field>
          <Field label="Time zone" validationMessage={fieldError('timeZone')}>
            <Input value={d.timeZone} onChange={(_, v) => set({ timeZone: v.value })} />
          </Field>
          <Field label="Window (minutes)" validationMessage={fieldError('windowMinutes')}>
            <Input type="number" value={d.windowMinutes} onChange={(_, v) => set({ windowMinutes: v.value })} />
          </Field>
          <Field label="Failure threshold (windows)" validationMessage={fieldError('failureThreshold')}>
            <Input type="number" value={d.failureThreshold} onChange={(_, v) => set({ failureThreshold: v.value })} />
          </Field>
          <Field label="Latency threshold (seconds)" validationMessage={fieldError('latencyThresholdSeconds')}>
            <Input type="number" value={d.latencyThresholdSeconds} onChange={(_, v) => set({ latencyThresholdSeconds: v.value })} />
          </Field>
          <Field label="Repeat alerts every (minutes)" validationMessage={fieldError('repeatMinutes')}>
            <Input type="number" value={d.repeatMinutes} onChange={(_, v) => set({ repeatMinutes: v.value })} />
          </Field>
          <Field label="Alert SMS numbers (one per line)" validationMessage={fieldError('alertRecipients.sms')}>
            <Textarea value={d.sms} onChange={(_, v) => set({ sms: v.value })} />
          </Field>
          <Field
            label="Alert email addresses (one per line)"
            validationMessage={fieldError('alertRecipients.email')}
            hint="Use addresses outside your own domains"
          >
            <Textarea value={d.email} onChange={(_, v) => set({ email: v.value })} />
          </Field>
          <Field label="Default affected group (id)" validationMessage={fieldError('defaultGroupId')}>
            <Input value={d.defaultGroupId} onChange={(_, v) => set({ defaultGroupId: v.value })} />
          </Field>
          <Field label="Default event duration (hours)" validationMessage={fieldError('defaultDurationHours')}>
            <Input type="number" value={d.defaultDurationHours} onChange={(_, v) => set({ defaultDurationHours: v.value })} />
          </Field>
          <Field label="Auto-activation after (minutes detected)" validationMessage={fieldError('autoActivation')}>
            <Input type="number" value={d.autoAfterMinutes} disabled={!d.autoActivation} onChange={(_, v) => set({ autoAfterMinutes: v.value })} />
          </Field>
        </div>
        <div className={s.row} style={{ marginTop: 8 }}>
          <Checkbox label="Enabled" checked={d.enabled} onChange={(_, v) => set({ enabled: Boolean(v.checked) })} />
          <Checkbox label="Outbound check" checked={d.outbound} onChange={(_, v) => set({ outbound: Boolean(v.checked) })} />
          <Checkbox label="Inbound check" checked={d.inbound} onChange={(_, v) => set({ inbound: Boolean(v.checked) })} />
          <Checkbox label="Guarded auto-activation" checked={d.autoActivation} onChange={(_, v) => set({ autoActivation: Boolean(v.checked) })} />
        </div>
        <div className={s.row} style={{ marginTop: 12 }}>
          <Guard reason={locked}>
            <Button type="submit" appearance="primary" disabledFocusable={Boolean(locked)} disabled={busy}>
              {busy ? 'Saving…' : 'Save monitor'}
            </Button>
          </Guard>
          <Button onClick={() => (saved ? void onSaved(saved) : onCancel())}>{saved ? 'Done' : 'Cancel'}</Button>
        </div>
      </form>
    </Card>
  );
}
