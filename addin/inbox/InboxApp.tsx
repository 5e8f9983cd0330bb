/**
 * The web continuity inbox (`/`): sign-in with the Lifeboat cloud password or, when the user's
 * organisation has an Entra connection and Entra answers, with Microsoft (./microsoft-sign-in.ts); the continuity status
 * (live over Socket.IO, REST when the socket is down) and the continuity mailbox, built from the
 * pane's own components. Phone first: one column, full width up to a comfortable reading width.
 */
import { adminResetHint } from '../lib/reset-hint';
import {
  Button,
  Link,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
  Title3,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, createApi } from '../lib/api';
import { formatFull } from '../lib/compose';
import { clearPasswordSession, loadPasswordSession, savePasswordSession, type Session } from '../lib/auth';
import { connectStatusSocket, type ConnectionState } from '../lib/socket';
import { isNewer, type ContinuityStatus } from '../lib/status';
import { ConnectionIndicator } from '../taskpane/ConnectionIndicator';
import { MailPane } from '../taskpane/mail/MailPane';
import { SignIn } from '../taskpane/SignIn';
import { StatusHeader } from '../taskpane/StatusHeader';
import { clearOfflineCopy, withOfflineCopy } from './offline';
import { SentItemsNotice } from './SentItemsNotice';
import { backFromMicrosoft, takeOverMicrosoftSignIn, useMicrosoftSignIn } from './microsoft-sign-in';

const useStyles = makeStyles({
  main: { display: 'flex', flexDirection: 'column', rowGap: '12px', padding: '12px', maxWidth: '760px', margin: '0 auto', boxSizing: 'border-box' },
  top: { display: 'flex', alignItems: 'center', justifyContent: 'space-between', columnGap: '8px', flexWrap: 'wrap' },
  brand: { display: 'flex', alignItems: 'center', columnGap: '8px' },
  title: { margin: 0 },
  links: { display: 'flex', columnGap: '12px', alignItems: 'center' },
  who: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  center: { padding: '24px 0' },
});

const POLL_WHILE_DISCONNECTED_MS = 30_000;
const EXPIRED = 'Your sign-in has expired. Please sign in again.';
const NOT_TAKEN_OVER = 'Your Microsoft sign-in could not be completed in this browser (it took too long, or it was already used). Please sign in again.';

type Phase = { kind: 'signedOut'; notice: string | null } | { kind: 'signedIn'; session: Extract<Session, { method: 'password' }> };

