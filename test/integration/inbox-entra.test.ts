/**
 * "Sign in with Microsoft" in the web inbox, end to end over HTTP: Lifeboat's routes and the real
 * msal-node against the HTTPS Entra stand-in (authorize page, authorization_code grant with PKCE,
 * id_token signed by its keys). A browser is played by following the redirects by hand, so each
 * attack is one altered step: a state that is not this browser's, a code used twice, a code bound to
 * another PKCE challenge, an expired code, a user of another Entra tenant, an `oid` Lifeboat's directory
 * does not have. Success gives the same Lifeboat token a cloud password gives, and it is revocable.
 */
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { createEntraProbe } from '../../server/inbox/entra-probe';
import { useLifeboat } from '../harness/context';
import { connectAndSync, useGraphStandIns } from '../harness/graph-stand-ins';
import { StandInWorld } from '../stand-ins/entra';

const PUBLIC_URL = 'http://localhost';
const CALLBACK = `${PUBLIC_URL}/auth/entra/callback`;
const SECRET = 'inbox-entra-app-secret-1234';
const CLIENT_ID = '51111111-2222-4333-8444-555555555555';
const world = new StandInWorld();
const contoso = world.addTenant('cccccccc-0000-4000-8000-000000000003');
contoso.domains = [{ id: 'contoso.example', isVerified: true, isDefault: true }];
contoso.putUser({ id: 'ana', displayName: 'Ana', mail: 'ana@contoso.example', userPrincipalName: 'ana@contoso.example' });
contoso.registerApp({
  clientId: CLIENT_ID,
  clientSecret: SECRET,
  grantedPermissions: ['User.Read.All', 'Group.Read.All', 'Domain.Read.All'],
  redirectUris: [CALLBACK],
});
const fabrikam = world.addTenant('ffffffff-0000-4000-8000-000000000003');
fabrikam.putUser({ id: 'eve', displayName: 'Eve', mail: 'eve@fabrikam.example', userPrincipalName: 'eve@fabrikam.example' });

const standIns = useGraphStandIns(world);

const ctx = useLifeboat({
  graph: standIns.graph,
  services: { publicUrl: PUBLIC_URL },
});

const cookieOf = (res: request.Response, name: string) =>
  ([] as string[])
    .concat(res.headers['set-cookie'] ?? [])
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith(`${name}=`) && c.length > name.length + 1);

/** Starts a sign-in: the authorize URL Lifeboat redirects to, and the flow cookie it set. */
async function start(address = 'ana@contoso.example') {
  const res = await request(ctx.app)
    .get(`/auth/entra/start?address=${encodeURIComponent(address)}`)
    .expect(302);
  return { authorize: new URL(res.headers.location!), cookie: cookieOf(res, 'lifeboat_entra_flow')! };
}

