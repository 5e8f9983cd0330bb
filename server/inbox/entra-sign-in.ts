/**
 * "Sign in with Microsoft" in the web inbox: OpenID Connect authorization code + PKCE, Lifeboat being a
 * confidential client (msal-node) with the tenant's own Entra connection (its app registration and
 * credential, server/directory/graph/connection.ts). It ends in the same Lifeboat token a cloud-password
 * sign-in gives (revocable the same way), never in a session of its own.
 *
 * What it never does: trust anything the browser brings back but the code and the state. The state,
 * nonce, PKCE verifier and Lifeboat tenant travel in a sealed, short-lived cookie (./entra-routes.ts);
 * the ID token is checked here (RS256 against the Entra tenant's keys, issuer, audience = the client id,
 * nonce, `tid` connected to that very Lifeboat tenant) and the user is its `oid` in that tenant's
 * directory only, never a mutable claim. Every redirect URI comes from configuration (the public URL).
 * Offered only when the tenant has a connection and Entra answers (./entra-probe.ts).
 */
import { CryptoProvider, type ConfidentialClientApplication } from '@azure/msal-node';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { Logger } from 'pino';
import type { AuditContext } from '../audit/context';
import { confidentialClient } from '../directory/graph/client';
import type { ConnectionService, EntraCredentials } from '../directory/graph/connection';
import type { DirectoryService } from '../directory/service';
import { domainOf } from '../http/addresses';
import { claimByInsert } from '../db/claims';
import { SealError, type SecretBox } from '../secrets/seal';
import type { TenantService } from '../tenants/service';
import type { UserAuthService } from '../user-auth/service';
import type { EntraProbe } from './entra-probe';
import type { HandoverModel } from './entra-handover-model';

/** How long the inbox has to take a finished sign-in over (its cookie lives as long). */
export const HANDOVER_SECONDS = 120;
/** Where Entra sends the browser back: the public URL + this path (the admin registers it, docs/inbox.md). */
export const CALLBACK_PATH = '/auth/entra/callback';
/** How long a started sign-in may take before the callback refuses it. */
export const FLOW_MINUTES = 10;
const SCOPES = ['openid', 'profile', 'email'];
const MAX_KEY_SETS = 500;

export type SignInProblemKind =
  | 'unknownOrganisation'
  | 'notConnected'
  | 'entraDown'
  | 'expired'
  | 'stateMismatch'
  | 'declined'
  | 'entraRefused'
  | 'codeRefused'
  | 'invalidToken'
  | 'otherOrganisation'
  | 'notInDirectory';

/** Why a Microsoft sign-in cannot go on, in words for the person (shown on a page, never as JSON). */
export class SignInProblem extends Error {
  constructor(
    readonly kind: SignInProblemKind,
    readonly status: number,
    readonly title: string,
    readonly advice: string,
  ) {
    super(`${title}: ${advice}`);
  }
}

const PASSWORD_INSTEAD = 'Sign in with your Lifeboat cloud password instead (your IT administrator gave it to you, or use “Forgot password?”).';
const problems: Record<SignInProblemKind, [number, string, string]> = {
  unknownOrganisation: [404, 'This address is not one Lifeboat knows', 'Check the address you typed: it must be your work email address.'],
  notConnected: [409, 'Microsoft sign-in is not set up', `Your organisation has not connected Lifeboat to Microsoft Entra ID. ${PASSWORD_INSTEAD}`],
  entraDown: [
    503,
    'Microsoft sign-in is not answering',
    `Microsoft Entra ID cannot be reached right now (as during a Microsoft 365 outage). ${PASSWORD_INSTEAD}`,
  ],
  expired: [
    400,
    'This sign-in has expired',
    'It took too long, or it was started in another browser or tab. Go back to your continuity inbox and sign in again.',
  ],
  stateMismatch: [
    400,
    'This sign-in did not start here',
    'The answer from Microsoft does not belong to the sign-in this browser started. Go back to your continuity inbox and sign in again.',
  ],
  declined: [
    403,
    'You cancelled the Microsoft sign-in',
    `Nothing was shared with Lifeboat. To use your continuity inbox, sign in again and accept, or ${PASSWORD_INSTEAD.charAt(0).toLowerCase()}${PASSWORD_INSTEAD.slice(1)}`,
  ],
  entraRefused: [502, 'Microsoft could not sign you in', `Try again in a few minutes. ${PASSWORD_INSTEAD}`],
  codeRefused: [400, 'This sign-in was already used or has expired', 'Go back to your continuity inbox and sign in again.'],
  invalidToken: [
    502,
    'Microsoft’s answer could not be verified',
    `Lifeboat did not sign you in. Try again; if it happens again, tell your IT administrator. ${PASSWORD_INSTEAD}`,
  ],
  otherOrganisation: [
    403,
    'That Microsoft account belongs to another organisation',
    'Sign out of that account at Microsoft, then sign in again with your work account of this organisation.',
  ],
  notInDirectory: [
    403,
    'Your account is not in Lifeboat’s directory',
    'Microsoft signed you in, but your organisation’s Lifeboat directory has no user with this account (it may not be synchronised yet). Ask your IT administrator, or try again after the next directory sync.',
  ],
};

