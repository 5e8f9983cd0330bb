/** The Entra ID connection: shown to everyone, changed by full administrators; the secret is write-only. */
import { Button, Card, Field, Input, MessageBar, MessageBarBody, Subtitle2, Text, makeStyles } from '@fluentui/react-components';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { AdminApiError, denied } from '../api';
import { directory } from '../client';
import type { ConnectionInput, ConnectionView, FieldError, Me } from '../contract';
import { ErrorBar, Guard, Hint, Loading } from '../common';
import { showInstant } from '../time';

const useStyles = makeStyles({
  card: { display: 'flex', flexDirection: 'column', rowGap: '12px' },
  grid: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(220px, 1fr))', gap: '12px', alignItems: 'start' },
  actions: { display: 'flex', gap: '8px', flexWrap: 'wrap' },
});

export function ConnectionCard({ me, onChanged }: { me: Me; onChanged: (connected: boolean) => void }) {
  const c = useStyles();
  const cannot = denied(me, 'fullAdministrator');
  const [view, setView] = useState<ConnectionView | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [form, setForm] = useState({ entraTenantId: '', clientId: '', clientSecret: '', syncIntervalMinutes: '15' });
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [message, setMessage] = useState<{ intent: 'success' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const v = await directory.connection();
      setView(v);
      setForm({ entraTenantId: v.entraTenantId, clientId: v.clientId, clientSecret: '', syncIntervalMinutes: String(v.syncIntervalMinutes) });
      onChanged(true);
    } catch (err) {
      if ((err as AdminApiError).status === 404) {
        setView(null);
        onChanged(false);
      } else setLoadError(err as Error);
    }
  }, [onChanged]);
  // On mount (onChanged is the page's state setter, stable); save() and disconnect() reload.
  useEffect(() => {
    void load();
  }, [load]);

  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors([]);
    setMessage(null);
    const body: ConnectionInput = {
      entraTenantId: form.entraTenantId.trim(),
      clientId: form.clientId.trim(),
      syncIntervalMinutes: Number(form.syncIntervalMinutes),
    };
    // Without a new secret the stored credential is kept.
    if (form.clientSecret) body.clientSecret = form.clientSecret;
    try {
      await directory.connect(body);
      setMessage({ intent: 'success', text: 'Connection saved. The directory now comes from Entra ID.' });
      await load();
    } catch (err) {
      setErrors((err as AdminApiError).fieldErrors);
      setMessage({ intent: 'error', text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  }

  async function disconnect() {
    setBusy(true);
    try {
      await directory.disconnect();
      setMessage({ intent: 'success', text: 'Disconnected: the directory comes from the directory file again.' });
      setForm({ entraTenantId: '', clientId: '', clientSecret: '', syncIntervalMinutes: '15' });
      await load();
    } catch (err) {
      setMessage({ intent: 'error', text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  }

  const err = (path: string) =>
    errors
      .filter((x) => x.path === path || x.path.startsWith(`${path}.`))
      .map((x) => x.message)
      .join('; ') || undefined;
  if (loadError) return <ErrorBar error={loadError} title="Could not load the Entra connection" />;
  if (view === undefined) return <Loading label="Loading the Entra connection…" />;
  const disabled = Boolean(cannot) || busy;

  return (
    <Card className={c.card}>
      <Subtitle2 as="h2">Entra ID connection</Subtitle2>
      <Text data-testid="connection-state">
        {view
          ? `Connected to ${view.entraTenantId} with app ${view.clientId} (${view.credentialType === 'certificate' ? 'certificate' : 'client secret'}), syncing every ${view.syncIntervalMinutes} min; changed ${showInstant(view.updatedAt)}.`
          : 'Not connected: the directory comes from the directory file on the server.'}
      </Text>
      {message && (
        <MessageBar intent={message.intent} role={message.intent === 'error' ? 'alert' : 'status'}>
          <MessageBarBody>{message.text}</MessageBarBody>
        </MessageBar>
      )}
      {cannot && <Hint>{cannot}</Hint>}
      <form onSubmit={save} className={c.card} aria-label="Entra ID connection">
        <div className={c.grid}>
          <Field label="Entra tenant id or domain" required validationMessage={err('entraTenantId')}>
            <Input value={form.entraTenantId} disabled={disabled} onChange={(_, d) => setForm({ ...form, entraTenantId: d.value })} />
          </Field>
          <Field label="Application (client) id" required validationMessage={err('clientId')}>
            <Input value={form.clientId} disabled={disabled} onChange={(_, d) => setForm({ ...form, clientId: d.value })} />
          </Field>
          <Field
            label="Client secret"
            validationMessage={err('clientSecret')}
            hint={view ? 'Write-only: leave empty to keep the stored secret.' : 'Write-only: it is stored encrypted and never shown again.'}
          >
            <Input
              type="password"
              autoComplete="new-password"
              value={form.clientSecret}
              disabled={disabled}
              onChange={(_, d) => setForm({ ...form, clientSecret: d.value })}
            />
          </Field>
          <Field label="Sync interval (minutes)" validationMessage={err('syncIntervalMinutes')}>
            <Input
              type="number"
              min={1}
              max={1440}
              value={form.syncIntervalMinutes}
              disabled={disabled}
              onChange={(_, d) => setForm({ ...form, syncIntervalMinutes: d.value })}
            />
          </Field>
        </div>
        <div className={c.actions}>
          <Guard reason={cannot}>
            <Button appearance="primary" type="submit" disabledFocusable={disabled}>
              {view ? 'Save connection' : 'Connect'}
            </Button>
          </Guard>
          {view && (
            <Guard reason={cannot}>
              <Button disabledFocusable={disabled} onClick={disconnect}>
                Disconnect
              </Button>
            </Guard>
          )}
        </div>
      </form>
    </Card>
  );
}
