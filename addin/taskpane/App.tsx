/**
 * The pane's root: wires the named hooks (sign-in, continuity status, client report, current item,
 * mail view) to their collaborators and lays out the views. Presentational apart from that wiring;
 * Office.js is reached only through the services passed in (addin/office behind services.ts).
 */
import { adminResetHint } from '../lib/reset-hint';
import { Link, Spinner, Text, Title3, makeStyles, tokens } from '@fluentui/react-components';
import { useCallback, useMemo } from 'react';
import type { HostInfo } from '../office/host';
import { createApi } from '../lib/api';
import type { AddinConfig } from '../lib/auth';
import { connectStatusSocket } from '../lib/socket';
import { ClientCard } from './ClientCard';
import { useCachedModeAnswer } from './hooks/useCachedModeAnswer';
import { useClientReport } from './hooks/useClientReport';
import { useContinuityStatus, type OpenStatusSocket } from './hooks/useContinuityStatus';
import { useCurrentItem, useItemBanner } from './hooks/useCurrentItem';
import { useMailView } from './hooks/useMailView';
import { useSignIn } from './hooks/useSignIn';
import { Home } from './Home';
import { MemoryRouter, useRouter } from './router';
import { officePaneServices, type PaneServices } from './services';
import { SignIn } from './SignIn';

export interface PaneEnv {
  /** The backend origin (the pane's own origin). */
  baseUrl: string;
  host: HostInfo;
  config: AddinConfig;
}

const EXPIRED = 'Your sign-in has expired. Please sign in again.';

const useStyles = makeStyles({
  main: { display: 'flex', flexDirection: 'column', rowGap: '12px', padding: '12px', maxWidth: '640px', boxSizing: 'border-box' },
  top: { display: 'flex', alignItems: 'baseline', justifyContent: 'space-between', columnGap: '8px' },
  title: { margin: 0 },
  who: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  center: { padding: '24px 0' },
});

export function App({ env, services }: { env: PaneEnv; services?: PaneServices }) {
  const pane = useMemo(() => services ?? officePaneServices(), [services]);
  return (
    <MemoryRouter>
      <Pane env={env} services={pane} />
    </MemoryRouter>
  );
}

function Pane({ env, services }: { env: PaneEnv; services: PaneServices }) {
  const styles = useStyles();
  const { route, navigate } = useRouter();
  const toSignIn = useCallback(() => navigate('signIn'), [navigate]);

  const signIn = useSignIn({
    config: env.config,
    loginHint: env.host.emailAddress,
    sessions: services.sessions,
    naa: services.naa,
    guard: services.guard,
    onSignedOut: toSignIn,
  });
  const { getToken, signOut, passwordSignedIn } = signIn;
  const api = useMemo(() => createApi({ baseUrl: env.baseUrl, getToken }), [env.baseUrl, getToken]);
  const openSocket = useCallback<OpenStatusSocket>((handlers) => connectStatusSocket({ ...handlers, url: env.baseUrl, getToken }), [env.baseUrl, getToken]);
  const onUnauthorized = useCallback(() => signOut(EXPIRED), [signOut]);

  const { client, setAnswer } = useCachedModeAnswer({ storage: services.answers, email: env.host.emailAddress, facts: env.host.facts });
  const continuity = useContinuityStatus({
    enabled: signIn.signedIn,
    api,
    openSocket,
    clientKind: client.kind,
    onUnauthorized,
    onNewStatus: services.guard.saveStatus,
  });
  useClientReport({ enabled: signIn.signedIn, api, client, facts: env.host.facts });
  const item = useCurrentItem(services.itemHost);
  useItemBanner(services.itemHost, item, continuity.status);
  const mail = useMailView(continuity.status, item.compose !== null);

  const onPassword = useCallback(
    async (email: string, password: string) => {
      passwordSignedIn(email, await api.login(email, password));
      navigate('home');
    },
    [api, passwordSignedIn, navigate],
  );
  const reset = useMemo(
    () => ({
      request: (email: string) => api.requestReset(email),
      confirm: async (email: string, code: string, password: string) => {
        await api.confirmReset(email, code, password);
        await onPassword(email, password);
      },
      adminHint: () => adminResetHint(env.baseUrl),
    }),
    [api, onPassword, env.baseUrl],
  );
  const microsoft = signIn.signInWithMicrosoft;
  const onMicrosoft = microsoft
    ? async () => {
        await microsoft();
        navigate('home');
      }
    : null;

  const { auth, who } = signIn;
  const me = env.host.emailAddress ?? (auth.kind === 'signedIn' && auth.session.method === 'password' ? auth.session.email : null);

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
        <Home api={api} continuity={continuity} item={item} mail={mail} me={me} onUnauthorized={onUnauthorized} />
      )}

      <ClientCard
        client={client}
        facts={env.host.facts}
        inOutlook={env.host.inOutlook}
        continuityInboxUrl={env.config.continuityInboxUrl ?? `${env.baseUrl}/`}
        onAnswer={setAnswer}
      />
    </main>
  );
}
