/**
 * The continuity monitor's form: what it checks and how often, the shared and per-direction
 * thresholds (empty: the shared one), alert recipients, the default event it starts (group, zone,
 * length) and its own Allow Cloud Password Reset, which overrides the events' and the tenant's.
 * The default group is picked with the event form's Look Up, the zone from the same list. Validation
 * is inline (no browser bubbles): a refused save focuses a summary linking each field, and each
 * field shows its own message, the server's 422 included.
 */
import {
  Button,
  Card,
  Checkbox,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Select,
  Subtitle2,
  Textarea,
  makeStyles,
} from '@fluentui/react-components';
import { useMemo, useState, type FormEvent } from 'react';
import { AdminApiError, denied } from '../api';
import { monitors } from '../client';
import type { CloudPasswordReset, FieldError, Me, MonitorInput, MonitorView } from '../contract';
import { ErrorBar, Guard } from '../common';
import { ErrorSummary } from '../events/ErrorSummary';
import { GroupLookup } from '../events/GroupLookup';
import { zones } from '../time';

const useStyles = makeStyles({
  // A grid item may shrink below its content's width (a long zone name, the group's Look Up row).
  grid: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(220px, 1fr))', gap: '12px', alignItems: 'start', '& > *': { minWidth: 0 } },
  card: { marginBottom: '16px', padding: '16px' },
  row: { display: 'flex', flexWrap: 'wrap', gap: '8px', alignItems: 'end' },
  pick: { display: 'flex', gap: '8px', alignItems: 'flex-start' },
  beside: { marginTop: '22px', flexShrink: 0 },
  grow: { flexGrow: 1, flexBasis: 0, minWidth: 0 },
  fill: { width: '100%', minWidth: 0 },
});

const RESET_LABELS: Record<CloudPasswordReset, string> = {
  inherit: 'As the event and tenant say',
  never: 'Never',
  email: 'By email (external address)',
  sms: 'By SMS',
};

/** A per-direction threshold: empty means "use the shared one" (null). */
const ownOrShared = (text: string): number | null => (text.trim() === '' ? null : Number(text));
const shown = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));

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
  defaultGroup: { id: string; displayName: string } | null;
  defaultDurationHours: string;
  timeZone: string;
  autoActivation: boolean;
  autoAfterMinutes: string;
  inboundLatency: string;
  inboundFailures: string;
  outboundLatency: string;
  outboundFailures: string;
  cloudPasswordReset: CloudPasswordReset;
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
  defaultGroup: m?.defaultGroupId ? { id: m.defaultGroupId, displayName: m.defaultGroup?.displayName ?? m.defaultGroupId } : null,
  defaultDurationHours: String(m?.defaultDurationHours ?? 4),
  timeZone: m?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC',
  autoActivation: m?.autoActivation.enabled ?? false,
  autoAfterMinutes: String(m?.autoActivation.afterMinutes ?? 30),
  inboundLatency: shown(m?.inbound.latencyThresholdSeconds),
  inboundFailures: shown(m?.inbound.failureThreshold),
  outboundLatency: shown(m?.outbound.latencyThresholdSeconds),
  outboundFailures: shown(m?.outbound.failureThreshold),
  cloudPasswordReset: m?.cloudPasswordReset ?? 'inherit',
});

/** The server's field path of each part of the draft: changing a field clears its stale error. */
const PATHS: Record<keyof Draft, string> = {
  name: 'name',
  enabled: 'enabled',
  inbound: 'inbound.enabled',
  outbound: 'outbound.enabled',
  probeMailbox: 'probeMailbox',
  address: 'address',
  latencyThresholdSeconds: 'latencyThresholdSeconds',
  failureThreshold: 'failureThreshold',
  windowMinutes: 'windowMinutes',
  repeatMinutes: 'repeatMinutes',
  sms: 'alertRecipients.sms',
  email: 'alertRecipients.email',
  defaultGroup: 'defaultGroupId',
  defaultDurationHours: 'defaultDurationHours',
  timeZone: 'timeZone',
  autoActivation: 'autoActivation',
  autoAfterMinutes: 'autoActivation',
  inboundLatency: 'inbound.latencyThresholdSeconds',
  inboundFailures: 'inbound.failureThreshold',
  outboundLatency: 'outbound.latencyThresholdSeconds',
  outboundFailures: 'outbound.failureThreshold',
  cloudPasswordReset: 'cloudPasswordReset',
};

