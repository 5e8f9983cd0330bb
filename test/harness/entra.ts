/**
 * A stand-in for Entra ID's signing keys: a local JWKS endpoint at the real path
 * (/<tid>/discovery/v2.0/keys) and tokens signed like Entra's v2 access tokens.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT, type JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function newSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomUUID(), privateKey, publicKey };
}

export async function startEntraStandIn() {
  const keys: SigningKey[] = [newSigningKey()];
  let fetches = 0;
  const server = http.createServer(async (req, res) => {
    if (!/^\/[0-9a-f-]{36}\/discovery\/v2\.0\/keys$/.test(req.url ?? '')) {
      res.writeHead(404).end();
      return;
    }
    fetches++;
    const jwks = { keys: await Promise.all(keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, use: 'sig', alg: 'RS256' }))) };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const authority = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    authority,
    keys,
    fetches: () => fetches,
    /** Replaces the published keys (key rotation). */
    rotate(): SigningKey {
      const key = newSigningKey();
      keys.splice(0, keys.length, key);
      return key;
    },
    async token(claims: JWTPayload & { tid: string }, options: { key?: SigningKey; expiresIn?: string | number; issuer?: string } = {}): Promise<string> {
      const key = options.key ?? keys[0];
      return new SignJWT({ scp: 'access_as_user', ver: '2.0', ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .setIssuer(options.issuer ?? `${authority}/${claims.tid}/v2.0`)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '1h')
        .sign(key.privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
