/**
 * Who the pane is signed in as. Nested App Authentication (an Entra token through Outlook's own
 * sign-in) first; a Lifeboat cloud password as the fallback that works when Entra ID is down.
 *
 * The password token is short-lived and kept in sessionStorage, so a pane that Outlook closes and
 * reopens on the next item (unpinned) stays signed in, while closing Outlook forgets it. Entra
 * tokens stay in MSAL's own cache (sessionStorage too) and are asked for afresh on every use.
 */
import { isSetSupported } from '../office/host';

export interface NaaConfig {
  clientId: string;
  authority: string;
  scopes: string[];
}

export interface AddinConfig {
  naa: NaaConfig | null;
  /** Where users without a cached Outlook read and send mail during an outage. */
  continuityInboxUrl: string | null;
}

export type Session = { method: 'naa'; username: string | null } | { method: 'password'; email: string; token: string; expiresAt: string };

const SESSION_KEY = 'lifeboat.session';

/** `GET /addin/config.json` (the server's runtime settings for the pane); no NAA when it cannot be read. */
export async function loadAddinConfig(baseUrl: string): Promise<AddinConfig> {
  try {
    const res = await fetch(`${baseUrl.replace(/\/+$/, '')}/addin/config.json`, { cache: 'no-store' });
    if (!res.ok) return { naa: null, continuityInboxUrl: null };
    const body = (await res.json()) as Partial<AddinConfig>;
    const naa = body.naa;
    const continuityInboxUrl = typeof body.continuityInboxUrl === 'string' ? body.continuityInboxUrl : null;
    if (naa && typeof naa.clientId === 'string' && typeof naa.authority === 'string' && Array.isArray(naa.scopes)) {
      return {
        naa: { clientId: naa.clientId, authority: naa.authority, scopes: naa.scopes.filter((s) => typeof s === 'string') },
        continuityInboxUrl,
      };
    }
    return { naa: null, continuityInboxUrl };
  } catch {
    return { naa: null, continuityInboxUrl: null };
  }
}

// ---- cloud password sessions ------------------------------------------------------------------

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the token lives in memory only
  }
}

let memorySession: Session | null = null;

export function savePasswordSession(email: string, token: string, expiresAt: string): Session {
  const session: Session = { method: 'password', email, token, expiresAt };
  memorySession = session;
  storage()?.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** The stored password session, unless it has expired. */
export function loadPasswordSession(now = Date.now()): Session | null {
  let session = memorySession;
  if (!session) {
    try {
      const raw = storage()?.getItem(SESSION_KEY);
      session = raw ? (JSON.parse(raw) as Session) : null;
    } catch {
      session = null;
    }
  }
  if (!session || session.method !== 'password' || typeof session.token !== 'string') return null;
  if (!(Date.parse(session.expiresAt) > now)) {
    clearPasswordSession();
    return null;
  }
  memorySession = session;
  return session;
}

export function clearPasswordSession(): void {
  memorySession = null;
  storage()?.removeItem(SESSION_KEY);
}

// ---- Nested App Authentication ------------------------------------------------------------------

export interface NaaClient {
  /** A token without any prompt, or null when the user has to sign in interactively. */
  silent(): Promise<{ token: string; username: string | null } | null>;
  /** Interactive sign-in (must follow a click: hosts block popups otherwise). */
  popup(): Promise<{ token: string; username: string | null }>;
}

/** NAA is possible when the server configured an Entra app and the Outlook host supports NestedAppAuth 1.1. */
export function naaAvailable(config: AddinConfig): boolean {
  return config.naa !== null && isSetSupported('NestedAppAuth', '1.1');
}

export async function createNaaClient(config: NaaConfig, loginHint: string | null): Promise<NaaClient> {
  const msal = await import('@azure/msal-browser');
  const pca = await msal.createNestablePublicClientApplication({
    auth: { clientId: config.clientId, authority: config.authority },
    cache: { cacheLocation: 'sessionStorage' },
  });
  const scopes = config.scopes;
  const result = (r: { accessToken: string; account: { username?: string } | null }) => ({
    token: r.accessToken,
    username: r.account?.username ?? null,
  });
  return {
    async silent() {
      try {
        const account = pca.getActiveAccount() ?? pca.getAllAccounts()[0];
        const r = await pca.acquireTokenSilent({ scopes, account, loginHint: loginHint ?? undefined } as Parameters<typeof pca.acquireTokenSilent>[0]);
        if (r.account) pca.setActiveAccount(r.account);
        return result(r);
      } catch {
        return null;
      }
    },
    async popup() {
      const r = await pca.acquireTokenPopup({ scopes, loginHint: loginHint ?? undefined });
      if (r.account) pca.setActiveAccount(r.account);
      return result(r);
    },
  };
}