/** The labels the error summary links show, by field path. */
const LABELS: Record<string, string> = {
  name: 'Name',
  probeMailbox: 'Probe mailbox',
  address: 'Monitor address',
  timeZone: 'Time zone',
  windowMinutes: 'Window',
  failureThreshold: 'Failure threshold',
  latencyThresholdSeconds: 'Latency threshold',
  'outbound.latencyThresholdSeconds': 'Outbound latency threshold',
  'inbound.latencyThresholdSeconds': 'Inbound latency threshold',
  'outbound.failureThreshold': 'Outbound failure threshold',
  'inbound.failureThreshold': 'Inbound failure threshold',
  cloudPasswordReset: 'Allow Cloud Password Reset',
  repeatMinutes: 'Repeat alerts',
  'alertRecipients.sms': 'Alert SMS numbers',
  'alertRecipients.email': 'Alert email addresses',
  defaultGroupId: 'Default affected group',
  defaultDurationHours: 'Default event duration',
  autoActivation: 'Auto-activation',
};

/** The fields that must hold a number (a direction's own thresholds may also be empty). */
const NUMBERS: (keyof Draft)[] = ['windowMinutes', 'failureThreshold', 'latencyThresholdSeconds', 'repeatMinutes', 'defaultDurationHours', 'autoAfterMinutes'];
const OPTIONAL_NUMBERS: (keyof Draft)[] = ['outboundLatency', 'inboundLatency', 'outboundFailures', 'inboundFailures'];

/** What the browser can tell before asking the server: a name, and numbers where numbers go. */
function localErrors(d: Draft): FieldError[] {
  const errors: FieldError[] = [];
  if (!d.name.trim()) errors.push({ path: 'name', message: 'is required' });
  const bad = (text: string) => text.trim() === '' || !Number.isFinite(Number(text));
  for (const key of NUMBERS)
    if ((key !== 'autoAfterMinutes' || d.autoActivation) && bad(String(d[key]))) errors.push({ path: PATHS[key], message: 'must be a number' });
  for (const key of OPTIONAL_NUMBERS)
    if (String(d[key]).trim() !== '' && bad(String(d[key]))) errors.push({ path: PATHS[key], message: 'must be a number, or empty' });
  return errors;
}

const lines = (text: string) =>
  text
    .split(/[\n,;]+/)
    .map((x) => x.trim())
    .filter(Boolean);

