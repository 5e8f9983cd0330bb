/**
 * Administrators of the organisation (add, change role, reset password, remove; full administrators
 * only) and two-factor sign-in: one's own set-up with recovery codes, and the organisation's requirement.
 */
import { Button, Card, Field, Input, MessageBar, MessageBarBody, Select, Subtitle2, Switch, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { ROLE_LABELS, type Role } from '../../../server/shared/constants';
import { AdminApiError, api, denied } from '../api';
import type { Me } from '../contract';
import { Guard, Hint, Show, useLoad } from '../common';

interface AdminView {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  twoFactor: boolean;
}
interface TwoFactorState {
  enabled: boolean;
  required: boolean;
  recoveryCodesLeft: number;
}

const useStyles = makeStyles({
  card: { display: 'flex', flexDirection: 'column', rowGap: '8px' },
  row: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: '8px', padding: '6px 0', borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
  grow: { flexGrow: 1, minWidth: '200px' },
  codes: { fontFamily: tokens.fontFamilyMonospace, whiteSpace: 'pre-wrap' },
});

const messageOf = (err: unknown) => {
  const e = err as AdminApiError;
  return e.fieldErrors?.length ? e.fieldErrors.map((f) => `${f.path} ${f.message}`).join('; ') : e.message;
};

// Module-level loaders: useLoad reloads whenever its loader or key changes, so an inline arrow (or a
// fresh [] key) made every render load again, without end ("Maximum update depth exceeded").
const loadAdmins = () => api<AdminView[]>('GET', '/api/admins');
const loadTwoFactor = () => api<TwoFactorState>('GET', '/api/auth/two-factor');

export function AdminsCard({ me }: { me: Me }) {
  const c = useStyles();
  const cannot = denied(me, 'fullAdministrator');
  const [admins, reload] = useLoad(loadAdmins);
  const [message, setMessage] = useState<{ intent: 'success' | 'error'; text: string } | null>(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('basicAdministrator');

  async function run(action: () => Promise<unknown>, done: string) {
    setMessage(null);
    try {
      await action();
      setMessage({ intent: 'success', text: done });
      await reload();
    } catch (err) {
      setMessage({ intent: 'error', text: messageOf(err) });
    }
  }

  async function add(e: FormEvent) {
    e.preventDefault();
    await run(() => api('POST', '/api/admins', { email, password, role }), `${email} is an administrator now.`);
  }

  return (
    <Card className={c.card} data-testid="admins-card">
      <Subtitle2 as="h2">Administrators</Subtitle2>
      <Hint>Keep at least two full administrators, so one can step in when the other is away or has lost their device.</Hint>
      {message && (
        <MessageBar intent={message.intent} role={message.intent === 'error' ? 'alert' : undefined}>
          <MessageBarBody>{message.text}</MessageBarBody>
        </MessageBar>
      )}
      <Show value={admins} label="Loading administrators…">
        {(list) => (
          <ul aria-label="Administrators" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
            {list.map((a) => (
              <li key={a.id} className={c.row}>
                <Text className={c.grow}>
                  {a.email} {a.twoFactor ? '· two-factor on' : ''}
                </Text>
                <Guard reason={cannot}>
                  <Select
                    aria-label={`Role of ${a.email}`}
                    value={a.role}
                    disabled={Boolean(cannot)}
                    onChange={(_, d) =>
                      void run(
                        () => api('PATCH', `/api/admins/${a.id}`, { role: d.value }),
                        `${a.email} is now a ${ROLE_LABELS[d.value as Role].toLowerCase()}.`,
                      )
                    }
                  >
                    {Object.entries(ROLE_LABELS).map(([value, label]) => (
                      <option key={value} value={value}>
                        {label}
                      </option>
                    ))}
                  </Select>
                </Guard>
                <Guard reason={cannot}>
                  <Button
                    size="small"
                    disabledFocusable={Boolean(cannot)}
                    onClick={() => void run(() => api('POST', `/api/admins/${a.id}/unlock`), `${a.email} may sign in again.`)}
                  >
                    Unlock
                  </Button>
                </Guard>
                {a.twoFactor && (
                  <Guard reason={cannot}>
                    <Button
                      size="small"
                      disabledFocusable={Boolean(cannot)}
                      onClick={() => void run(() => api('POST', `/api/admins/${a.id}/two-factor/reset`), `${a.email} sets up two-factor sign-in again.`)}
                    >
                      Reset two-factor
                    </Button>
                  </Guard>
                )}
                <Guard reason={cannot}>
                  <Button
                    size="small"
                    disabledFocusable={Boolean(cannot)}
                    onClick={() => void run(() => api('DELETE', `/api/admins/${a.id}`), `${a.email} was removed.`)}
                  >
                    Remove
                  </Button>
                </Guard>
              </li>
            ))}
          </ul>
        )}
      </Show>
      <form onSubmit={add} className={c.row} aria-label="Add an administrator">
        <Field label="Email" className={c.grow}>
          <Input type="email" value={email} onChange={(_, d) => setEmail(d.value)} disabled={Boolean(cannot)} />
        </Field>
        <Field label="Initial password" hint="At least 12 characters; also used to reset a forgotten one." className={c.grow}>
          <Input type="password" autoComplete="new-password" value={password} onChange={(_, d) => setPassword(d.value)} disabled={Boolean(cannot)} />
        </Field>
        <Field label="Role">
          <Select value={role} onChange={(_, d) => setRole(d.value as Role)} disabled={Boolean(cannot)}>
            {Object.entries(ROLE_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </Select>
        </Field>
        <Button type="submit" appearance="primary" disabled={Boolean(cannot) || !email || !password}>
          Add administrator
        </Button>
        <Show value={admins} label="Loading administrators…">
          {(list) => (
            <Select
              aria-label="Reset the password of"
              disabled={Boolean(cannot) || !password}
              value=""
              onChange={(_, d) =>
                void run(
                  () => api('PUT', `/api/admins/${d.value}/password`, { password }),
                  `The password of ${list.find((a) => a.id === d.value)?.email} is reset.`,
                )
              }
            >
              <option value="">Reset the password of…</option>
              {list.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.email}
                </option>
              ))}
            </Select>
          )}
        </Show>
      </form>
      <TwoFactorSection me={me} />
    </Card>
  );
}

function TwoFactorSection({ me }: { me: Me }) {
  const c = useStyles();
  const [state, reload] = useLoad(loadTwoFactor);
  const [setup, setSetup] = useState<{ secret: string; uri: string } | null>(null);
  const [code, setCode] = useState('');
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function confirm(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      setRecovery((await api<{ recoveryCodes: string[] }>('POST', '/api/auth/two-factor/enable', { code })).recoveryCodes);
      setSetup(null);
      await reload();
    } catch (err) {
      setError(messageOf(err));
    }
  }

  return (
    <Show value={state} label="Loading two-factor sign-in…">
      {(tf) => (
        <div className={c.card} data-testid="two-factor">
          <Subtitle2 as="h3">Two-factor sign-in</Subtitle2>
          <Text>{tf.enabled ? `On for your account (${tf.recoveryCodesLeft} recovery codes left).` : 'Off for your account.'}</Text>
          {!tf.enabled && !setup && (
            <Button onClick={() => void api<{ secret: string; uri: string }>('POST', '/api/auth/two-factor/setup').then(setSetup)}>Set up</Button>
          )}
          {setup && (
            <form onSubmit={confirm} className={c.card}>
              <Text>
                Add this key to your authenticator app: <span className={c.codes}>{setup.secret}</span>
              </Text>
              <Field label="Code from the app" validationMessage={error ?? undefined}>
                <Input inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(_, d) => setCode(d.value)} />
              </Field>
              <Button type="submit" appearance="primary" disabled={!code}>
                Turn on
              </Button>
            </form>
          )}
          {recovery && (
            <MessageBar intent="warning">
              <MessageBarBody>
                Keep these recovery codes somewhere safe; each works once, they are not shown again:
                <div className={c.codes} data-testid="recovery-codes">
                  {recovery.join('\n')}
                </div>
              </MessageBarBody>
            </MessageBar>
          )}
          <Guard reason={denied(me, 'fullAdministrator')}>
            <Switch
              label="Require two-factor sign-in for every administrator"
              checked={tf.required}
              disabled={Boolean(denied(me, 'fullAdministrator'))}
              onChange={(_, d) =>
                void api('PUT', '/api/auth/two-factor/policy', { required: d.checked })
                  .then(reload)
                  .catch((err) => setError(messageOf(err)))
              }
            />
          </Guard>
        </div>
      )}
    </Show>
  );
}
