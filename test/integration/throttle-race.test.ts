/**
 * Sign-in and reset throttles hold under parallel requests: the attempt is counted (a slot claimed by
 * insert) before the password or code is checked, per account and per client address, with progressive
 * delays account-wide, and an administrator can unlock an account.
 */
import request from 'supertest';
import { attemptSlotModel } from '../../server/auth/model';
import { MAX_FAILURES_PER_ACCOUNT } from '../../server/auth/throttle';
import { TEST_PASSWORD, useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { phoneDirectory } from '../harness/notify-fixtures';
import { startPeer, type SmtpPeer } from '../harness/smtp-peers';

let clock = Date.now();
const ctx = useLifeboat({ now: () => new Date(clock), directories: [phoneDirectory('alpha')] });
beforeEach(() => {
  clock += 31 * 60_000; // a fresh window per test
});

const slots = () => attemptSlotModel(ctx.conn);
const login = (email: string, password: string, ip?: string) => {
  const r = request(ctx.app).post('/api/auth/login');
  if (ip) r.set('X-Forwarded-For', ip);
  return r.send({ email, password });
};

describe('admin sign-in throttle under parallel requests', () => {
  it('checks at most the budget of 30 wrong passwords sent at once', async () => {
    await ctx.createAdmin('alpha', 'basicAdministrator', 'burst@alpha.test', TEST_PASSWORD);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => login('burst@alpha.test', `wrong password ${i}`)));
    const checked = answers.filter((a) => a.status === 401).length;
    const refused = answers.filter((a) => a.status === 429);
    expect(checked).toBeLessThanOrEqual(MAX_FAILURES_PER_ACCOUNT);
    expect(checked + refused.length).toBe(30);
    for (const r of refused) expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('does not sign in with the right password hidden in a burst of 39 wrong ones', async () => {
    await ctx.createAdmin('alpha', 'basicAdministrator', 'hidden@alpha.test', TEST_PASSWORD);
    const wrong = Array.from({ length: 39 }, (_, i) => login('hidden@alpha.test', `wrong password ${i}`).then((r) => r));
    // The right one joins the burst once the wrong ones have taken the budget (still in flight or not).
    await eventually(async () => expect(await slots().countDocuments({ key: /^admin:hidden@alpha\.test\|/ })).toBe(MAX_FAILURES_PER_ACCOUNT));
    const right = login('hidden@alpha.test', TEST_PASSWORD);
    const answers = await Promise.all([...wrong, right]);
    expect(answers.at(-1)!.status).toBe(429);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(0);
  });

  it('does not lock the account for everyone: another address still signs in, an admin can unlock', async () => {
    await ctx.createAdmin('alpha', 'basicAdministrator', 'victim@alpha.test', TEST_PASSWORD);
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) await login('victim@alpha.test', 'attacker guess!').expect(401);
    await login('victim@alpha.test', TEST_PASSWORD).expect(429);
    // Without a trusted proxy the forwarded address is ignored: still the attacker's address.
    await login('victim@alpha.test', TEST_PASSWORD, '203.0.113.9').expect(429);

    const boss = await ctx.signIn('alpha', 'fullAdministrator');
    const list = await boss.get('/api/admins').expect(200);
    const victim = list.body.find((a: { email: string }) => a.email === 'victim@alpha.test');
    await boss.post(`/api/admins/${victim.id}/unlock`).expect(204);
    await login('victim@alpha.test', TEST_PASSWORD).expect(200);
    const audit = await boss.get('/api/audit?category=security&limit=500').expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toContain('admin.unlocked');
  });
});

describe('behind a trusted proxy', () => {
  const proxied = useLifeboat({ now: () => new Date(clock), trustProxy: 'loopback' });
  it('throttles per client address from X-Forwarded-For, so one client cannot lock out another', async () => {
    await proxied.createAdmin('alpha', 'basicAdministrator', 'shared@alpha.test', TEST_PASSWORD);
    const via = (ip: string, password: string) =>
      request(proxied.app).post('/api/auth/login').set('X-Forwarded-For', ip).send({ email: 'shared@alpha.test', password });
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) await via('198.51.100.7', 'attacker guess!').expect(401);
    await via('198.51.100.7', TEST_PASSWORD).expect(429);
    await via('198.51.100.8', TEST_PASSWORD).expect(200);
  });

  it('slows a spray from many addresses down progressively instead of locking for good', async () => {
    await proxied.createAdmin('alpha', 'basicAdministrator', 'sprayed@alpha.test', TEST_PASSWORD);
    const answers: number[] = [];
    for (let i = 0; i < 12; i++) answers.push((await via2(`192.0.2.${i + 1}`)).status);
    // Ten free attempts, then the account-wide ladder asks to wait (and says how long).
    expect(answers.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(answers.slice(10)).toContain(429);
    clock += 20 * 60_000; // a later window: open again
    await request(proxied.app)
      .post('/api/auth/login')
      .set('X-Forwarded-For', '192.0.2.200')
      .send({ email: 'sprayed@alpha.test', password: TEST_PASSWORD })
      .expect(200);
  });
  const via2 = (ip: string) =>
    request(proxied.app).post('/api/auth/login').set('X-Forwarded-For', ip).send({ email: 'sprayed@alpha.test', password: 'spray spray!' });
});

describe('user sign-in and reset codes under parallel requests', () => {
  let smtp: SmtpPeer;
  beforeAll(async () => {
    smtp = await startPeer('accept');
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    await admin
      .put('/api/notify/settings')
      .send({ email: { host: '127.0.0.1', port: smtp.port, from: 'lifeboat@alpha.test' }, cloudPasswordReset: 'email' })
      .expect(200);
    await admin.put('/api/users/alpha-u1/cloud-password').send({ password: 'user one password' }).expect(204);
  });
  afterAll(async () => smtp.close());

  it('checks at most the budget of 30 wrong user passwords sent at once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        request(ctx.app)
          .post('/api/user-auth/login')
          .send({ email: 'u1@alpha.test', password: `wrong ${i} password` }),
      ),
    );
    expect(answers.filter((a) => a.status === 401).length).toBeLessThanOrEqual(MAX_FAILURES_PER_ACCOUNT);
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(30 - MAX_FAILURES_PER_ACCOUNT);
  });

  it('does not reset with the real code hidden in a burst of 29 wrong ones', async () => {
    await request(ctx.app).post('/api/user-auth/reset').send({ email: 'u1@alpha.test' }).expect(202);
    await ctx.services.notify.reset.settled();
    const mail = smtp.received.filter((m) => m.to.includes('u1.home@example.org')).at(-1)!;
    const body = mail.raw.slice(mail.raw.indexOf('\r\n\r\n'));
    const code = /\b(\d{8})\b/.exec(body)![1];
    const confirm = (c: string) =>
      request(ctx.app).post('/api/user-auth/reset/confirm').send({ email: 'u1@alpha.test', code: c, password: 'attacker chosen pw' });
    const wrong = Array.from({ length: 29 }, (_, i) => confirm(String((Number(code) + 1 + i) % 100_000_000).padStart(8, '0')).then((r) => r));
    await eventually(async () => expect(await slots().countDocuments({ key: 'reset-confirm:u1@alpha.test' })).toBe(MAX_FAILURES_PER_ACCOUNT));
    const answers = await Promise.all([...wrong, confirm(code)]);
    expect(answers.filter((a) => a.status === 204)).toHaveLength(0);
    expect(answers.at(-1)!.status).toBe(429);
    // The old password still works.
    await request(ctx.app).post('/api/user-auth/login').send({ email: 'u1@alpha.test', password: 'user one password' }).expect(200);
  });
});
