/**
 * Bearer tokens for Outlook users. Two kinds, told apart by their algorithm and nothing else:
 * - Lifeboat tokens (HS256, key derived from LIFEBOAT_SECRET), issued after a cloud-password sign-in;
 * - Entra access tokens (RS256 only) from Nested App Authentication, verified against the signing
 *   keys of the tenant named by `tid` (JWKS fetched and cached by jose, refetched on an unknown kid).
 * Every other algorithm, `none` included, is refused.
 */
import { hkdfSync } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';

export interface EntraSettings {
  /** Accepted `aud` values: Lifeboat's API (its client id and/or application id URI). Empty: Entra sign-in off. */
  audiences: string[];
  /** Authority host, e.g. https://login.microsoftonline.com (a local server in tests). */
  authority: string;
  /** The delegated scope the add-in asks for. */
  scope: string;
  /** Least time between two JWKS fetches for unknown key ids (default 30 s). */
  jwksCooldownMs?: number;
}

export interface VerifiedToken {
  kind: 'lifeboat' | 'entra';
  /** Lifeboat tenant id (lifeboat tokens) or Entra tenant id (entra tokens). */
  tenant: string;
  subject: string;
  claims: JWTPayload;
}

export class TokenError extends Error {}

const LIFEBOAT_ISSUER = 'lifeboat';
const LIFEBOAT_AUDIENCE = 'lifeboat-user';

/** Signing-key sets kept at most (one per Entra tenant; the oldest is dropped first). */
export const MAX_KEY_SETS = 500;

export function createTokenVerifier(options: {
  secret: string;
  entra: EntraSettings;
  tokenMinutes: number;
  /** Whether an Entra tenant is connected to Lifeboat: asked before its keys are fetched or cached. */
  isKnownEntraTenant?: (tid: string) => Promise<boolean>;
}) {
  const key = new Uint8Array(hkdfSync('sha256', options.secret, 'lifeboat', 'user-token-signing', 32));
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const authority = options.entra.authority.replace(/\/+$/, '');

  function keySet(tid: string) {
    let set = keySets.get(tid);
    if (!set) {
      if (keySets.size >= MAX_KEY_SETS) keySets.delete(keySets.keys().next().value!);
      set = createRemoteJWKSet(new URL(`${authority}/${tid}/discovery/v2.0/keys`), {
        cooldownDuration: options.entra.jwksCooldownMs ?? 30_000,
        cacheMaxAge: 12 * 3600_000,
      });
      keySets.set(tid, set);
    }
    return set;
  }

  async function verifyEntra(token: string): Promise<VerifiedToken> {
    if (!options.entra.audiences.length) throw new TokenError('Entra sign-in is not configured on this server');
    const tid = decodeJwt(token).tid;
    if (typeof tid !== 'string' || !/^[0-9a-f-]{36}$/i.test(tid)) throw new TokenError('token has no valid tid');
    // Unknown tenants are refused before any key is fetched: a token naming any tid must not fill the cache.
    if (options.isKnownEntraTenant && !(await options.isKnownEntraTenant(tid.toLowerCase()))) {
      throw new TokenError('the token is from an Entra tenant that is not connected to Lifeboat');
    }
    const { payload } = await jwtVerify(token, keySet(tid.toLowerCase()), {
      algorithms: ['RS256'],
      audience: options.entra.audiences,
      issuer: `${authority}/${tid}/v2.0`,
      requiredClaims: ['exp', 'tid', 'oid'],
    });
    const scopes = String(payload.scp ?? '').split(' ');
    if (!scopes.includes(options.entra.scope)) throw new TokenError(`token lacks the ${options.entra.scope} scope`);
    return { kind: 'entra', tenant: tid.toLowerCase(), subject: String(payload.oid), claims: payload };
  }

  return {
    /** A Lifeboat token; it carries what the user is shown as, so checking it needs no database. */
    async issue(
      tenantId: string,
      userId: string,
      profile: { email: string | null; name: string; generation?: number },
    ): Promise<{ token: string; expiresAt: Date }> {
      const expiresAt = new Date(Date.now() + options.tokenMinutes * 60_000);
      // `gen`: the user's token generation (server/user-auth/revocation.ts); a bump revokes the token.
      const token = await new SignJWT({ tid: tenantId, email: profile.email, name: profile.name, gen: profile.generation ?? 0 })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(LIFEBOAT_ISSUER)
        .setAudience(LIFEBOAT_AUDIENCE)
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .sign(key);
      return { token, expiresAt };
    },

    async verify(token: string): Promise<VerifiedToken> {
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        throw new TokenError('not a JWT');
      }
      try {
        if (alg === 'HS256') {
          const { payload } = await jwtVerify(token, key, {
            algorithms: ['HS256'],
            issuer: LIFEBOAT_ISSUER,
            audience: LIFEBOAT_AUDIENCE,
            requiredClaims: ['exp', 'sub', 'tid'],
          });
          return { kind: 'lifeboat', tenant: String(payload.tid), subject: String(payload.sub), claims: payload };
        }
        if (alg === 'RS256') return await verifyEntra(token);
      } catch (err) {
        if (err instanceof TokenError) throw err;
        throw new TokenError((err as Error).message);
      }
      throw new TokenError(`algorithm ${alg ?? '(none)'} is not accepted`);
    },
  };
}
export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
