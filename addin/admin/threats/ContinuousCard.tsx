/**
 * Continuous protection's state on the Threat Scan page: on or off and why (on by default in Monitor and
 * Protect), the Graph permission it lacks if any, the last finished pass and the mailboxes followed, and
 * the administrator's switch (opt out, or switch on for another mode). Data through the typed client only.
 */
import { useCallback, useEffect, useState } from 'react';
import { Badge, Button, Card, CardHeader, MessageBar, MessageBarBody, MessageBarTitle, Text, makeStyles, tokens } from '@fluentui/react-components';
import { continuousProtection } from '../client';
import { ErrorBar, Guard } from '../common';
import type { ContinuousStatus } from '../contract';
import { showInstant } from '../time';

const useStyles = makeStyles({
  figures: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(160px, 1fr))', gap: '8px', margin: 0 },
  figure: { margin: 0, '& dd': { margin: 0, fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold } },
});

const CHOICE = { automatic: 'Automatic', on: 'Switched on', off: 'Switched off' } as const;

export function ContinuousCard({ denied }: { denied: string | null }) {
  const s = useStyles();
  const [state, setState] = useState<ContinuousStatus | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const load = useCallback(async () => {
    try {
      setState(await continuousProtection.get());
    } catch (err) {
      setError(err as Error);
    }
  }, []);
  useEffect(() => void load(), [load]);
  const set = async (enabled: boolean) => {
    setBusy(true);
    setError(null);
    try {
      setState(await continuousProtection.set(enabled));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  // What the switch does: off when it runs (or was switched on), on otherwise; Disabled mode is changed under Protection.
  const on = !!state && (state.choice === 'on' || (state.choice === 'automatic' && state.enabled));
  const blocked = denied ?? (state?.mode === 'disabled' && !on ? 'The tenant’s mode is Disabled: change it under Protection first.' : null);
  return (
    <Card data-testid="continuous-protection">
      <CardHeader
        header={<Text weight="semibold">Continuous protection</Text>}
        description={
          state && (
            <Badge appearance="tint" color={state.enabled ? 'success' : 'warning'} data-testid="continuous-state">
              {state.enabled ? 'On' : 'Off'}
            </Badge>
          )
        }
        action={
          state ? (
            <Guard reason={blocked}>
              <Button style={{ whiteSpace: 'nowrap' }} disabled={busy || !!blocked} onClick={() => void set(!on)}>
                {on ? 'Switch off' : 'Switch on'}
              </Button>
            </Guard>
          ) : undefined
        }
      />
      {error && <ErrorBar error={error} title="Continuous protection could not do that" />}
      {state && (
        <>
          <Text size={300} data-testid="continuous-reason">
            {state.reason}
          </Text>
          {state.missingPermission && (
            <MessageBar intent="warning" data-testid="continuous-permission">
              <MessageBarBody>
                <MessageBarTitle>Missing Graph permission: {state.missingPermission}</MessageBarTitle>
                Grant it to Lifeboat’s app with admin consent in Entra ID (App registrations → API permissions).
                {state.permissionCheckedAt ? ` Last checked ${showInstant(state.permissionCheckedAt)}.` : ''}
              </MessageBarBody>
            </MessageBar>
          )}
          <dl className={s.figures}>
            {[
              ['Choice', CHOICE[state.choice]],
              ['Mode', state.mode ?? '—'],
              ['Mailboxes watched', String(state.mailboxes)],
              ['Last pass', state.lastPassAt ? showInstant(state.lastPassAt) : '—'],
            ].map(([label, value]) => (
              <div key={label} className={s.figure}>
                <dt>{label}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
          {state.failing.length > 0 && (
            <MessageBar intent="warning">
              <MessageBarBody>
                {state.failing.length} mailbox(es) failing: {state.failing.map((f) => `${f.userId} (${f.error ?? 'unknown'})`).join('; ')}
              </MessageBarBody>
            </MessageBar>
          )}
        </>
      )}
    </Card>
  );
}
