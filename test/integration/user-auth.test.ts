import { createSecretKey, randomUUID } from 'node:crypto';
import { exportSPKI, SignJWT, UnsecuredJWT } from 'jose';
import request from 'supertest';
import { startEntraStandIn } from '../harness/entra';
import { tenantDirectory, useLifeboat } from '../harness/context';

const ALPHA_TID = randomUUID();
const BETA_TID = randomUUID();
const AUDIENCE = 'api://lifeboat.test/9a1c6f0e-1111-4222-8333-444455556666';

let entra: Awaited<ReturnType<typeof startEntraStandIn>>;
const settings = { audiences: [AUDIENCE], authority: 'http://placeholder', scope: 'access_as_user', jwksCooldownMs: 0 };
beforeAll(async () => {
  entra = await startEntraStandIn();
  settings.authority = entra.authority; // read when the services are built (useLifeboat's beforeAll runs after this one)
});
afterAll(() => entra.close());

const alpha = tenantDirectory('alpha');
alpha.tenant.entraTenantId = ALPHA_TID;
const beta = tenantDirectory('beta');
beta.tenant.entraTenantId = BETA_TID;
const ctx = useLifeboat({ directories: [alpha, beta], services: { entra: settings } });

const me = (token: string) => request(ctx.app).get('/api/me').set('Authorization', `Bearer ${token}`);

