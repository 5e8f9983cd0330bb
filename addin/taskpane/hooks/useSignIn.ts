/**
 * Who the pane (or the web inbox) is signed in as, and a fresh token for every request: a stored
 * password session first, else Nested App Authentication silently, else the sign-in form. The
 * stores and the NAA factory are passed in (stable objects), so a page outside Outlook can reuse it.
 * It never calls the REST API itself: the caller logs in and hands the result over.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { LoginResult } from '../../lib/api';
import type { AddinConfig, NaaClient, NaaConfig, Session } from '../../lib/auth';

export type AuthPhase = { kind: 'checking' } | { kind: 'signedOut'; notice: string | null } | { kind: 'signedIn'; session: Session };

/** The cloud-password session store (`lib/auth`: sessionStorage with a memory fallback). */
export interface PasswordSessions {
  load(): Session | null;
  save(email: string, token: string, expiresAt: string): Session;
  clear(): void;
}

/** Nested App Authentication as the host offers it. */
export interface NaaProvider {
  available(config: AddinConfig): boolean;
  create(config: NaaConfig, loginHint: string | null): Promise<NaaClient>;
}

/** Where the OnMessageSend handler finds the password token (best-effort: failures are ignored). */
export interface GuardTokenStore {
  remember(token: string, expiresAt: string): void;
  forget(): void;
}

export interface SignInDeps {
  config: AddinConfig;
  /** The mailbox's address, as a hint for NAA. */
  loginHint: string | null;
  sessions: PasswordSessions;
  naa: NaaProvider;
  guard: GuardTokenStore;
  /** Called whenever the user has to (re)sign in: on start without a session, and on sign-out. */
  onSignedOut: () => void;
}

export interface SignIn {
  auth: AuthPhase;
  signedIn: boolean;
  /** Who is signed in, in words (null when nobody is). */
  who: string | null;
  /** A fresh token for each request and each socket (re)connect; stable across renders. */
  getToken: () => Promise<string | null>;
  /** Interactive Microsoft sign-in; null when NAA is not available here. */
  signInWithMicrosoft: (() => Promise<void>) | null;
  /** Keeps a successful password login (`POST /api/user-auth/login`). */
  passwordSignedIn: (email: string, result: LoginResult) => void;
  signOut: (notice: string | null) => void;
}

export function useSignIn(deps: SignInDeps): SignIn {
  const { config, loginHint, sessions, naa: naaProvider, guard } = deps;
  const [auth, setAuth] = useState<AuthPhase>({ kind: 'checking' });
  const [naa, setNaa] = useState<NaaClient | null>(null);
  const authRef = useRef(auth);
  authRef.current = auth;
  const naaRef = useRef(naa);
  naaRef.current = naa;
  const onSignedOut = useRef(deps.onSignedOut);
  onSignedOut.current = deps.onSignedOut;

  // On mount: a stored password session, else NAA silently, else the sign-in form.
  useEffect(() => {
    let cancelled = false;
    (async () => {
      const stored = sessions.load();
      if (stored) {
        if (stored.method === 'password') guard.remember(stored.token, stored.expiresAt);
        setAuth({ kind: 'signedIn', session: stored });
        return;
      }
      if (naaProvider.available(config) && config.naa) {
        try {
          const client = await naaProvider.create(config.naa, loginHint);
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
        onSignedOut.current();
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [config, loginHint, sessions, naaProvider, guard]);

  const getToken = useCallback(async (): Promise<string | null> => {
    const phase = authRef.current;
    if (phase.kind !== 'signedIn') return null;
    if (phase.session.method === 'password') {
      const stored = sessions.load();
      return stored?.method === 'password' ? stored.token : null;
    }
    return (await naaRef.current?.silent())?.token ?? null;
  }, [sessions]);

  const passwordSignedIn = useCallback(
    (email: string, result: LoginResult) => {
      const session = sessions.save(email, result.token, result.expiresAt);
      guard.remember(result.token, result.expiresAt);
      setAuth({ kind: 'signedIn', session });
    },
    [sessions, guard],
  );

  const signOut = useCallback(
    (notice: string | null) => {
      sessions.clear();
      guard.forget();
      setAuth({ kind: 'signedOut', notice });
      onSignedOut.current();
    },
    [sessions, guard],
  );

  const signInWithMicrosoft = naa
    ? async () => {
        const result = await naa.popup();
        setAuth({ kind: 'signedIn', session: { method: 'naa', username: result.username } });
      }
    : null;

  const who = auth.kind === 'signedIn' ? (auth.session.method === 'password' ? auth.session.email : (auth.session.username ?? 'Microsoft account')) : null;

  return { auth, signedIn: auth.kind === 'signedIn', who, getToken, signInWithMicrosoft, passwordSignedIn, signOut };
}
