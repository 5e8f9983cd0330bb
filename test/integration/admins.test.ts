/** Managing administrators (add, change role, remove, reset password) and TOTP two-factor sign-in. */
import { generate } from 'otplib';
import request from 'supertest';
import { TEST_PASSWORD, useLifeboat } from '../harness/context';

let clock = Date.now();
const ctx = useLifeboat({ now: () => new Date(clock) });

const login = (body: object) => request(ctx.app).post('/api/auth/login').send(body);
const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });

describe('administrators', () => {
  it('a full administrator adds, re-roles, resets and removes admins, audited; the last full administrator stays', async () => {
    const boss = await ctx.signIn('alpha', 'fullAdministrator', 'boss@alpha.test');
    const added = await boss
      .post('/api/admins')
      .send({ email: 'second@alpha.test', password: 'second admin password', role: 'basicAdministrator' })
      .expect(201);
    await boss.patch(`/api/admins/${added.body.id}`).send({ role: 'fullAdministrator' }).expect(200);
    const second = request.agent(ctx.app);
    await second.post('/api/auth/login').send({ email: 'second@alpha.test', password: 'second admin password' }).expect(200);
    await second
      .get('/api/auth/me')
      .expect(200)
      .expect((r) => expect(r.body.role).toBe('fullAdministrator'));

    await boss.put(`/api/admins/${added.body.id}/password`).send({ password: 'short' }).expect(422);
    await boss.put(`/api/admins/${added.body.id}/password`).send({ password: 'a brand new admin password' }).expect(204);
    await second.get('/api/auth/me').expect(401); // their sessions ended
    await login({ email: 'second@alpha.test', password: 'a brand new admin password' }).expect(200);

    await boss.delete(`/api/admins/${added.body.id}`).expect(204);
    await login({ email: 'second@alpha.test', password: 'a brand new admin password' }).expect(401);

    const me = (await boss.get('/api/admins').expect(200)).body.find((a: { email: string }) => a.email === 'boss@alpha.test');
    await boss.patch(`/api/admins/${me.id}`).send({ role: 'readOnly' }).expect(409);
    await boss.delete(`/api/admins/${me.id}`).expect(403);
    const basic = await ctx.signIn('alpha', 'basicAdministrator');
    await basic.delete(`/api/admins/${me.id}`).expect(403);
    // Another tenant's admin is not found.
    const beta = await ctx.signIn('beta', 'fullAdministrator');
    await beta.delete(`/api/admins/${me.id}`).expect(404);

    const audit = await boss.get('/api/audit?category=security&limit=500').expect(200);
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['admin.created', 'admin.roleChanged', 'admin.passwordReset', 'admin.removed']));
  });
});

describe('two-factor sign-in', () => {
  it('asks for the code once set up; accepts a code once, a recovery code once; refuses wrong ones', async () => {
    const agent = await ctx.signIn('alpha', 'basicAdministrator', 'totp@alpha.test');
    const setup = await agent.post('/api/auth/two-factor/setup').expect(200);
    expect(setup.body.uri).toMatch(/^otpauth:\/\/totp\/Lifeboat:/);
    await agent.post('/api/auth/two-factor/enable').send({ code: '000000' }).expect(422);
    const enabled = await agent
      .post('/api/auth/two-factor/enable')
      .send({ code: await codeAt(setup.body.secret, clock) })
      .expect(200);
    expect(enabled.body.recoveryCodes).toHaveLength(10);

    clock += 60_000;
    const asked = await login({ email: 'totp@alpha.test', password: TEST_PASSWORD }).expect(401);
    expect(asked.body.twoFactor).toBe('required');
    expect(asked.body.errors).toEqual([{ path: 'code', message: 'is required' }]);
    await login({ email: 'totp@alpha.test', password: TEST_PASSWORD, code: '123456' }).expect(401);
    const code = await codeAt(setup.body.secret, clock);
    await login({ email: 'totp@alpha.test', password: TEST_PASSWORD, code }).expect(200);
    await login({ email: 'totp@alpha.test', password: TEST_PASSWORD, code }).expect(401); // replayed
    await login({ email: 'totp@alpha.test', password: 'wrong password!!', code: await codeAt(setup.body.secret, clock + 30_000) }).expect(401);

    const recovery = enabled.body.recoveryCodes[0];
    await login({ email: 'totp@alpha.test', password: TEST_PASSWORD, code: recovery }).expect(200);
    await login({ email: 'totp@alpha.test', password: TEST_PASSWORD, code: recovery }).expect(401);
  });

  it('a tenant requirement: only a full administrator using it may turn it on; others must set it up before anything else', async () => {
    const boss = await ctx.signIn('beta', 'fullAdministrator', 'chief@beta.test');
    await boss.put('/api/auth/two-factor/policy').send({ required: true }).expect(409);
    const setup = await boss.post('/api/auth/two-factor/setup').expect(200);
    await boss
      .post('/api/auth/two-factor/enable')
      .send({ code: await codeAt(setup.body.secret, clock) })
      .expect(200);
    const basic = await ctx.signIn('beta', 'basicAdministrator', 'plain@beta.test');
    await basic.put('/api/auth/two-factor/policy').send({ required: true }).expect(403);
    await boss.put('/api/auth/two-factor/policy').send({ required: true }).expect(200);

    const me = await basic.get('/api/auth/me').expect(200);
    expect(me.body.mustEnrollTwoFactor).toBe(true);
    const refused = await basic.get('/api/events').expect(403);
    expect(refused.body.twoFactor).toBe('enrollmentRequired');
    const own = await basic.post('/api/auth/two-factor/setup').expect(200);
    await basic
      .post('/api/auth/two-factor/enable')
      .send({ code: await codeAt(own.body.secret, clock) })
      .expect(200);
    await basic.get('/api/events').expect(200);
    await basic.delete('/api/auth/two-factor').expect(409); // required: cannot turn it off

    // Lost device: a full administrator resets it.
    const list = (await boss.get('/api/admins').expect(200)).body as { id: string; email: string; twoFactor: boolean }[];
    const plain = list.find((a) => a.email === 'plain@beta.test')!;
    expect(plain.twoFactor).toBe(true);
    await boss.post(`/api/admins/${plain.id}/two-factor/reset`).expect(204);
    clock += 60_000;
    await login({ email: 'plain@beta.test', password: TEST_PASSWORD }).expect(200);
  });
});