/** The stand-in's sign-in form, submitted: where Entra sends the browser back. */
async function authorize(url: URL, username: string, action: 'signin' | 'cancel' = 'signin'): Promise<URL> {
  const form = await fetch(url);
  expect(form.status).toBe(200);
  expect(await form.text()).toContain('<form method="post"');
  const body = new URLSearchParams(url.searchParams);
  body.set('username', username);
  body.set('action', action);
  const res = await fetch(`${url.origin}${url.pathname}`, { method: 'POST', body, redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

const callback = (back: URL, cookie?: string) => {
  const req = request(ctx.app).get(`${back.pathname}${back.search}`);
  return cookie ? req.set('Cookie', cookie) : req;
};
const problemOf = (res: request.Response) => /data-problem="([a-zA-Z]+)"/.exec(res.text)?.[1];

describe('Sign in with Microsoft (web inbox)', () => {
  let admin: request.Agent;

  beforeAll(async () => {
    admin = await ctx.signIn('alpha', 'fullAdministrator', 'owner@alpha.test');
    await connectAndSync(admin, { entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET });
    // In Entra after the sync: Entra signs Zed in, Lifeboat's directory does not know him yet.
    contoso.putUser({ id: 'zed', displayName: 'Zed', mail: 'zed@contoso.example', userPrincipalName: 'zed@contoso.example' });
  });

  it('is offered for a connected organisation whose Entra answers, and says why not otherwise', async () => {
    const options = (address: string) =>
      request(ctx.app)
        .get(`/api/inbox/sign-in-options?address=${encodeURIComponent(address)}`)
        .expect(200);
    expect((await options('ana@contoso.example')).body).toEqual({ microsoft: true, reason: null });
    const beta = (await options('one@beta.test')).body;
    expect(beta.microsoft).toBe(false);
    expect(beta.reason).toMatch(/not connected Lifeboat to Microsoft Entra ID.*cloud password/);
    expect((await options('who@nowhere.example')).body.microsoft).toBe(false);
    const bad = await request(ctx.app).get('/api/inbox/sign-in-options?address=nope').expect(422);
    expect(bad.body.errors[0].path).toBe('address');

    // Entra down: the probe (its answer kept briefly in the server; here a probe that keeps nothing) says so.
    const probe = createEntraProbe({ loginUrl: standIns.loginUrl, ttlMs: 0 });
    expect(await probe(contoso.id)).toBe(true);
    world.loginDown = true;
    try {
      expect(await probe(contoso.id)).toBe(false);
    } finally {
      world.loginDown = false;
    }
  });

  it('refuses to start for an organisation without a connection, on a page (not JSON)', async () => {
    const res = await request(ctx.app).get('/auth/entra/start?address=one@beta.test').expect(409);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(problemOf(res)).toBe('notConnected');
    expect(res.text).toContain('cloud password');
  });

  it('redirects only to Entra with the configured redirect URI, whatever the query says', async () => {
    const res = await request(ctx.app)
      .get('/auth/entra/start?address=ana@contoso.example&redirect_uri=https://evil.example/&next=https://evil.example/')
      .expect(302);
    const to = new URL(res.headers.location!);
    expect(to.origin).toBe(standIns.loginUrl);
    expect(to.pathname).toBe(`/${contoso.id}/oauth2/v2.0/authorize`);
    expect(to.searchParams.get('redirect_uri')).toBe(CALLBACK);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('nonce')).toBeTruthy();
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('lifeboat_entra_flow='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    // Entra (the stand-in, as Entra) will not send a code to an address the app did not register.
    to.searchParams.set('redirect_uri', 'https://evil.example/auth/entra/callback');
    const refused = await fetch(to, { redirect: 'manual' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('AADSTS50011');
  });

  it('signs the user in with the same kind of Lifeboat token as a cloud password, handed over once, and revocable', async () => {
    const { authorize: url, cookie } = await start();
    const back = await authorize(url, 'ana@contoso.example');
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    const res = await callback(back, cookie).expect(303);
    expect(res.headers.location).toBe(`${PUBLIC_URL}/?signed-in=microsoft`);
    const handover = cookieOf(res, 'lifeboat_entra_session')!;
    expect(handover).toBeTruthy();

    const taken = await request(ctx.app).post('/api/inbox/entra-session').set('Cookie', handover).expect(200);
    expect(taken.body).toMatchObject({ email: 'ana@contoso.example' });
    const token: string = taken.body.token;
    expect(await ctx.services.tokens.verify(token)).toMatchObject({ kind: 'lifeboat', tenant: 'alpha', subject: 'ana' });
    await request(ctx.app).post('/api/inbox/entra-session').set('Cookie', handover).expect(404); // a copy of the cookie gives nothing
    expect(([] as string[]).concat(taken.headers['set-cookie'] ?? []).some((c) => /^lifeboat_entra_session=;/.test(c))).toBe(true);

    const me = await request(ctx.app).get('/api/me/status').set('Authorization', `Bearer ${token}`).expect(200);
    expect(me.body).toBeTruthy();
    const audit = (await admin.get('/api/audit?limit=50').expect(200)).body.items as Array<{ action: string; after?: { via?: string } }>;
    expect(audit.some((e) => e.action === 'user.login.succeeded' && e.after?.via === 'entra')).toBe(true);

    await admin.post('/api/users/ana/sign-out-everywhere').expect(204);
    await request(ctx.app).get('/api/me/status').set('Authorization', `Bearer ${token}`).expect(401);

    // The same answer again (a replayed code, with the flow cookie too): Entra redeems a code once.
    const replay = await callback(back, cookie).expect(400);
    expect(problemOf(replay)).toBe('codeRefused');
  });

  it('refuses an answer whose state is not this browser’s sign-in, and one without its cookie', async () => {
    const first = await start();
    const second = await start();
    const back = await authorize(first.authorize, 'ana@contoso.example');
    const mismatch = await callback(back, second.cookie).expect(400);
    expect(problemOf(mismatch)).toBe('stateMismatch');
    expect(mismatch.text).toContain('sign in again');
    expect(problemOf(await callback(back).expect(400))).toBe('expired');
  });

  it('refuses a code bound to another PKCE challenge (an injected code)', async () => {
    const { authorize: url, cookie } = await start();
    const attacker = randomBytes(32).toString('base64url');
    url.searchParams.set('code_challenge', createHash('sha256').update(attacker).digest('base64url'));
    const back = await authorize(url, 'ana@contoso.example');
    expect(problemOf(await callback(back, cookie).expect(400))).toBe('codeRefused');
  });

  it('refuses an expired code', async () => {
    const { authorize: url, cookie } = await start();
    world.signIn.codeLifetimeMs = -1;
    try {
      const back = await authorize(url, 'ana@contoso.example');
      expect(problemOf(await callback(back, cookie).expect(400))).toBe('codeRefused');
    } finally {
      world.signIn.codeLifetimeMs = 600_000;
    }
  });

  it('refuses a user of another Entra tenant, and a user Lifeboat’s directory does not have, saying what to do', async () => {
    let { authorize: url, cookie } = await start();
    const other = await callback(await authorize(url, 'eve@fabrikam.example'), cookie).expect(403);
    expect(problemOf(other)).toBe('otherOrganisation');
    expect(other.text).toContain('another organisation');

    ({ authorize: url, cookie } = await start());
    const unknown = await callback(await authorize(url, 'zed@contoso.example'), cookie).expect(403);
    expect(problemOf(unknown)).toBe('notInDirectory');
    expect(unknown.headers['content-type']).toMatch(/text\/html/);
  });

  it('says so when the user cancels at Microsoft', async () => {
    const { authorize: url, cookie } = await start();
    const res = await callback(await authorize(url, 'ana@contoso.example', 'cancel'), cookie).expect(403);
    expect(problemOf(res)).toBe('declined');
    expect(res.text).toContain('Back to your continuity inbox');
  });
});
