/**
 * "Forgot password?": ask for the email address, say a code was sent if the account can reset (the
 * same words whatever the server knows), then take the code and a new password and sign in.
 */
import { Button, Card, Field, Input, Link, MessageBar, MessageBarBody, Spinner, Text, Title3, makeStyles } from '@fluentui/react-components';
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../lib/api';

export interface ResetActions {
  request(email: string): Promise<void>;
  /** Sets the new password with the code, then signs in with it. */
  confirm(email: string, code: string, password: string): Promise<void>;
  /** For a signed-in administrator only: why no code is sent (self-service reset off), or null. */
  adminHint?(): Promise<string | null>;
}

const useStyles = makeStyles({
  card: { rowGap: '10px' },
  form: { display: 'flex', flexDirection: 'column', rowGap: '10px' },
  title: { margin: 0 },
});

type FieldErrors = { email?: string; code?: string; password?: string };

/** The 422/400 field errors by field; the rest as one sentence. */
function explain(err: unknown): { fields: FieldErrors; message: string | null } {
  const fields: FieldErrors = {};
  if (err instanceof ApiError) {
    const list = Array.isArray(err.problem?.errors) ? (err.problem!.errors as { path?: string; message?: string }[]) : [];
    for (const e of list) {
      const key = e.path as keyof FieldErrors;
      if (key === 'email' || key === 'code' || key === 'password') fields[key] = [fields[key], e.message].filter(Boolean).join('; ');
    }
    if (err.status === 400 && fields.code) return { fields: { code: 'This code is wrong or has expired. Check it, or ask for a new one.' }, message: null };
    if (err.status === 429) return { fields, message: err.message || 'Too many attempts. Try again later.' };
    if (Object.keys(fields).length) return { fields, message: null };
    return { fields, message: err.message };
  }
  return { fields, message: (err as Error).message || 'Something went wrong.' };
}

export function ForgotPassword({ defaultEmail, actions, onBack }: { defaultEmail: string; actions: ResetActions; onBack: () => void }) {
  const styles = useStyles();
  const [step, setStep] = useState<'ask' | 'code'>('ask');
  const [email, setEmail] = useState(defaultEmail);
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [adminHint, setAdminHint] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    void actions.adminHint?.().then((hint) => live && setAdminHint(hint));
    return () => {
      live = false;
    };
  }, [actions]);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setFields({});
    setError(null);
    try {
      await action();
    } catch (err) {
      const e = explain(err);
      setFields(e.fields);
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };

  const ask = (e: FormEvent) => {
    e.preventDefault();
    if (!email.trim()) return setFields({ email: 'Enter your email address.' });
    void run(async () => {
      await actions.request(email.trim());
      setStep('code');
    });
  };

  const confirm = (e: FormEvent) => {
    e.preventDefault();
    const missing: FieldErrors = {};
    if (!code.trim()) missing.code = 'Enter the code you received.';
    if (!password) missing.password = 'Choose a new password.';
    if (Object.keys(missing).length) return setFields(missing);
    void run(() => actions.confirm(email.trim(), code.trim(), password));
  };

  return (
    <Card className={styles.card} data-testid="reset" data-step={step}>
      <Title3 as="h2" className={styles.title}>
        Reset your Lifeboat password
      </Title3>
      {adminHint && (
        <MessageBar intent="warning" layout="multiline" data-testid="reset-admin-hint">
          <MessageBarBody>{adminHint}</MessageBarBody>
        </MessageBar>
      )}
      {step === 'ask' ? (
        <form className={styles.form} onSubmit={ask} noValidate data-testid="reset-ask">
          <Text size={200}>
            Enter your work email address. If your organisation allows it, Lifeboat sends you a code by email (to your other address) or by SMS.
          </Text>
          <Field label="Email" validationMessage={fields.email}>
            <Input type="email" autoComplete="username" value={email} onChange={(_e, d) => setEmail(d.value)} />
          </Field>
          <Button type="submit" appearance="primary" disabled={busy}>
            {busy ? <Spinner size="tiny" label="Sending…" /> : 'Send me a code'}
          </Button>
        </form>
      ) : (
        <form className={styles.form} onSubmit={confirm} noValidate data-testid="reset-confirm">
          <MessageBar intent="info" data-testid="reset-sent">
            <MessageBarBody>
              If the account {email.trim()} can reset its password, a code was sent to its alternate email address or phone. It is valid for 15 minutes.
            </MessageBarBody>
          </MessageBar>
          <Field label="Code" validationMessage={fields.code}>
            <Input inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(_e, d) => setCode(d.value)} />
          </Field>
          <Field label="New Lifeboat password" validationMessage={fields.password}>
            <Input type="password" autoComplete="new-password" value={password} onChange={(_e, d) => setPassword(d.value)} />
          </Field>
          <Button type="submit" appearance="primary" disabled={busy}>
            {busy ? <Spinner size="tiny" label="Setting your password…" /> : 'Set password and sign in'}
          </Button>
          <Link as="button" onClick={() => void run(() => actions.request(email.trim()))} disabled={busy} data-testid="reset-again">
            Send a new code
          </Link>
        </form>
      )}
      {error ? (
        <MessageBar intent="error" data-testid="reset-error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      ) : null}
      <Link as="button" onClick={onBack} data-testid="reset-back">
        Back to sign-in
      </Link>
    </Card>
  );
}