describe('cloud passwords for users', () => {
  it('are set by admins, with a password policy, audited without the password', async () => {
    const admin = await ctx.signIn('alpha', 'basicAdministrator');
    const weak = await admin.put('/api/users/alpha-u1/cloud-password').send({ password: 'short' }).expect(422);
    expect(weak.body.errors).toEqual([{ path: 'password', message: expect.stringMatching(/at least 12/) }]);
    await admin.put('/api/users/alpha-u1/cloud-password').send({ password: 'user one password' }).expect(204);
    await admin.put('/api/users/alpha-u1/cloud-password').send({ password: 'user one password 2' }).expect(204);
    await admin.put('/api/users/nobody/cloud-password').send({ password: 'whatever password' }).expect(404);
    await admin.put('/api/users/beta-u1/cloud-password').send({ password: 'whatever password' }).expect(404);
    const reader = await ctx.signIn('alpha', 'readOnly');
    await reader.put('/api/users/alpha-u1/cloud-password').send({ password: 'reader tries this' }).expect(403);

    const audit = await admin.get('/api/audit?category=security&limit=500').expect(200);
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.cloudPassword.set', 'user.cloudPassword.reset']));
    expect(JSON.stringify(audit.body)).not.toContain('user one password');
  });

  it('sign a user in with a short-lived Lifeboat token', async () => {
    const res = await request(ctx.app).post('/api/user-auth/login').send({ email: 'ONE@alpha.test', password: 'user one password 2' }).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeLessThanOrEqual(60 * 60_000 + 5000);
    const who = await me(res.body.token).expect(200);
    expect(who.body).toEqual({ tenantId: 'alpha', userId: 'alpha-u1', email: 'one@alpha.test', displayName: 'alpha One', via: 'cloudPassword' });
  });

  it('answer wrong passwords, users without a cloud password and unknown users alike, and throttle', async () => {
    const attempts = [
      { email: 'one@alpha.test', password: 'wrong password here' },
      { email: 'two@alpha.test', password: 'no password was set' },
      { email: 'ghost@alpha.test', password: 'no such user at all' },
    ];
    const details = new Set<string>();
    for (const attempt of attempts) details.add((await request(ctx.app).post('/api/user-auth/login').send(attempt).expect(401)).body.detail);
    expect(details.size).toBe(1);
    for (let i = 0; i < 4; i++) await request(ctx.app).post('/api/user-auth/login').send(attempts[2]).expect(401);
    const throttled = await request(ctx.app).post('/api/user-auth/login').send(attempts[2]).expect(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('refuse forged Lifeboat tokens', async () => {
    const good = (await request(ctx.app).post('/api/user-auth/login').send({ email: 'one@alpha.test', password: 'user one password 2' }).expect(200)).body
      .token as string;
    const [h, p, sig] = good.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'alpha-u2' })).toString('base64url');
    await me(`${h}.${forgedPayload}.${sig}`).expect(401);
    const otherSecret = await new SignJWT({ tid: 'alpha' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('lifeboat')
      .setAudience('lifeboat-user')
      .setSubject('alpha-u1')
      .setExpirationTime('1h')
      .sign(createSecretKey(Buffer.alloc(32, 7)));
    await me(otherSecret).expect(401);
    await me(new UnsecuredJWT({ tid: 'alpha', sub: 'alpha-u1', iss: 'lifeboat', aud: 'lifeboat-user' }).setExpirationTime('1h').encode()).expect(401);
    await me('not-a-token').expect(401);
    await request(ctx.app).get('/api/me').expect(401);
  });
});

describe('Entra access tokens (Nested App Authentication)', () => {
  const claims = (overrides: Record<string, unknown> = {}) => ({
    tid: ALPHA_TID,
    oid: 'alpha-u2',
    aud: AUDIENCE,
    preferred_username: 'two@alpha.test',
    ...overrides,
  });

  it('are accepted when signed by the tenant, for Lifeboat, in time, with the scope', async () => {
    const res = await me(await entra.token(claims())).expect(200);
    expect(res.body).toMatchObject({ tenantId: 'alpha', userId: 'alpha-u2', via: 'entra' });
  });

  it('map a user by object id only, never by a mutable claim naming their address', async () => {
    for (const claim of ['preferred_username', 'upn', 'email']) {
      const res = await me(await entra.token(claims({ oid: randomUUID(), [claim]: 'ONE@alpha.test' }))).expect(401);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
  });

  it.each([
    [
      'a wrong signature',
      async () =>
        entra.token(claims(), {
          key: { ...entra.keys[0], privateKey: (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey },
        }),
    ],
    ['alg none', async () => new UnsecuredJWT(claims({ iss: `${entra.authority}/${ALPHA_TID}/v2.0`, scp: 'access_as_user' })).setExpirationTime('1h').encode()],
    [
      'HS256 keyed with the public key (algorithm confusion)',
      async () =>
        new SignJWT(claims({ scp: 'access_as_user' }))
          .setProtectedHeader({ alg: 'HS256', kid: entra.keys[0].kid })
          .setIssuer(`${entra.authority}/${ALPHA_TID}/v2.0`)
          .setExpirationTime('1h')
          .sign(createSecretKey(Buffer.from(await exportSPKI(entra.keys[0].publicKey)))),
    ],
    ['a wrong audience', async () => entra.token(claims({ aud: 'api://someone-else' }))],
    ['a tenant that is not connected', async () => entra.token(claims({ tid: randomUUID() }))],
    ["another tenant's token for this user", async () => entra.token(claims({ tid: BETA_TID, oid: 'alpha-u2', preferred_username: 'two@alpha.test' }))],
    ['a wrong issuer', async () => entra.token(claims(), { issuer: `https://evil.example/${ALPHA_TID}/v2.0` })],
    ['an expired token', async () => entra.token(claims(), { expiresIn: Math.floor(Date.now() / 1000) - 60 })],
    ['a missing scope', async () => entra.token(claims({ scp: 'User.Read' }))],
  ])('are refused with %s', async (_name, make) => {
    const res = await me(await make()).expect(401);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('of a tenant that is not connected fetch and cache no signing keys', async () => {
    const before = entra.fetches();
    for (let i = 0; i < 3; i++) await me(await entra.token(claims({ tid: randomUUID() }))).expect(401);
    expect(entra.fetches()).toBe(before);
  });

  it('follow a key rotation', async () => {
    const before = entra.fetches();
    const key = entra.rotate();
    await me(await entra.token(claims(), { key })).expect(200);
    expect(entra.fetches()).toBeGreaterThan(before);
  });
});
