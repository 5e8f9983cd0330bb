/**
 * The interactive half of the Entra stand-in (./entra.ts): what a browser sign-in needs, as Entra ID
 * does it for a web app (authorization code + PKCE, OpenID Connect):
 *  - `GET /{tenant}/v2.0/.well-known/openid-configuration` and `GET /{tenant}/discovery/v2.0/keys`
 *    (the signing keys, RS256, a `kid` per key);
 *  - `GET /{tenant}/oauth2/v2.0/authorize`: a small sign-in page (user name, Sign in / Cancel), refused
 *    with an error page, never a redirect, when the client id is unknown or the redirect URI is not one
 *    registered for the app (AADSTS50011), as Entra does; `POST` of that form issues a code to the
 *    redirect URI (`?code&state`), Cancel sends `error=access_denied`;
 *  - the token endpoint's `authorization_code` grant (called by ./entra.ts after the client is
 *    authenticated): codes are single use (AADSTS54005), expire (`codeLifetimeMs`, AADSTS70008), are
 *    bound to the client and redirect URI, and the PKCE S256 verifier must match (AADSTS501481). The
 *    answer carries an id_token signed with the keys above (`aud` the client id, `iss`
 *    `{origin}/{tid}/v2.0`, `tid` the user's home tenant, `oid`, `nonce`).
 * A user name from another tenant of the world signs in with that tenant's `tid` (a multi-tenant app's
 * behaviour), so a relying party's tenant check can be tested.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, SignJWT } from 'jose';
import type { EntraTenant, StandInApp, StandInUser } from './entra';

interface IssuedCode {
  authorityTenant: string;
  clientId: string;
  redirectUri: string;
  challenge: string | null;
  challengeMethod: string | null;
  nonce: string | null;
  scope: string;
  user: StandInUser;
  userTenant: string;
  expiresAt: number;
}

const escape = (t: string) => t.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export class StandInSignIn {
  private key: { kid: string; privateKey: KeyObject; publicKey: KeyObject } | null = null;
  private readonly codes = new Map<string, IssuedCode>();
  /** How long an authorization code can be redeemed (Entra: about 10 minutes). */
  codeLifetimeMs = 600_000;
  /** Requests the interactive endpoints received (authorize, keys, metadata). */
  readonly seen: string[] = [];

  constructor(private readonly tenants: Map<string, EntraTenant>) {}

  private signingKey() {
    if (!this.key) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.key = { kid: randomUUID(), privateKey, publicKey };
    }
    return this.key;
  }

  /** Handles the paths above; false when the request is for another endpoint. */
  handle(req: IncomingMessage, body: string, res: ServerResponse, origin: string): boolean {
    const url = new URL(req.url!, origin);
    const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|oauth2\/v2\.0\/authorize)$/.exec(url.pathname);
    if (!m) return false;
    this.seen.push(`${req.method} ${url.pathname}`);
    const [, tenantId, what] = m as unknown as [string, string, string];
    if (what.startsWith('v2.0')) {
      const base = `${origin}/${tenantId}`;
      send(res, 200, 'application/json', {
        issuer: `${base}/v2.0`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
      });
      return true;
    }
    if (what.startsWith('discovery')) {
      const k = this.signingKey();
      void exportJWK(k.publicKey).then((jwk) => send(res, 200, 'application/json', { keys: [{ ...jwk, kid: k.kid, use: 'sig', alg: 'RS256' }] }));
      return true;
    }
    const tenant = this.tenants.get(tenantId);
    const params = req.method === 'POST' ? new URLSearchParams(body) : url.searchParams;
    if (!tenant) return (page(res, 400, 'Sign in', `<p role="alert">AADSTS90002: Tenant '${escape(tenantId)}' not found.</p>`), true);
    const app = tenant.apps.get(params.get('client_id') ?? '');
    if (!app) return (page(res, 400, 'Sign in', '<p role="alert">AADSTS700016: Application not found in the directory.</p>'), true);
    const redirectUri = params.get('redirect_uri') ?? '';
    // Entra never redirects to an address the app did not register: it shows an error page.
    if (!(app.redirectUris ?? []).includes(redirectUri)) {
      return (
        page(
          res,
          400,
          'Sign in',
          `<p role="alert">AADSTS50011: The redirect URI '${escape(redirectUri)}' specified in the request does not match the redirect URIs configured for the application.</p>`,
        ),
        true
      );
    }
    if (params.get('response_type') !== 'code') return (redirect(res, redirectUri, { error: 'unsupported_response_type', state: params.get('state') }), true);
    const method = params.get('code_challenge_method');
    if (params.get('code_challenge') && method !== 'S256') {
      return (
        redirect(res, redirectUri, { error: 'invalid_request', error_description: 'AADSTS501491: Invalid code_challenge_method.', state: params.get('state') }),
        true
      );
    }
    if (req.method === 'GET') return (this.form(res, url.pathname, params, tenant, null), true);
    if (params.get('action') === 'cancel') {
      return (
        redirect(res, redirectUri, {
          error: 'access_denied',
          error_description: 'AADSTS65004: User declined to consent to access the app.',
          state: params.get('state'),
        }),
        true
      );
    }
    const found = this.findUser(tenant, params.get('username') ?? '');
    if (!found) return (this.form(res, url.pathname, params, tenant, 'AADSTS50034: This user account does not exist. Check the name and try again.'), true);
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, {
      authorityTenant: tenant.id,
      clientId: app.clientId,
      redirectUri,
      challenge: params.get('code_challenge'),
      challengeMethod: method,
      nonce: params.get('nonce'),
      scope: params.get('scope') ?? 'openid',
      user: found.user,
      userTenant: found.tenant.id,
      expiresAt: Date.now() + this.codeLifetimeMs,
    });
    redirect(res, redirectUri, { code, state: params.get('state') });
    return true;
  }

  /** The token endpoint's authorization_code grant, for an already authenticated client. */
  redeem(form: URLSearchParams, tenant: EntraTenant, app: StandInApp, origin: string, res: ServerResponse): void {
    const code = form.get('code') ?? '';
    const issued = this.codes.get(code);
    // Single use: the first redemption removes it, whatever its outcome.
    this.codes.delete(code);
    const refuse = (description: string) => send(res, 400, 'application/json', { error: 'invalid_grant', error_description: description });
    if (!issued)
      return refuse('AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
    if (issued.expiresAt < Date.now()) return refuse('AADSTS70008: The provided authorization code or refresh token has expired.');
    if (issued.authorityTenant !== tenant.id || issued.clientId !== app.clientId)
      return refuse('AADSTS70000: The provided authorization code is not valid for this client.');
    if (form.get('redirect_uri') !== issued.redirectUri)
      return refuse('AADSTS500112: The reply address does not match the reply address provided when requesting the authorization code.');
    if (issued.challenge) {
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== issued.challenge) {
        return refuse('AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.');
      }
    }
    const k = this.signingKey();
    const user = issued.user;
    const claims: Record<string, unknown> = {
      tid: issued.userTenant,
      oid: user.id,
      sub: `sub-${user.id}`,
      name: user.displayName,
      preferred_username: user.userPrincipalName,
      ver: '2.0',
    };
    if (issued.nonce) claims.nonce = issued.nonce;
    void new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: k.kid, typ: 'JWT' })
      .setIssuer(`${origin}/${issued.userTenant}/v2.0`)
      .setAudience(app.clientId)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(k.privateKey)
      .then((idToken) =>
        send(res, 200, 'application/json', {
          token_type: 'Bearer',
          scope: issued.scope,
          expires_in: 3599,
          ext_expires_in: 3599,
          access_token: randomBytes(24).toString('base64url'),
          id_token: idToken,
          client_info: Buffer.from(JSON.stringify({ uid: user.id, utid: issued.userTenant })).toString('base64url'),
        }),
      );
  }

  private findUser(home: EntraTenant, name: string): { user: StandInUser; tenant: EntraTenant } | null {
    if (!name.trim()) return null;
    for (const tenant of [home, ...[...this.tenants.values()].filter((t) => t !== home)]) {
      const user = tenant.findUser(name.trim());
      if (user) return { user, tenant };
    }
    return null;
  }

  private form(res: ServerResponse, action: string, params: URLSearchParams, tenant: EntraTenant, error: string | null): void {
    const keep = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'response_mode'];
    const hidden = keep
      .filter((k) => params.get(k) !== null)
      .map((k) => `<input type="hidden" name="${k}" value="${escape(params.get(k)!)}">`)
      .join('');
    const hint = params.get('username') ?? params.get('login_hint') ?? '';
    page(
      res,
      200,
      'Sign in to your account',
      `<p>Stand-in for Microsoft Entra ID (tenant ${escape(tenant.id)}).</p>` +
        (error ? `<p role="alert" id="error">${escape(error)}</p>` : '') +
        `<form method="post" action="${escape(action)}">${hidden}` +
        `<p><label for="username">Email, phone, or Skype</label><br><input id="username" name="username" type="email" autocomplete="username" value="${escape(hint)}"></p>` +
        '<p><button type="submit" name="action" value="signin" id="sign-in">Sign in</button> <button type="submit" name="action" value="cancel" id="cancel">Cancel</button></p>' +
        '</form>',
    );
  }
}

function send(res: ServerResponse, status: number, type: string, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function page(res: ServerResponse, status: number, title: string, html: string): void {
  send(
    res,
    status,
    'text/html; charset=utf-8',
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title></head>` +
      `<body><main><h1>${escape(title)}</h1>${html}</main></body></html>`,
  );
}

function redirect(res: ServerResponse, to: string, params: Record<string, string | null>): void {
  const url = new URL(to);
  for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
  res.writeHead(302, { location: url.toString(), 'cache-control': 'no-store' }).end();
}
