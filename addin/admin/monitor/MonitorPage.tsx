/**
 * The continuity monitor: its configuration, its current state (counter, detected / normal,
 * suppression, a pending auto-activation), the detection log with filters and CSV, and a latency chart.
 * Times are shown in the monitor's time zone, with the zone named.
 */
import {
  Badge,
  Button,
  Card,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Subtitle2,
  Tab,
  TabList,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useState, type ReactNode } from 'react';
import { denied } from '../api';
import { monitors } from '../client';
import type { Me, MonitorView } from '../contract';
import { MonitorForm } from './MonitorForm';
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
