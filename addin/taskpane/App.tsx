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
import { clearContinuityBanner, showContinuityBanner } from '../office/banners';
import { classifyClient, type CachedModeAnswer } from '../office/client';
import { currentItem, onItemChanged, type HostInfo } from '../office/host';
import { ApiError, createApi, type ClientReport } from '../lib/api';
import {
  clearPasswordSession,
  createNaaClient,
  loadPasswordSession,
  naaAvailable,
  savePasswordSession,
  type AddinConfig,
  type NaaClient,
  type Session,
} from '../lib/auth';
import { connectStatusSocket, type ConnectionState, type StatusSocket } from '../lib/socket';
import { bannerMessage, isNewer, type ContinuityStatus } from '../lib/status';
import { forgetGuardToken, saveGuard } from '../lib/send-guard';
import { composeItem } from '../office/draft';
import { ClientCard } from './ClientCard';
import { ConnectionIndicator } from './ConnectionIndicator';
import { MailPane } from './mail/MailPane';
import { SendViaLifeboat } from './mail/SendViaLifeboat';
import { MemoryRouter, useRouter } from './router';
import { SignIn } from './SignIn';
import { SmsAlertsCard } from './SmsAlertsCard';
import { StatusHeader } from './StatusHeader';

export interface PaneEnv {
  /** The backend origin (the pane's own origin). */
  baseUrl: string;
  host: HostInfo;
  config: AddinConfig;
}

const useStyles = makeStyles({
  main: { display: 'flex', flexDirection: 'column', rowGap: '12px', padding: '12px', maxWidth: '640px', boxSizing: 'border-box' },
  top: { display: 'flex', alignItems: 'baseline', justifyContent: 'space-between', columnGap: '8px' },
  title: { margin: 0 },
  detail: { display: 'block', marginTop: '2px' },
  who: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  center: { padding: '24px 0' },
  mailNote: { display: 'flex', flexDirection: 'column', rowGap: '6px', alignItems: 'flex-start' },
});

const POLL_WHILE_DISCONNECTED_MS = 30_000;

function answerKey(email: string | null) {
  return `lifeboat.cachedMode:${email ?? 'default'}`;
}

function loadAnswer(email: string | null): CachedModeAnswer {
  try {
    const value = window.localStorage.getItem(answerKey(email));
    return value === 'confirmed' || value === 'notConfirmed' ? value : null;
  } catch {
    return null;
  }
}

function saveAnswer(email: string | null, answer: CachedModeAnswer) {
  try {
    if (answer) window.localStorage.setItem(answerKey(email), answer);
    else window.localStorage.removeItem(answerKey(email));
  } catch {
    // storage unavailable: the answer lasts as long as the pane
  }
}

type AuthPhase = { kind: 'checking' } | { kind: 'signedOut'; notice: string | null } | { kind: 'signedIn'; session: Session };

export function App({ env }: { env: PaneEnv }) {
  return (
    <MemoryRouter>
      <Pane env={env} />
    </MemoryRouter>
  );
}