export function signInProblem(kind: SignInProblemKind, detail?: string): SignInProblem {
  const [status, title, advice] = problems[kind];
  return new SignInProblem(kind, status, title, detail ? `${advice} (${detail})` : advice);
}

/** What the sealed flow cookie carries between start and callback. */
interface Flow {
  state: string;
  nonce: string;
  verifier: string;
  tenantId: string;
  expiresAt: number;
}
const FLOW_CONTEXT = 'inbox entra sign-in flow';
const HANDOVER_CONTEXT = 'inbox entra sign-in hand-over';

/** What the inbox takes over after the callback: the same token a cloud-password sign-in gives. */
export interface InboxSession {
  token: string;
  expiresAt: string;
  email: string;
}

export interface EntraSignInDeps {
  publicUrl: string;
  loginUrl: string;
  tenants: TenantService;
  connections: Pick<ConnectionService, 'credentials' | 'tenantOfEntraTenant'>;
  directory: DirectoryService;
  userAuth: Pick<UserAuthService, 'signInProven'>;
  probe: EntraProbe;
  handovers: HandoverModel;
  box: SecretBox;
  logger: Logger;
  now?: () => Date;
}

export function createEntraSignIn(deps: EntraSignInDeps) {
  const now = deps.now ?? (() => new Date());
  const loginUrl = deps.loginUrl.replace(/\/+$/, '');
  const redirectUri = `${deps.publicUrl.replace(/\/+$/, '')}${CALLBACK_PATH}`;
  const crypto = new CryptoProvider();
  const apps = new Map<string, { version: string; app: ConfidentialClientApplication }>();
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const log = deps.logger.child({ component: 'inbox-entra-sign-in' });

  function appOf(creds: EntraCredentials): ConfidentialClientApplication {
    const kept = apps.get(creds.tenantId);
    if (kept?.version === creds.version) return kept.app;
    const app = confidentialClient({ loginUrl, graphUrl: loginUrl }, creds);
    apps.set(creds.tenantId, { version: creds.version, app });
    return app;
  }

  function keySet(tid: string) {
    let set = keySets.get(tid);
    if (!set) {
      if (keySets.size >= MAX_KEY_SETS) keySets.delete(keySets.keys().next().value!);
      set = createRemoteJWKSet(new URL(`${loginUrl}/${tid}/discovery/v2.0/keys`), { cooldownDuration: 30_000, cacheMaxAge: 12 * 3600_000 });
      keySets.set(tid, set);
    }
    return set;
  }

  /** The tenant an address belongs to and its Entra connection, when Microsoft sign-in can be offered. */
  async function usable(address: string): Promise<{ tenantId: string; creds: EntraCredentials }> {
    const tenant = await deps.tenants.byDomain(domainOf(address.trim().toLowerCase()));
    if (!tenant) throw signInProblem('unknownOrganisation');
    const creds = await deps.connections.credentials(tenant.id).catch((err) => {
      if (err instanceof SealError) return null;
      throw err;
    });
    if (!creds) throw signInProblem('notConnected');
    if (!(await deps.probe(creds.entraTenantId))) throw signInProblem('entraDown');
    return { tenantId: tenant.id, creds };
  }

  async function verifyIdToken(idToken: string, flow: Flow, creds: EntraCredentials) {
    let tid: unknown;
    try {
      tid = decodeJwt(idToken).tid;
    } catch {
      throw signInProblem('invalidToken', 'not a JWT');
    }
    if (typeof tid !== 'string' || !/^[0-9a-f-]{36}$/i.test(tid)) throw signInProblem('invalidToken', 'no tenant id');
    // The Entra tenant must be the one connected to the Lifeboat tenant the sign-in started for.
    if ((await deps.connections.tenantOfEntraTenant(tid.toLowerCase())) !== flow.tenantId) throw signInProblem('otherOrganisation');
    try {
      const { payload } = await jwtVerify(idToken, keySet(tid.toLowerCase()), {
        algorithms: ['RS256'],
        audience: creds.clientId,
        issuer: `${loginUrl}/${tid}/v2.0`,
        requiredClaims: ['exp', 'iat', 'tid', 'oid', 'nonce'],
        clockTolerance: 300,
      });
      if (payload.nonce !== flow.nonce) throw new Error('the nonce is not the one this sign-in sent');
      return String(payload.oid);
    } catch (err) {
      throw signInProblem('invalidToken', (err as Error).message);
    }
  }

  return {
    redirectUri,
    /** The inbox (`/`), where a signed-in browser is sent back to. */
    home: `${deps.publicUrl.replace(/\/+$/, '')}/`,

    /** The session sealed for the one-time hand-over cookie. */
    handOver(session: InboxSession): string {
      return deps.box.seal(JSON.stringify({ ...session, id: crypto.createNewGuid() }), HANDOVER_CONTEXT);
    },

    /** The session from a hand-over cookie, once; null when it is missing, forged, expired or already taken. */
    async takeOver(sealed: string | undefined): Promise<InboxSession | null> {
      if (!sealed) return null;
      let handover: InboxSession & { id: string };
      try {
        handover = JSON.parse(deps.box.open(sealed, HANDOVER_CONTEXT)) as InboxSession & { id: string };
      } catch {
        return null;
      }
      if (!(Date.parse(handover.expiresAt) > now().getTime()) || typeof handover.id !== 'string') return null;
      if (!(await claimByInsert(deps.handovers, { _id: handover.id, at: now() }))) return null;
      // Now and then, the records of hand-overs that can no longer be presented go (a scan: rare on purpose).
      if (Math.random() < 0.02) {
        await deps.handovers.deleteMany({ at: { $lt: new Date(now().getTime() - 10 * HANDOVER_SECONDS * 1000) } }).catch(() => {});
      }
      return { token: handover.token, expiresAt: handover.expiresAt, email: handover.email };
    },

    /** Whether the sign-in page offers Microsoft for this address, and if not, why (a sentence for the user). */
    async options(address: string): Promise<{ microsoft: boolean; reason: string | null }> {
      try {
        await usable(address);
        return { microsoft: true, reason: null };
      } catch (err) {
        if (err instanceof SignInProblem) return { microsoft: false, reason: err.advice };
        throw err;
      }
    },

    /** Where to send the browser (Entra's authorize endpoint) and the sealed cookie that binds the answer to it. */
    async start(address: string): Promise<{ url: string; cookie: string }> {
      const { tenantId, creds } = await usable(address);
      const { verifier, challenge } = await crypto.generatePkceCodes();
      const flow: Flow = {
        state: crypto.createNewGuid(),
        nonce: crypto.createNewGuid(),
        verifier,
        tenantId,
        expiresAt: now().getTime() + FLOW_MINUTES * 60_000,
      };
      let url: string;
      try {
        url = await appOf(creds).getAuthCodeUrl({
          scopes: SCOPES,
          redirectUri,
          responseMode: 'query',
          state: flow.state,
          nonce: flow.nonce,
          codeChallenge: challenge,
          codeChallengeMethod: 'S256',
          loginHint: address.trim(),
        });
      } catch (err) {
        log.warn({ err, tenantId }, 'Entra authorize URL not built');
        throw signInProblem('entraRefused');
      }
      return { url, cookie: deps.box.seal(JSON.stringify(flow), FLOW_CONTEXT) };
    },

    /** The callback: the code exchanged, the ID token checked, the user signed in as with a cloud password. */
    async finish(
      query: { code?: string; state?: string; error?: string; error_description?: string },
      cookie: string | undefined,
      context: AuditContext,
    ): Promise<InboxSession> {
      let flow: Flow;
      try {
        if (!cookie) throw new Error('no cookie');
        flow = JSON.parse(deps.box.open(cookie, FLOW_CONTEXT)) as Flow;
      } catch {
        throw signInProblem('expired');
      }
      if (!(flow.expiresAt > now().getTime())) throw signInProblem('expired');
      if (!query.state || query.state !== flow.state) throw signInProblem('stateMismatch');
      if (query.error) {
        if (query.error === 'access_denied') throw signInProblem('declined');
        throw signInProblem('entraRefused', `${query.error}: ${(query.error_description ?? '').split('\n')[0]}`.slice(0, 300));
      }
      if (!query.code) throw signInProblem('entraRefused', 'no code');
      const creds = await deps.connections.credentials(flow.tenantId).catch(() => null);
      if (!creds) throw signInProblem('notConnected');
      const app = appOf(creds);
      let idToken: string;
      try {
        const result = await app.acquireTokenByCode(
          { code: query.code, redirectUri, scopes: SCOPES, codeVerifier: flow.verifier, nonce: flow.nonce, state: flow.state },
          { code: query.code, state: query.state },
        );
        if (!result?.idToken) throw new Error('Entra returned no ID token');
        idToken = result.idToken;
        // Nothing is kept in msal-node's cache: Lifeboat needs the proof once, not the user's tokens.
        if (result.account) await app.getTokenCache().removeAccount(result.account);
      } catch (err) {
        const e = err as { errorCode?: string; errorMessage?: string; message?: string };
        log.info({ code: e.errorCode, message: (e.errorMessage ?? e.message ?? '').split('\n')[0] }, 'Entra refused the sign-in code');
        if (e.errorCode === 'invalid_grant') throw signInProblem('codeRefused');
        if (e.errorCode === 'nonce_mismatch' || e.errorCode === 'state_mismatch') throw signInProblem('invalidToken', e.errorCode);
        throw signInProblem('entraRefused');
      }
      const oid = await verifyIdToken(idToken, flow, creds);
      const user = await deps.directory.getUser(flow.tenantId, oid);
      if (!user) throw signInProblem('notInDirectory');
      const { token, expiresAt } = await deps.userAuth.signInProven(flow.tenantId, user, { ...context, via: 'entra' });
      return { token, expiresAt: expiresAt.toISOString(), email: user.mail ?? user.userPrincipalName ?? '' };
    },
  };
}
export type EntraSignIn = ReturnType<typeof createEntraSignIn>;
