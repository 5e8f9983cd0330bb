/**
 * The tenant's protection mode (the default policy's): chosen from four, changed only through a
 * confirmation dialog that says what will happen; the change is the default policy's PUT (audited as
 * `mode.change` by the server).
 */
import {
  Button,
  Card,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Radio,
  RadioGroup,
  Subtitle1,
  Text,
} from '@fluentui/react-components';
import { useState } from 'react';
import { denied, type AdminApiError } from '../api';
import { protection } from '../client';
import { ErrorBar, Guard, Hint } from '../common';
import type { Me, PolicyInput, ProtectionMode, ProtectionPolicy } from '../contract';
import { MODE_LABELS, modeConsequence } from './labels';

const MODES: ProtectionMode[] = ['threatScanOnly', 'monitor', 'protect', 'disabled'];

/** The default policy as a request body: only what the admin may set on it. */
export const defaultBody = (p: ProtectionPolicy, mode: ProtectionMode): PolicyInput => ({
  name: p.name,
  mode,
  matchOn: p.matchOn,
  actions: p.actions as PolicyInput['actions'],
  scannerDown: p.scannerDown,
});

export function ModeCard({ me, mode, policy, onChanged }: { me: Me; mode: ProtectionMode; policy: ProtectionPolicy; onChanged: () => void }) {
  const [choice, setChoice] = useState<ProtectionMode>(mode);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AdminApiError | null>(null);
  const reason = denied(me, 'fullAdministrator');

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await protection.savePolicy(policy.id, defaultBody(policy, choice));
      setConfirming(false);
      onChanged();
    } catch (err) {
      setError(err as AdminApiError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card data-testid="mode-card">
      <Subtitle1 as="h2">Protection mode: {MODE_LABELS[mode]}</Subtitle1>
      <Hint>{modeConsequence(mode, policy)}</Hint>
      <RadioGroup
        aria-label="Tenant protection mode"
        value={choice}
        onChange={(_, d) => setChoice(d.value as ProtectionMode)}
        disabled={Boolean(reason)}
        layout="horizontal"
        style={{ flexWrap: 'wrap' }}
      >
        {MODES.map((m) => (
          <Radio key={m} value={m} label={MODE_LABELS[m]} />
        ))}
      </RadioGroup>
      <div>
        <Guard reason={reason}>
          <Button appearance="primary" disabled={Boolean(reason) || choice === mode} onClick={() => setConfirming(true)} data-testid="mode-change">
            Change mode…
          </Button>
        </Guard>
      </div>
      <Hint>Users targeted by another policy follow that policy’s own mode.</Hint>
      <Dialog open={confirming} onOpenChange={(_, d) => !d.open && setConfirming(false)}>
        <DialogSurface aria-describedby="mode-consequence">
          <DialogBody>
            <DialogTitle>
              Switch from {MODE_LABELS[mode]} to {MODE_LABELS[choice]}?
            </DialogTitle>
            <DialogContent>
              <Text id="mode-consequence" block data-testid="mode-consequence">
                {modeConsequence(choice, policy)}
              </Text>
              <Text block style={{ marginTop: 8 }}>
                It applies to every message received from now on, for everyone not targeted by another policy. The change is recorded in the audit trail.
              </Text>
              {error && <ErrorBar error={error} title="The mode was not changed" />}
            </DialogContent>
            <DialogActions>
              <Button appearance="primary" onClick={() => void confirm()} disabled={busy} data-testid="mode-confirm">
                {busy ? 'Switching…' : `Switch to ${MODE_LABELS[choice]}`}
              </Button>
              <Button onClick={() => setConfirming(false)}>Cancel</Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </Card>
  );
}
