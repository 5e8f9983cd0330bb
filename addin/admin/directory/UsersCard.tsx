/** Directory users and their Lifeboat cloud password (set or reset; the server never shows it). */
import {
  Badge,
  Button,
  Card,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Subtitle2,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useCallback, useState, type FormEvent } from 'react';
import { AdminApiError, denied } from '../api';
import { directory, notify } from '../client';
import type { Me, SmsConsent, User } from '../contract';
import { Empty, Guard, Hint, Show, useLoad } from '../common';
import { ContinuityInboxLink } from '../InboxLink';
import { showInstant } from '../time';

const SOURCES: Record<string, string> = { user: 'by the user', admin: 'by an admin', sms: 'by SMS reply' };

function ConsentBadge({ consent }: { consent: SmsConsent | undefined }) {
  if (!consent) return null;
  const when = consent.at ? ` ${SOURCES[consent.source ?? ''] ?? ''}, ${showInstant(consent.at)}` : '';
  if (!consent.phone)
    return (
      <Badge appearance="tint" color="warning" data-testid="sms-consent" data-state="no-phone">
        SMS: no mobile number
      </Badge>
    );
  return consent.optedIn ? (
    <Badge appearance="tint" color="success" data-testid="sms-consent" data-state="opted-in" title={`Opted in${when}`}>
      SMS: opted in ({consent.phone})
    </Badge>
  ) : (
    <Badge appearance="tint" color="informative" data-testid="sms-consent" data-state="opted-out" title={consent.at ? `Opted out${when}` : 'Never opted in'}>
      SMS: {consent.at ? 'opted out' : 'not opted in'}
    </Badge>
  );
}

const useStyles = makeStyles({
  card: { display: 'flex', flexDirection: 'column', rowGap: '8px' },
  list: { listStyle: 'none', margin: 0, padding: 0 },
  item: {
    display: 'flex',
    justifyContent: 'space-between',
    alignItems: 'center',
    gap: '8px',
    padding: '6px 0',
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  meta: { color: tokens.colorNeutralForeground3, display: 'block', overflowWrap: 'anywhere' },
});

export function UsersCard({ me, refreshKey }: { me: Me; refreshKey?: unknown }) {
  const c = useStyles();
  const cannot = denied(me, 'basicAdministrator');
  const [search, setSearch] = useState('');
  const [users] = useLoad(
    useCallback(() => directory.users(search, { include: 'cloudPassword' }), [search]),
    refreshKey,
  );
  // Consent is extra information: the list still shows when it cannot be loaded.
  const [consents] = useLoad(useCallback(() => notify.consents(search).catch(() => [] as SmsConsent[]), [search]));
  const consentOf = (id: string) => (consents.state === 'ready' ? consents.data.find((c) => c.userId === id) : undefined);
  const [target, setTarget] = useState<User | null>(null);
  const [done, setDone] = useState<string | null>(null);

  return (
    <Card className={c.card}>
      <Subtitle2 as="h2">Users</Subtitle2>
      <Hint>
        Users sign in to the Outlook add-in with a Lifeboat cloud password when Entra ID is down. They receive event SMS only after opting in (in the Outlook
        pane, through an admin, or by replying START); a STOP reply opts them out.
      </Hint>
      <ContinuityInboxLink />
      <Field label="Search users by name or address">
        <Input value={search} onChange={(_, d) => setSearch(d.value)} />
      </Field>
      {done && (
        <MessageBar intent="success">
          <MessageBarBody>{done}</MessageBarBody>
        </MessageBar>
      )}
      <Show value={users} label="Loading users…">
        {(list) =>
          list.length === 0 ? (
            <Empty>No user matches.</Empty>
          ) : (
            <ul className={c.list} aria-label="Users">
              {list.slice(0, 50).map((u) => (
                <li key={u.id} className={c.item}>
                  <div>
                    <Text weight="semibold">{u.displayName}</Text>
                    <Text size={200} className={c.meta}>
                      {u.mail ?? u.id}
                    </Text>
                    <Text size={200} className={c.meta} data-testid="cloud-password-state">
                      {u.cloudPasswordSetAt ? `Cloud password set ${showInstant(u.cloudPasswordSetAt)}` : 'No cloud password'}
                    </Text>
                    <ConsentBadge consent={consentOf(u.id)} />
                  </div>
                  <Guard reason={cannot}>
                    <Button
                      size="small"
                      disabledFocusable={Boolean(cannot)}
                      onClick={() => setTarget(u)}
                      aria-label={`Set cloud password for ${u.displayName}`}
                    >
                      Set cloud password
                    </Button>
                  </Guard>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
      {target && (
        <PasswordDialog
          user={target}
          onClose={(message) => {
            setTarget(null);
            if (message) setDone(message);
          }}
        />
      )}
    </Card>
  );
}

/** A strong password made in the browser (20 characters of base64url: 120 random bits), for the admin to hand out. */
function generatePassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(15));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

function PasswordDialog({ user, onClose }: { user: User; onClose: (message: string | null) => void }) {
  const [password, setPassword] = useState('');
  const [shown, setShown] = useState(false);
  const [copied, setCopied] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await directory.setCloudPassword(user.id, password);
      onClose(`${user.displayName}'s cloud password is set. Tell them through a channel that works during an outage.`);
    } catch (err) {
      const apiErr = err as AdminApiError;
      setError(apiErr.fieldErrors.map((x) => x.message).join('; ') || apiErr.message);
      setBusy(false);
    }
  }

  function generate() {
    setPassword(generatePassword());
    // A generated password is shown, so it can be read out or copied.
    setShown(true);
    setCopied(null);
    setError(null);
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText(password);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser did not allow copying: select the password and copy it yourself.');
    }
  }

  return (
    <Dialog open onOpenChange={(_, d) => !d.open && onClose(null)}>
      <DialogSurface>
        <form onSubmit={submit}>
          <DialogBody>
            <DialogTitle>Cloud password for {user.displayName}</DialogTitle>
            <DialogContent>
              <Field
                label="New cloud password"
                required
                validationMessage={error ?? undefined}
                hint="At least 12 characters, not repetitive. It replaces any previous one."
              >
                <Input
                  type={shown ? 'text' : 'password'}
                  autoComplete="new-password"
                  value={password}
                  onChange={(_, d) => {
                    setPassword(d.value);
                    setCopied(null);
                  }}
                  data-testid="cloud-password-input"
                />
              </Field>
              <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, marginTop: 8, alignItems: 'center' }}>
                <Button onClick={generate}>Generate a password</Button>
                <Button onClick={() => void copy()} disabled={!password}>
                  Copy
                </Button>
                <Button appearance="subtle" onClick={() => setShown(!shown)} disabled={!password}>
                  {shown ? 'Hide' : 'Show'}
                </Button>
              </div>
              <Text size={200} role="status" data-testid="copy-status" style={{ display: 'block', minHeight: 20 }}>
                {copied ?? ''}
              </Text>
            </DialogContent>
            <DialogActions>
              <Button appearance="primary" type="submit" disabled={busy || !password}>
                Set password
              </Button>
              <Button onClick={() => onClose(null)}>Cancel</Button>
            </DialogActions>
          </DialogBody>
        </form>
      </DialogSurface>
    </Dialog>
  );
}