export function MonitorForm({
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
  const [focusKey, setFocusKey] = useState(0);
  const [lookup, setLookup] = useState(false);
  /** Changing a field clears its error: a stale message must not outlive the fix. */
  const set = (patch: Partial<Draft>) => {
    const paths = Object.keys(patch).map((k) => PATHS[k as keyof Draft]);
    setErrors((list) => list.filter((e) => !paths.some((p) => e.path === p || e.path.startsWith(`${p}.`))));
    setD((x) => ({ ...x, ...patch }));
  };
  const zoneList = useMemo(() => (zones().includes(d.timeZone) ? zones() : [d.timeZone, ...zones()]), [d.timeZone]);
  const fieldError = (...paths: string[]) =>
    errors
      .filter((e) => paths.some((p) => e.path === p || e.path.startsWith(`${p}.`)))
      .map((e) => e.message.charAt(0).toUpperCase() + e.message.slice(1))
      .join('; ') || undefined;
  /** A field's wrapper (for the summary's links) and its message. */
  const at = (path: string) => ({
    'data-field': path,
    validationMessage: fieldError(path),
    validationState: fieldError(path) ? ('error' as const) : ('none' as const),
  });
  const locked = denied(me, 'fullAdministrator');

  async function save(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const local = localErrors(d);
    if (local.length) {
      setErrors(local);
      setError(new Error('The monitor was not saved: correct these fields.'));
      setFocusKey((k) => k + 1);
      return;
    }
    setBusy(true);
    const body: MonitorInput = {
      name: d.name,
      enabled: d.enabled,
      // A direction's own thresholds; empty: the shared ones (null).
      inbound: { enabled: d.inbound, latencyThresholdSeconds: ownOrShared(d.inboundLatency), failureThreshold: ownOrShared(d.inboundFailures) },
      outbound: { enabled: d.outbound, latencyThresholdSeconds: ownOrShared(d.outboundLatency), failureThreshold: ownOrShared(d.outboundFailures) },
      probeMailbox: d.probeMailbox.trim(),
      ...(d.address.trim() ? { address: d.address.trim() } : {}),
      latencyThresholdSeconds: Number(d.latencyThresholdSeconds),
      failureThreshold: Number(d.failureThreshold),
      windowMinutes: Number(d.windowMinutes),
      repeatMinutes: Number(d.repeatMinutes),
      alertRecipients: { sms: lines(d.sms), email: lines(d.email) },
      defaultGroupId: d.defaultGroup?.id ?? null,
      defaultDurationHours: Number(d.defaultDurationHours),
      timeZone: d.timeZone,
      autoActivation: { enabled: d.autoActivation, afterMinutes: Number(d.autoAfterMinutes) },
      cloudPasswordReset: d.cloudPasswordReset,
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
      const fields = err instanceof AdminApiError ? err.fieldErrors : [];
      setError(fields.length ? new Error('The monitor was not saved: correct these fields.') : (err as Error));
      setErrors(fields);
      setFocusKey((k) => k + 1);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card className={s.card}>
      <form onSubmit={save} noValidate aria-label="Monitor configuration" data-testid="monitor-form">
        <Subtitle2 as="h2">{monitor ? `Configure ${monitor.name}` : 'New monitor'}</Subtitle2>
        {warnings.length > 0 && (
          <MessageBar intent="warning" data-testid="monitor-warnings" style={{ margin: '8px 0' }}>
            <MessageBarBody>
              <MessageBarTitle>Saved, with a warning</MessageBarTitle>
              {warnings.map((w) => w.message).join(' ')}
            </MessageBarBody>
          </MessageBar>
        )}
        {error && errors.length > 0 && <ErrorSummary errors={errors} labels={LABELS} title={error.message} focusKey={focusKey} />}
        {error && errors.length === 0 && !error.message.endsWith('correct these fields.') && <ErrorBar error={error} title="The monitor was not saved" />}
        <div className={s.grid} style={{ marginTop: 8 }}>
          <Field label="Name" required {...at('name')}>
            <Input value={d.name} onChange={(_, v) => set({ name: v.value })} />
          </Field>
          <Field label="Probe mailbox (UPN or object id)" {...at('probeMailbox')} hint="A licensed mailbox in your Graph-connected tenant">
            <Input value={d.probeMailbox} onChange={(_, v) => set({ probeMailbox: v.value })} />
          </Field>
          <Field label="Monitor address" {...at('address')} hint="Received by Lifeboat; empty: one is generated">
            <Input value={d.address} onChange={(_, v) => set({ address: v.value })} />
          </Field>
          <Field label="Time zone" {...at('timeZone')}>
            <Select value={d.timeZone} onChange={(_, v) => set({ timeZone: v.value })}>
              {zoneList.map((z) => (
                <option key={z} value={z}>
                  {z}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Window (minutes)" {...at('windowMinutes')}>
            <Input type="number" value={d.windowMinutes} onChange={(_, v) => set({ windowMinutes: v.value })} />
          </Field>
          <Field label="Failure threshold (windows)" {...at('failureThreshold')}>
            <Input type="number" value={d.failureThreshold} onChange={(_, v) => set({ failureThreshold: v.value })} />
          </Field>
          <Field label="Latency threshold (seconds)" {...at('latencyThresholdSeconds')}>
            <Input type="number" value={d.latencyThresholdSeconds} onChange={(_, v) => set({ latencyThresholdSeconds: v.value })} />
          </Field>
          {(['outbound', 'inbound'] as const).map((dir) => (
            <Field
              key={`${dir}-latency`}
              label={`${dir === 'outbound' ? 'Outbound' : 'Inbound'} latency threshold (seconds)`}
              hint="Empty: the shared latency threshold"
              {...at(`${dir}.latencyThresholdSeconds`)}
            >
              <Input type="number" value={d[`${dir}Latency`]} onChange={(_, v) => set({ [`${dir}Latency`]: v.value })} />
            </Field>
          ))}
          {(['outbound', 'inbound'] as const).map((dir) => (
            <Field
              key={`${dir}-failures`}
              label={`${dir === 'outbound' ? 'Outbound' : 'Inbound'} failure threshold (windows)`}
              hint="Empty: the shared failure threshold"
              {...at(`${dir}.failureThreshold`)}
            >
              <Input type="number" value={d[`${dir}Failures`]} onChange={(_, v) => set({ [`${dir}Failures`]: v.value })} />
            </Field>
          ))}
          <Field label="Allow Cloud Password Reset" hint="Anything but the first overrides the events' and the tenant's setting" {...at('cloudPasswordReset')}>
            <Select value={d.cloudPasswordReset} onChange={(_, v) => set({ cloudPasswordReset: v.value as CloudPasswordReset })}>
              {(Object.keys(RESET_LABELS) as CloudPasswordReset[]).map((k) => (
                <option key={k} value={k}>
                  {RESET_LABELS[k]}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Repeat alerts every (minutes)" {...at('repeatMinutes')}>
            <Input type="number" value={d.repeatMinutes} onChange={(_, v) => set({ repeatMinutes: v.value })} />
          </Field>
          <Field label="Alert SMS numbers (one per line)" {...at('alertRecipients.sms')}>
            <Textarea value={d.sms} onChange={(_, v) => set({ sms: v.value })} />
          </Field>
          <Field label="Alert email addresses (one per line)" {...at('alertRecipients.email')} hint="Use addresses outside your own domains">
            <Textarea value={d.email} onChange={(_, v) => set({ email: v.value })} />
          </Field>
          <div className={s.pick} data-field="defaultGroupId">
            <Field className={s.grow} label="Default affected group" hint="The group a started event covers" {...at('defaultGroupId')}>
              <Input className={s.fill} readOnly value={d.defaultGroup?.displayName ?? ''} placeholder="No group chosen" data-testid="monitor-default-group" />
            </Field>
            <Button className={s.beside} onClick={() => setLookup(true)} aria-label="Look Up default affected group">
              Look Up
            </Button>
            {d.defaultGroup && (
              <Button className={s.beside} appearance="subtle" onClick={() => set({ defaultGroup: null })} aria-label="Clear default affected group">
                Clear
              </Button>
            )}
          </div>
          <Field label="Default event duration (hours)" {...at('defaultDurationHours')}>
            <Input type="number" value={d.defaultDurationHours} onChange={(_, v) => set({ defaultDurationHours: v.value })} />
          </Field>
          <Field label="Auto-activation after (minutes detected)" {...at('autoActivation')}>
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
      <GroupLookup
        title="Look up the default affected group"
        open={lookup}
        onClose={() => setLookup(false)}
        onPick={(g) => {
          set({ defaultGroup: { id: g.id, displayName: g.displayName } });
          setLookup(false);
        }}
      />
    </Card>
  );
}
