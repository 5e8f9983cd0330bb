/** Sign-in with the Lifeboat cloud password: it works while Entra ID is down. */
import { Button, Card, Field, Input, MessageBar, MessageBarBody, Title2, Text, makeStyles } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { AdminApiError } from './api';
import { auth } from './client';
import type { Me } from './contract';

const useStyles = makeStyles({
  wrap: { maxWidth: '400px', margin: '48px auto', padding: '0 16px' },
  form: { display: 'flex', flexDirection: 'column', rowGap: '12px' },
});

export function SignIn({ onSignedIn, notice }: { onSignedIn: (me: Me) => void; notice: string | null }) {
  const s = useStyles();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  // Asked for once the server says this account uses two-factor sign-in.
  const [code, setCode] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await auth.login(email, password, code);
      onSignedIn(await auth.me());
    } catch (err) {
      const wantsCode = err instanceof AdminApiError && err.fieldErrors.some((f) => f.path === 'code');
      if (wantsCode && code === null) setCode('');
      else setError(err instanceof AdminApiError && err.status === 401 ? (wantsCode ? 'Wrong code.' : 'Wrong email or password.') : (err as Error).message);
      setBusy(false);
    }
  }

  return (
    <main className={s.wrap}>
      <Card>
        <form className={s.form} onSubmit={submit} data-testid="admin-sign-in" aria-labelledby="signin-title">
          <Title2 as="h1" id="signin-title">
            Lifeboat admin
          </Title2>
          <Text>Sign in with your Lifeboat cloud password. It works while Microsoft 365 is down.</Text>
          {notice && (
            <MessageBar intent="info">
              <MessageBarBody>{notice}</MessageBarBody>
            </MessageBar>
          )}
          {error && (
            <MessageBar intent="error" role="alert">
              <MessageBarBody>{error}</MessageBarBody>
            </MessageBar>
          )}
          <Field label="Email" required>
            <Input type="email" autoComplete="username" value={email} onChange={(_, d) => setEmail(d.value)} />
          </Field>
          <Field label="Cloud password" required>
            <Input type="password" autoComplete="current-password" value={password} onChange={(_, d) => setPassword(d.value)} />
          </Field>
          {code !== null && (
            <Field label="Code from your authenticator app (or a recovery code)" required>
              <Input autoComplete="one-time-code" value={code} onChange={(_, d) => setCode(d.value)} />
            </Field>
          )}
          <Button appearance="primary" type="submit" disabled={busy || !email || !password}>
            {busy ? 'Signing in…' : 'Sign in'}
          </Button>
        </form>
      </Card>
    </main>
  );
}
