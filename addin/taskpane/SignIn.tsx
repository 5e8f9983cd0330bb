import { Button, Card, Field, Input, Link, MessageBar, MessageBarBody, Spinner, Text, Title3, makeStyles } from '@fluentui/react-components';
import { ForgotPassword, type ResetActions } from './ForgotPassword';
import { useState, type FormEvent } from 'react';

const useStyles = makeStyles({
  card: { rowGap: '10px' },
  form: { display: 'flex', flexDirection: 'column', rowGap: '10px' },
  title: { margin: 0 },
});

export interface SignInProps {
  defaultEmail: string;
  /** Sign in with Microsoft through Outlook (NAA), when available. */
  onMicrosoft: (() => Promise<void>) | null;
  onPassword: (email: string, password: string) => Promise<void>;
  notice: string | null;
  /** Self-service reset of the Lifeboat password (code by email or SMS). */
  reset?: ResetActions;
  /** Told each time the email address changes (the web inbox asks whether Microsoft sign-in is offered for it). */
  onEmailChange?: (email: string) => void;
  /** Why Microsoft sign-in is not offered, when that is known (shown instead of the default line). */
  microsoftNote?: string | null;
}

/** Sign-in: Microsoft (through Outlook) first; the Lifeboat cloud password works when Microsoft sign-in is down. */
export function SignIn({ defaultEmail, onMicrosoft, onPassword, notice, reset, onEmailChange, microsoftNote }: SignInProps) {
  const styles = useStyles();
  const [email, setEmail] = useState(defaultEmail);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [forgot, setForgot] = useState(false);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError((err as Error).message || 'Sign-in failed.');
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!email.trim() || !password) {
      setError('Enter your email address and your Lifeboat password.');
      return;
    }
    void run(() => onPassword(email.trim(), password));
  };

  if (forgot && reset) {
    return <ForgotPassword defaultEmail={email} actions={reset} onBack={() => setForgot(false)} />;
  }

  return (
    <Card className={styles.card} data-testid="sign-in">
      <Title3 as="h2" className={styles.title}>
        Sign in
      </Title3>
      {notice ? (
        <MessageBar intent="warning">
          <MessageBarBody>{notice}</MessageBarBody>
        </MessageBar>
      ) : null}
      {onMicrosoft ? (
        <>
          <Button appearance="primary" disabled={busy} onClick={() => void run(onMicrosoft)} data-testid="sign-in-microsoft">
            Sign in with Microsoft
          </Button>
          <Text size={200}>If Microsoft sign-in is down, use your Lifeboat password:</Text>
        </>
      ) : (
        <Text size={200} data-testid="sign-in-note">
          {microsoftNote ?? 'Use the Lifeboat password your administrator gave you.'}
        </Text>
      )}
      <form className={styles.form} onSubmit={submit} data-testid="sign-in-form" noValidate>
        <Field label="Email">
          <Input
            type="email"
            autoComplete="username"
            value={email}
            onChange={(_e, d) => {
              setEmail(d.value);
              onEmailChange?.(d.value);
            }}
            name="email"
          />
        </Field>
        <Field label="Lifeboat password">
          <Input type="password" autoComplete="current-password" value={password} onChange={(_e, d) => setPassword(d.value)} name="password" />
        </Field>
        <Button type="submit" appearance={onMicrosoft ? 'secondary' : 'primary'} disabled={busy}>
          {busy ? <Spinner size="tiny" label="Signing in…" /> : 'Sign in with password'}
        </Button>
      </form>
      {reset ? (
        <Link as="button" onClick={() => setForgot(true)} data-testid="forgot-password">
          Forgot password?
        </Link>
      ) : null}
      {error ? (
        <MessageBar intent="error" data-testid="sign-in-error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      ) : null}
    </Card>
  );
}
