/** A test send on one notification channel (full administrators, once the channel is saved). */
import { Button, Field, Input, makeStyles } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { denied, type AdminApiError } from '../api';
import { notify } from '../client';
import type { Me } from '../contract';
import { Guard, Hint } from '../common';
import { Note, errorFor } from './NotifyParts';
import { short } from './SendLog';

const useStyles = makeStyles({
  card: { display: 'flex', flexDirection: 'column', rowGap: '12px' },
  actions: { display: 'flex', gap: '8px', flexWrap: 'wrap', alignItems: 'end' },
});

export function TestSend({ me, channel, configured, onSent }: { me: Me; channel: 'email' | 'sms'; configured: boolean; onSent?: () => void }) {
  const s = useStyles();
  const cannot = denied(me, 'fullAdministrator') ?? (configured ? null : 'Save the channel first.');
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [result, setResult] = useState<{ intent: 'success' | 'error'; text: string } | null>(null);
  const send = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setResult(null);
    try {
      const r = await notify.test(channel, to.trim());
      const ok = r.status === 'sent';
      const tries = `${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`;
      setResult({ intent: ok ? 'success' : 'error', text: `${ok ? 'Sent' : 'Not sent'} (${tries})${r.reply ? `: ${short(r.reply, 240)}` : '.'}` });
    } catch (err) {
      const fields = (err as AdminApiError).fieldErrors ?? [];
      const here = errorFor(fields, 'to');
      if (here) setError(here);
      else setResult({ intent: 'error', text: (err as Error).message });
    } finally {
      setBusy(false);
      onSent?.();
    }
  };
  const disabled = Boolean(cannot) || busy;
  return (
    <form noValidate onSubmit={send} aria-label={`Send a test ${channel === 'sms' ? 'SMS' : 'email'}`} className={s.card} data-testid={`${channel}-test`}>
      <div className={s.actions}>
        <Field label={channel === 'sms' ? 'Test SMS to (phone number)' : 'Test email to (address)'} validationMessage={error} style={{ flex: '1 1 220px' }}>
          <Input value={to} type={channel === 'sms' ? 'tel' : 'email'} disabled={disabled} onChange={(_, d) => setTo(d.value)} />
        </Field>
        <Guard reason={cannot}>
          <Button type="submit" disabledFocusable={disabled}>
            {busy ? 'Sending…' : 'Send test'}
          </Button>
        </Guard>
      </div>
      {!configured && <Hint>Save the channel first, then send a test.</Hint>}
      <Note message={result} testId={`${channel}-test-result`} />
    </form>
  );
}
