/**
 * A policy's form (new or existing; the default policy has no targets or priority): name, mode,
 * priority, which sender address is matched, senders and recipients with exceptions, the action per
 * verdict and the scanner-down rule. The server's 422 is shown field by field, with a summary on top.
 */
import { Button, Field, Input, Select, Text, makeStyles } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import type { AdminApiError } from '../api';
import { protection } from '../client';
import type { FieldError, PolicyInput, ProtectionPolicy } from '../contract';
import { ErrorSummary } from '../events/ErrorSummary';
import { ACTION_LABELS, MODE_LABELS, POLICY_THREATS, VERDICT_LABELS } from './labels';
import { TargetList, type Target } from './TargetList';

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', rowGap: '12px' },
  grid: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(220px, 1fr))', gap: '12px' },
  buttons: { display: 'flex', gap: '8px', flexWrap: 'wrap' },
});

type Draft = Required<Omit<PolicyInput, 'priority' | 'scannerDown'>> & { priority: string; scannerDown: { action: 'hold' | 'tag'; holdMinutes: string } };

const EMPTY: Draft = {
  name: '',
  mode: 'protect',
  priority: '10',
  matchOn: 'both',
  senders: { include: [], exclude: [] },
  recipients: { include: [], exclude: [] },
  actions: { spam: 'tag', phishing: 'quarantine', malware: 'quarantine', spoof: 'quarantine', impersonation: 'tag' },
  scannerDown: { action: 'hold', holdMinutes: '30' },
};

const draftOf = (p: ProtectionPolicy | null): Draft =>
  p
    ? {
        name: p.name,
        mode: p.mode,
        priority: String(p.priority),
        matchOn: p.matchOn,
        senders: p.senders,
        recipients: p.recipients,
        actions: p.actions as Draft['actions'],
        scannerDown: { action: p.scannerDown.action, holdMinutes: String(p.scannerDown.holdMinutes) },
      }
    : EMPTY;

/** Numbers the admin typed go as numbers when they are; otherwise as typed, so the 422 names the field. */
const num = (v: string): number => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : (v as unknown as number));

const LABELS: Record<string, string> = {
  name: 'Name',
  mode: 'Mode',
  priority: 'Priority',
  matchOn: 'Sender address matched on',
  senders: 'Senders',
  recipients: 'Recipients',
  actions: 'Actions',
  scannerDown: 'When a scanner is down',
};

