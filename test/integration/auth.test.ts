import request from 'supertest';
import { MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS } from '../../server/auth/service';
import { TEST_PASSWORD, useLifeboat } from '../harness/context';

const ctx = useLifeboat();

describe('admin sign-in', () => {
  it('signs in with a cloud password and sets a strict, httpOnly session cookie', async () => {
    await ctx.createAdmin('alpha', 'fullAdministrator', 'boss@alpha.test', TEST_PASSWORD);
    const res = await request(ctx.app).post('/api/auth/login').send({ email: 'Boss@Alpha.test', password: TEST_PASSWORD }).expect(200);
    expect(res.body).toMatchObject({ email: 'boss@alpha.test', tenantId: 'alpha', role: 'fullAdministrator' });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/lifeboat_session=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/); // plain HTTP in this test; HTTPS public URLs get Secure

    const me = await request(ctx.app).get('/api/auth/me').set('Cookie', cookie.split(';')[0]).expect(200);
    expect(me.body).toMatchObject({ email: 'boss@alpha.test', tenantId: 'alpha', role: 'fullAdministrator' });
  });

  it('answers a wrong password and an unknown account identically', async () => {
    await ctx.createAdmin('alpha', 'readOnly', 'reader@alpha.test', TEST_PASSWORD);
    const wrong = await request(ctx.app).post('/api/auth/login').send({ email: 'reader@alpha.test', password: 'wrong password!' }).expect(401);
    const unknown = await request(ctx.app).post('/api/auth/login').send({ email: 'ghost@alpha.test', password: 'wrong password!' }).expect(401);
    expect(wrong.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(wrong.body.detail).toBe(unknown.body.detail);
    expect(wrong.body.title).toBe(unknown.body.title);
  });

  it('needs a session for protected routes and ends it on logout', async () => {
    await request(ctx.app).get('/api/auth/me').expect(401);
    await request(ctx.app).get('/api/auth/me').set('Cookie', 'lifeboat_session=forged').expect(401);
    const agent = await ctx.signIn('alpha', 'basicAdministrator');
    await agent.get('/api/auth/me').expect(200);
    await agent.post('/api/auth/logout').expect(204);
    await agent.get('/api/auth/me').expect(401);
  });

  it('throttles failed sign-ins per account, also for unknown accounts, with Retry-After', async () => {
    await ctx.createAdmin('alpha', 'basicAdministrator', 'target@alpha.test', TEST_PASSWORD);
    for (const email of ['target@alpha.test', 'nobody@alpha.test']) {
      for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) {
        await request(ctx.app).post('/api/auth/login').send({ email, password: 'not the password' }).expect(401);
      }
      const blocked = await request(ctx.app).post('/api/auth/login').send({ email, password: TEST_PASSWORD }).expect(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect(blocked.body.status).toBe(429);
    }
    // Another account is not affected.
    await ctx.createAdmin('alpha', 'basicAdministrator', 'other@alpha.test', TEST_PASSWORD);
    await request(ctx.app).post('/api/auth/login').send({ email: 'other@alpha.test', password: TEST_PASSWORD }).expect(200);
  });

  it('audits successful, failed and throttled sign-ins', async () => {
    const agent = await ctx.signIn('alpha', 'fullAdministrator', 'auditor@alpha.test');
    const res = await agent.get('/api/audit?category=security&limit=500').expect(200);
    const actions = new Set(res.body.items.map((e: { action: string }) => e.action));
    expect(actions).toEqual(new Set(['login.succeeded', 'login.failed', 'login.throttled', 'logout']));
    const failed = res.body.items.find(
      (e: { action: string; actor: { email: string } }) => e.action === 'login.failed' && e.actor.email === 'ghost@alpha.test',
    );
    expect(failed.actor.type).toBe('anonymous');
  });
});

describe('per-address throttling', () => {
  const local = useLifeboat();
  it('blocks an address that fails across many accounts', async () => {
    for (let i = 0; i < MAX_FAILURES_PER_ADDRESS; i++) {
      await request(local.app)
        .post('/api/auth/login')
        .send({ email: `spray${i}@alpha.test`, password: 'guess guess guess' })
        .expect(401);
    }
    await local.createAdmin('alpha', 'readOnly', 'real@alpha.test', TEST_PASSWORD);
    await request(local.app).post('/api/auth/login').send({ email: 'real@alpha.test', password: TEST_PASSWORD }).expect(429);
  });
});

describe('roles', () => {
  it('lets every role read, but only full administrators manage admins', async () => {
    const reader = await ctx.signIn('alpha', 'readOnly');
    const basic = await ctx.signIn('alpha', 'basicAdministrator');
    const full = await ctx.signIn('alpha', 'fullAdministrator');
    const newAdmin = { email: 'new@alpha.test', password: 'a brand new password', role: 'readOnly' };
    for (const agent of [reader, basic, full]) await agent.get('/api/admins').expect(200);

    const refused = await reader.post('/api/admins').send(newAdmin).expect(403);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body.detail).toMatch(/full administrator/);
    await basic.post('/api/admins').send(newAdmin).expect(403);
    const created = await full.post('/api/admins').send(newAdmin).expect(201);
    expect(created.body).toMatchObject({ email: 'new@alpha.test', role: 'readOnly' });
    expect(created.body).not.toHaveProperty('passwordHash');
    await full.post('/api/admins').send(newAdmin).expect(409);
  });

  it('refuses writes by read-only admins and allows them for basic administrators', async () => {
    const reader = await ctx.signIn('alpha', 'readOnly');
    const basic = await ctx.signIn('alpha', 'basicAdministrator');
    await reader.post('/api/directory/reload').expect(403);
    // The test app's directory file is the demo directory, which has no tenant "alpha".
    await basic.post('/api/directory/reload').expect(409);
  });
});