function Pane({ env }: { env: PaneEnv }) {
  const styles = useStyles();
  const { route, navigate } = useRouter();
  const [auth, setAuth] = useState<AuthPhase>({ kind: 'checking' });
  const [naa, setNaa] = useState<NaaClient | null>(null);
  const [answer, setAnswer] = useState<CachedModeAnswer>(() => loadAnswer(env.host.emailAddress));
  const [status, setStatus] = useState<ContinuityStatus | null>(null);
  const [statusError, setStatusError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);
  const [connection, setConnection] = useState<ConnectionState>({ kind: 'connecting' });
  const [lastUpdate, setLastUpdate] = useState<number | null>(null);
  const [itemVersion, setItemVersion] = useState(0);
  const [mailOpen, setMailOpen] = useState(false);

  const statusRef = useRef<ContinuityStatus | null>(null);
  const liveRef = useRef<StatusSocket | null>(null);
  /** Active events this pane has acknowledged (the server keeps the first receipt per user anyway). */
  const ackedRef = useRef(new Set<string>());
  const authRef = useRef(auth);
  authRef.current = auth;
  const naaRef = useRef(naa);
  naaRef.current = naa;

  const client = useMemo(() => classifyClient(env.host.facts, answer), [env.host.facts, answer]);
  const inboxUrl = env.config.continuityInboxUrl ?? `${env.baseUrl}/`;

  /** A fresh token for each request and each socket (re)connect. */
  const getToken = useCallback(async (): Promise<string | null> => {
    const phase = authRef.current;
    if (phase.kind !== 'signedIn') return null;
    if (phase.session.method === 'password') {
      const stored = loadPasswordSession();
      return stored?.method === 'password' ? stored.token : null;
    }
    return (await naaRef.current?.silent())?.token ?? null;
  }, []);

  const api = useMemo(() => createApi({ baseUrl: env.baseUrl, getToken }), [env.baseUrl, getToken]);

  const signOut = useCallback(
    (notice: string | null) => {
      clearPasswordSession();
      void forgetGuardToken();
      statusRef.current = null;
      ackedRef.current.clear();
      setStatus(null);
      setStatusError(null);
      setAuth({ kind: 'signedOut', notice });
      navigate('signIn');
    },
    [navigate],
  );

  const applyStatus = useCallback((incoming: ContinuityStatus) => {
    setLastUpdate(Date.now());
    if (!isNewer(statusRef.current, incoming)) return;
    statusRef.current = incoming;
    setStatus(incoming);
    // The OnMessageSend handler decides from this when it cannot ask the backend itself.
    void saveGuard({ status: incoming }).catch(() => {});
  }, []);

  // Sign-in on mount: a stored password session, else NAA silently, else the sign-in form.
  useEffect(() => {
    let cancelled = false;
    (async () => {
      const stored = loadPasswordSession();
      if (stored) {
        if (stored.method === 'password') void saveGuard({ token: stored.token, tokenExpiresAt: stored.expiresAt }).catch(() => {});
        setAuth({ kind: 'signedIn', session: stored });
        return;
      }
      if (naaAvailable(env.config) && env.config.naa) {
        try {
          const client = await createNaaClient(env.config.naa, env.host.emailAddress);
          if (cancelled) return;
          setNaa(client);
          const silent = await client.silent();
          if (cancelled) return;
          if (silent) {
            setAuth({ kind: 'signedIn', session: { method: 'naa', username: silent.username } });
            return;
          }
        } catch {
          // NAA unavailable in this host: fall back to the password form
        }
      }
      if (!cancelled) {
        setAuth({ kind: 'signedOut', notice: null });
        navigate('signIn');
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [env.config, env.host.emailAddress, navigate]);

  const loadStatus = useCallback(async () => {
    setLoading(true);
    try {
      applyStatus(await api.status());
      setStatusError(null);
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError((err as Error).message, 0);
      if (error.unauthorized) signOut('Your sign-in has expired. Please sign in again.');
      else setStatusError(error);
    } finally {
      setLoading(false);
    }
  }, [api, applyStatus, signOut]);

  const signedIn = auth.kind === 'signedIn';

  // Pull on every mount (the pane closes on item switch unless pinned), then listen for pushes.
  useEffect(() => {
    if (!signedIn) return;
    void loadStatus();
    setConnection({ kind: 'connecting' });
    const live = connectStatusSocket({
      url: env.baseUrl,
      getToken,
      getLastSeq: () => statusRef.current?.seq ?? -1,
      onStatus: (s) => {
        applyStatus(s);
        setStatusError(null);
      },
      onConnection: setConnection,
    });
    liveRef.current = live;
    return () => {
      liveRef.current = null;
      live.close();
    };
  }, [signedIn, env.baseUrl, getToken, loadStatus, applyStatus]);

  // The pane acknowledges the active events it shows (the admin report counts users who got the
  // start banner): over the socket, or over REST when the socket is down. Best-effort: a failed
  // receipt is tried again with the next status.
  useEffect(() => {
    if (!signedIn || !status?.active) return;
    const eventIds = status.events.map((e) => e.id).filter((id) => !ackedRef.current.has(id));
    if (!eventIds.length) return;
    eventIds.forEach((id) => ackedRef.current.add(id));
    const receipt = { seq: status.seq, eventIds, client: client.kind };
    void (async () => {
      const bySocket = (await liveRef.current?.acknowledge(receipt)) ?? false;
      if (!bySocket) await api.seen(receipt);
    })().catch(() => eventIds.forEach((id) => ackedRef.current.delete(id)));
  }, [signedIn, status, api, client.kind]);

  // While the socket is down, pull now and then (the REST fallback).
  useEffect(() => {
    if (!signedIn || connection.kind === 'live' || connection.kind === 'connecting') return;
    const timer = setInterval(() => void loadStatus(), POLL_WHILE_DISCONNECTED_MS);
    return () => clearInterval(timer);
  }, [signedIn, connection.kind, loadStatus]);

  // Report the client (and the user's Cached Exchange Mode answer) once signed in, and when it changes.
  const reported = useRef<string | null>(null);
  useEffect(() => {
    if (!signedIn) return;
    const report: ClientReport = {
      kind: client.kind,
      hostName: env.host.facts.hostName ?? 'unknown',
      platform: env.host.facts.platform ?? 'unknown',
      accountType: env.host.facts.accountType ?? 'unknown',
      hostVersion: env.host.facts.hostVersion ?? 'unknown',
      cachedMode: client.cachedMode,
    };
    const key = JSON.stringify(report);
    if (reported.current === key) return;
    reported.current = key;
    api.reportClient(report).catch(() => {
      reported.current = null; // try again on the next change or mount
    });
  }, [signedIn, api, client, env.host.facts]);

  // Pinned pane: Outlook keeps the pane open and swaps the item.
  useEffect(() => onItemChanged(() => setItemVersion((v) => v + 1)), []);

  // The item banner follows the status.
  useEffect(() => {
    const item = currentItem();
    if (!item || !status) return;
    const message = bannerMessage(status);
    const done = message ? showContinuityBanner(item, message) : clearContinuityBanner(item);
    done.catch(() => {
      // a banner is a courtesy: the pane itself shows the state
    });
  }, [status, itemVersion]);

  const onAnswer = (next: CachedModeAnswer) => {
    saveAnswer(env.host.emailAddress, next);
    setAnswer(next);
  };

  const onPassword = async (email: string, password: string) => {
    const result = await api.login(email, password);
    const session = savePasswordSession(email, result.token, result.expiresAt);
    void saveGuard({ token: result.token, tokenExpiresAt: result.expiresAt }).catch(() => {});
    setAuth({ kind: 'signedIn', session });
    navigate('home');
  };

  const reset = useMemo(
    () => ({
      request: (email: string) => api.requestReset(email),
      confirm: async (email: string, code: string, password: string) => {
        await api.confirmReset(email, code, password);
        await onPassword(email, password);
      },
    }),
    [api], // eslint-disable-line react-hooks/exhaustive-deps
  );

  const onMicrosoft = naa
    ? async () => {
        const result = await naa.popup();
        setAuth({ kind: 'signedIn', session: { method: 'naa', username: result.username } });
        navigate('home');
      }
    : null;

  const compose = useMemo(() => composeItem(currentItem()), [itemVersion]); // eslint-disable-line react-hooks/exhaustive-deps
  const timeZone = status?.events.find((e) => e.timeZone)?.timeZone ?? undefined;
  const since =
    status?.active && status.events.length
      ? (status.events
          .map((e) => e.start)
          .filter(Boolean)
          .sort()[0] ?? null)
      : null;
  // In compose mode the pane is about this draft (Send via Lifeboat); the mailbox opens on request.
  const showMail = (Boolean(status?.active) && !compose) || mailOpen;
  // Once shown during an event it stays open when the event ends (a reply being written is not lost);
  // the note then says continuity is over, and Close puts it away.
  useEffect(() => {
    if (status?.active && !compose) setMailOpen(true);
  }, [status?.active, compose]);

  const who = auth.kind === 'signedIn' ? (auth.session.method === 'password' ? auth.session.email : (auth.session.username ?? 'Microsoft account')) : null;

  return (
    <main className={styles.main} data-testid="pane" data-route={route}>
      <div className={styles.top}>
        <Title3 as="h1" className={styles.title}>
          Lifeboat
        </Title3>
        {who ? (
          <Link as="button" onClick={() => signOut(null)} data-testid="sign-out">
            Sign out
          </Link>
        ) : null}
      </div>
      {who ? (
        <Text size={200} className={styles.who}>
          Signed in as {who}
        </Text>
      ) : null}

      {auth.kind === 'checking' ? (
        <Spinner size="small" className={styles.center} label="Starting…" data-testid="loading" />
      ) : auth.kind === 'signedOut' || route === 'signIn' ? (
        <SignIn
          defaultEmail={env.host.emailAddress ?? ''}
          onMicrosoft={onMicrosoft}
          onPassword={onPassword}
          notice={auth.kind === 'signedOut' ? auth.notice : null}
          reset={reset}
        />
      ) : (
        <>
          {status ? (
            <StatusHeader status={status} />
          ) : loading || !statusError ? (
            <Spinner size="small" className={styles.center} label="Getting your continuity status…" data-testid="loading" />
          ) : null}
          {statusError ? (
            <MessageBar intent="error" layout="multiline" data-testid="status-error">
              <MessageBarBody>
                <MessageBarTitle>{status ? 'Status may be out of date' : "Can't get your status"}</MessageBarTitle>
                <span className={styles.detail}>{statusError.message}</span>
              </MessageBarBody>
              <MessageBarActions>
                <Button size="small" onClick={() => void loadStatus()} disabled={loading}>
                  Retry
                </Button>
              </MessageBarActions>
            </MessageBar>
          ) : null}
          <ConnectionIndicator state={connection} lastUpdate={lastUpdate} />
          {compose && status ? (
            <SendViaLifeboat
              key={`compose-${itemVersion}`}
              api={api}
              item={compose}
              active={status.active}
              timeZone={timeZone}
              onUnauthorized={() => signOut('Your sign-in has expired. Please sign in again.')}
            />
          ) : null}
          {status && showMail ? (
            <>
              {!status.active && !compose ? (
                <MessageBar intent="info" layout="multiline" data-testid="mail-inactive-note">
                  <MessageBarBody>
                    <MessageBarTitle>Continuity is not active</MessageBarTitle>
                    This is Lifeboat's copy of your recent mail (kept a few days). Your normal mailbox is working: use Outlook for everything else.
                  </MessageBarBody>
                  <MessageBarActions>
                    <Button size="small" onClick={() => setMailOpen(false)} data-testid="mail-close">
                      Close
                    </Button>
                  </MessageBarActions>
                </MessageBar>
              ) : null}
              <MailPane
                api={api}
                me={env.host.emailAddress ?? (auth.kind === 'signedIn' && auth.session.method === 'password' ? auth.session.email : null)}
                timeZone={timeZone}
                since={since}
                active={status.active}
                onUnauthorized={() => signOut('Your sign-in has expired. Please sign in again.')}
              />
            </>
          ) : status ? (
            <div className={styles.mailNote}>
              <Text size={200} className={styles.who}>
                {compose
                  ? 'Your continuity mailbox (Inbox and Sent) is one click away.'
                  : 'The continuity mailbox (Inbox and Sent) opens here by itself during an outage.'}
              </Text>
              <Button size="small" onClick={() => setMailOpen(true)} data-testid="mail-open">
                Open the continuity mailbox
              </Button>
            </div>
          ) : null}
          <SmsAlertsCard api={api} timeZone={timeZone} onUnauthorized={() => signOut('Your sign-in has expired. Please sign in again.')} />
        </>
      )}

      <ClientCard client={client} facts={env.host.facts} inOutlook={env.host.inOutlook} continuityInboxUrl={inboxUrl} onAnswer={onAnswer} />
    </main>
  );
}