export function PolicyEditor(props: {
  policy: ProtectionPolicy | null;
  readOnly: boolean;
  groupNames: Record<string, string>;
  onGroupNamed: (id: string, name: string) => void;
  onSaved: () => void;
  onCancel: () => void;
}) {
  const s = useStyles();
  const isDefault = props.policy?.isDefault ?? false;
  const [d, setD] = useState<Draft>(() => draftOf(props.policy));
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [focusKey, setFocusKey] = useState(0);
  const [busy, setBusy] = useState(false);
  const err = (path: string) => errors.find((e) => e.path === path)?.message;
  const targets = (side: 'senders' | 'recipients', list: 'include' | 'exclude', t: Target[]) => setD({ ...d, [side]: { ...d[side], [list]: t } });

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const body: PolicyInput = {
      ...d,
      priority: isDefault ? undefined : num(d.priority),
      scannerDown: { action: d.scannerDown.action, holdMinutes: num(d.scannerDown.holdMinutes) },
      ...(isDefault ? { senders: undefined, recipients: undefined } : {}),
    } as PolicyInput;
    try {
      if (props.policy) await protection.savePolicy(props.policy.id, body);
      else await protection.createPolicy(body);
      props.onSaved();
    } catch (caught) {
      const apiError = caught as AdminApiError;
      setErrors(apiError.fieldErrors ?? []);
      setFailure(apiError.message);
      setFocusKey((k) => k + 1);
    } finally {
      setBusy(false);
    }
  };

  const ro = props.readOnly;
  return (
    <form className={s.form} onSubmit={save} aria-label={props.policy ? `Edit ${props.policy.name}` : 'New policy'} data-testid="policy-form" noValidate>
      {failure && <ErrorSummary errors={errors} labels={LABELS} title={errors.length ? 'Some fields need attention' : failure} focusKey={focusKey} />}
      <div className={s.grid}>
        <Field label="Name" required validationMessage={err('name')} data-field="name">
          <Input value={d.name} disabled={ro} onChange={(_, v) => setD({ ...d, name: v.value })} />
        </Field>
        <Field label="Mode" validationMessage={err('mode')} data-field="mode">
          <Select value={d.mode} disabled={ro || isDefault} onChange={(_, v) => setD({ ...d, mode: v.value as Draft['mode'] })}>
            {(isDefault ? (['threatScanOnly', 'monitor', 'protect', 'disabled'] as const) : (['monitor', 'protect', 'disabled'] as const)).map((m) => (
              <option key={m} value={m}>
                {MODE_LABELS[m]}
              </option>
            ))}
          </Select>
        </Field>
        {!isDefault && (
          <Field label="Priority (1 is tried first)" validationMessage={err('priority')} data-field="priority">
            <Input type="number" value={d.priority} disabled={ro} onChange={(_, v) => setD({ ...d, priority: v.value })} />
          </Field>
        )}
        <Field label="Sender address matched on" validationMessage={err('matchOn')} data-field="matchOn">
          <Select value={d.matchOn} disabled={ro} onChange={(_, v) => setD({ ...d, matchOn: v.value as Draft['matchOn'] })}>
            <option value="both">Envelope or header (either)</option>
            <option value="envelope">Envelope (MAIL FROM)</option>
            <option value="header">Header (From:)</option>
          </Select>
        </Field>
      </div>
      {isDefault ? (
        <Text size={200}>
          The default policy applies to everyone no other policy targets; its mode is the tenant’s mode (changed above, with a confirmation).
        </Text>
      ) : (
        <div className={s.grid}>
          {(['senders', 'recipients'] as const).flatMap((side) =>
            (['include', 'exclude'] as const).map((list) => (
              <TargetList
                key={`${side}.${list}`}
                label={`${list === 'include' ? '' : 'Except '}${side === 'senders' ? (list === 'include' ? 'Senders' : 'senders') : list === 'include' ? 'Recipients' : 'recipients'}`}
                path={`${side}.${list}`}
                targets={d[side][list] ?? []}
                groupNames={props.groupNames}
                errors={errors}
                disabled={ro}
                onChange={(t) => targets(side, list, t)}
                onGroupNamed={props.onGroupNamed}
              />
            )),
          )}
        </div>
      )}
      <fieldset style={{ border: 0, padding: 0, margin: 0 }} data-field="actions">
        <legend>
          <Text weight="semibold">Action per verdict (in Protect mode)</Text>
        </legend>
        <div className={s.grid}>
          {POLICY_THREATS.map((v) => (
            <Field key={v} label={VERDICT_LABELS[v]} validationMessage={err(`actions.${v}`)} data-field={`actions.${v}`}>
              <Select value={d.actions[v]} disabled={ro} onChange={(_, x) => setD({ ...d, actions: { ...d.actions, [v]: x.value } })}>
                {['deliver', 'tag', 'quarantine', ...(v === 'spoof' ? ['reject'] : [])].map((a) => (
                  <option key={a} value={a}>
                    {ACTION_LABELS[a]}
                  </option>
                ))}
              </Select>
            </Field>
          ))}
        </div>
      </fieldset>
      <div className={s.grid}>
        <Field label="When a scanner is down" validationMessage={err('scannerDown.action')} data-field="scannerDown.action">
          <Select
            value={d.scannerDown.action}
            disabled={ro}
            onChange={(_, x) => setD({ ...d, scannerDown: { ...d.scannerDown, action: x.value as 'hold' | 'tag' } })}
          >
            <option value="hold">Hold, then deliver tagged “unscanned”</option>
            <option value="tag">Deliver tagged “unscanned” at once</option>
          </Select>
        </Field>
        {d.scannerDown.action === 'hold' && (
          <Field label="Hold for up to (minutes)" validationMessage={err('scannerDown.holdMinutes')} data-field="scannerDown.holdMinutes">
            <Input
              type="number"
              value={d.scannerDown.holdMinutes}
              disabled={ro}
              onChange={(_, x) => setD({ ...d, scannerDown: { ...d.scannerDown, holdMinutes: x.value } })}
            />
          </Field>
        )}
      </div>
      <div className={s.buttons}>
        {!ro && (
          <Button type="submit" appearance="primary" disabled={busy} data-testid="policy-save">
            {busy ? 'Saving…' : props.policy ? 'Save policy' : 'Add policy'}
          </Button>
        )}
        <Button onClick={props.onCancel}>{ro ? 'Close' : 'Cancel'}</Button>
      </div>
    </form>
  );
}