export function InboxApp({ baseUrl }: { baseUrl: string }) {
  const styles = useStyles();
  const [phase, setPhase] = useState<Phase>(() => {
    const stored = loadPasswordSession();
    return stored?.method === 'password' ? { kind: 'signedIn', session: stored } : { kind: 'signedOut', notice: null };
  });
  const [status, setStatus] = useState<ContinuityStatus | null>(null);
  const [statusError, setStatusError] = useState<ApiError | null>(null);
  const [connection, setConnection] = useState<ConnectionState>({ kind: 'connecting' });
  const [lastUpdate, setLastUpdate] = useState<number | null>(null);
  const [offlineSince, setOfflineSince] = useState<string | null>(null);
  const statusRef = useRef<ContinuityStatus | null>(null);

  const getToken = useCallback(async () => {
    const s = loadPasswordSession();
    return s?.method === 'password' ? s.token : null;
  }, []);
  const api = useMemo(() => createApi({ baseUrl, getToken }), [baseUrl, getToken]);
  const people = useCallback((q: string) => api.people(q), [api]);
  const email = phase.kind === 'signedIn' ? phase.session.email : null;
  const mailApi = useMemo(() => (email ? withOfflineCopy(api, email, setOfflineSince) : api), [api, email]);

  const microsoft = useMicrosoftSignIn(baseUrl);
  // Back from Microsoft: the server hands the Lifeboat token over once; it is kept like a password sign-in's.
  useEffect(() => {
    if (!backFromMicrosoft()) return;
    void takeOverMicrosoftSignIn(baseUrl).then((taken) =>
      setPhase(
        taken
          ? { kind: 'signedIn', session: savePasswordSession(taken.email, taken.token, taken.expiresAt) as Extract<Session, { method: 'password' }> }
          : (current) => (current.kind === 'signedIn' ? current : { kind: 'signedOut', notice: NOT_TAKEN_OVER }),
      ),
    );
  }, [baseUrl]);

  const signOut = useCallback((notice: string | null) => {
    clearPasswordSession();
    clearOfflineCopy();
    statusRef.current = null;
    setStatus(null);
    setStatusError(null);
    setOfflineSince(null);
    setPhase({ kind: 'signedOut', notice });
  }, []);

  const applyStatus = useCallback((incoming: ContinuityStatus) => {
    setLastUpdate(Date.now());
    if (!isNewer(statusRef.current, incoming)) return;
    statusRef.current = incoming;
    setStatus(incoming);
  }, []);

  const loadStatus = useCallback(async () => {
    try {
      applyStatus(await api.status());
      setStatusError(null);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError((err as Error).message, 0);
      if (e.unauthorized) signOut(EXPIRED);
      else setStatusError(e);
    }
  }, [api, applyStatus, signOut]);

  const signedIn = phase.kind === 'signedIn';
  useEffect(() => {
    if (!signedIn) return;
    void loadStatus();
    setConnection({ kind: 'connecting' });
    const live = connectStatusSocket({
      url: baseUrl,
      getToken,
      getLastSeq: () => statusRef.current?.seq ?? -1,
      onStatus: (s) => {
        applyStatus(s);
        setStatusError(null);
      },
      onConnection: setConnection,
    });
    return () => live.close();
  }, [signedIn, baseUrl, getToken, loadStatus, applyStatus]);

  // The REST fallback while the socket is down.
  useEffect(() => {
    if (!signedIn || connection.kind === 'live' || connection.kind === 'connecting') return;
    const timer = setInterval(() => void loadStatus(), POLL_WHILE_DISCONNECTED_MS);
    return () => clearInterval(timer);
  }, [signedIn, connection.kind, loadStatus]);

  const onPassword = useCallback(
    async (address: string, password: string) => {
      const result = await api.login(address, password);
      setPhase({ kind: 'signedIn', session: savePasswordSession(address, result.token, result.expiresAt) as Extract<Session, { method: 'password' }> });
    },
    [api],
  );
  const reset = useMemo(
    () => ({
      request: (address: string) => api.requestReset(address),
      confirm: async (address: string, code: string, password: string) => {
        await api.confirmReset(address, code, password);
        await onPassword(address, password);
      },
      adminHint: () => adminResetHint(baseUrl),
    }),
    [api, onPassword, baseUrl],
  );

  const timeZone = status?.events.find((e) => e.timeZone)?.timeZone ?? undefined;
  const since = status?.active ? ([...status.events.map((e) => e.start)].filter(Boolean).sort()[0] ?? null) : null;
  const offline = offlineSince !== null;

  return (
    <main className={styles.main} data-testid="inbox-app">
      <header className={styles.top}>
        <span className={styles.brand}>
          <img src="/addin/assets/icon-32.png" width={24} height={24} alt="" />
          <Title3 as="h1" className={styles.title}>
            Lifeboat
          </Title3>
        </span>
        <nav className={styles.links} aria-label="Lifeboat">
          <Link href="/admin" data-testid="admin-link">
            Admin
          </Link>
          {signedIn ? (
            <Link as="button" onClick={() => signOut(null)} data-testid="sign-out">
              Sign out
            </Link>
          ) : null}
        </nav>
      </header>
      {phase.kind === 'signedOut' ? (
        <>
          <Text>Your continuity inbox: read and send your work mail here while Microsoft 365 or Exchange is down.</Text>
          <SignIn
            defaultEmail=""
            onMicrosoft={microsoft.onMicrosoft}
            microsoftNote={microsoft.note}
            onEmailChange={microsoft.onEmailChange}
            onPassword={onPassword}
            notice={phase.notice}
            reset={reset}
          />
        </>
      ) : (
        <>
          <Text size={200} className={styles.who} data-testid="signed-in-as">
            Signed in as {phase.session.email}
          </Text>
          {offline ? (
            <MessageBar intent="warning" layout="multiline" data-testid="offline-banner">
              <MessageBarBody>
                <MessageBarTitle>You are offline</MessageBarTitle>
                These are the messages loaded {formatFull(offlineSince, timeZone)}, read-only: newer mail is not shown and nothing can be sent until the
                connection is back.
              </MessageBarBody>
              <MessageBarActions>
                <Button size="small" onClick={() => void loadStatus()}>
                  Try again
                </Button>
              </MessageBarActions>
            </MessageBar>
          ) : null}
          {status ? <StatusHeader status={status} /> : !statusError ? <Spinner size="small" label="Getting your continuity status…" /> : null}
          {statusError && !offline ? (
            <MessageBar intent="error" layout="multiline" data-testid="status-error">
              <MessageBarBody>
                <MessageBarTitle>{status ? 'Status may be out of date' : "Can't get your status"}</MessageBarTitle>
                {statusError.message}
              </MessageBarBody>
              <MessageBarActions>
                <Button size="small" onClick={() => void loadStatus()}>
                  Retry
                </Button>
              </MessageBarActions>
            </MessageBar>
          ) : null}
          <ConnectionIndicator state={connection} lastUpdate={lastUpdate} />
          {!offline ? <SentItemsNotice api={api} timeZone={timeZone} /> : null}
          <MailPane
            api={mailApi}
            me={phase.session.email}
            timeZone={timeZone}
            since={since}
            active={Boolean(status?.active)}
            onUnauthorized={() => signOut(EXPIRED)}
            searchable={!offline}
            people={people}
            attachFiles
            readOnly={offline}
          />
        </>
      )}
    </main>
  );
}
