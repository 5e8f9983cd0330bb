import request from 'supertest';
import { RESET_ACCEPTED } from '../../server/notify/reset';
import { useLifeboat } from '../harness/context';
import { phoneDirectory, phoneOf, twilioThrough } from '../harness/notify-fixtures';
import { startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { startSmsGateway, type SmsGateway } from '../stand-ins/sms-gateway';

// Real time at first (session cookies expire by it); tests move it past the 15-minute windows.
let clock = Date.now();
const ctx = useLifeboat({ now: () => new Date(clock), directories: [phoneDirectory('alpha'), phoneDirectory('beta')] });

let smtp: SmtpPeer;
let gateway: SmsGateway;
beforeAll(async () => {
  smtp = await startPeer('accept');
  gateway = await startSmsGateway();
  const alpha = await ctx.signIn('alpha', 'fullAdministrator');
  await alpha
    .put('/api/notify/settings')
    .send({
      email: { host: '127.0.0.1', port: smtp.port, from: 'lifeboat@alpha.test' },
      sms: twilioThrough(gateway),
      cloudPasswordReset: 'email',
    })
    .expect(200);
  await alpha.put('/api/notify/consents/alpha-u2').send({ optedIn: true }).expect(200);
  const beta = await ctx.signIn('beta', 'fullAdministrator');
  await beta
    .put('/api/notify/settings')
    .send({ email: { host: '127.0.0.1', port: smtp.port, from: 'lifeboat@beta.test' } })
    .expect(200); // default: 'never'
});
afterAll(async () => {
  await smtp.close();
  await gateway.close();
});
beforeEach(() => {
  clock += 16 * 60_000; // a fresh throttle window per test
});

const ask = (email: string) => request(ctx.app).post('/api/user-auth/reset').send({ email });
const confirm = (email: string, code: string, password: string) => request(ctx.app).post('/api/user-auth/reset/confirm').send({ email, code, password });
async function settled() {
  await ctx.services.notify.reset.settled();
}
// The code is in the body: headers (Message-ID, boundaries) may hold 8-digit runs of their own.
const bodyOf = (text: string) => (text.includes('\r\n\r\n') ? text.slice(text.indexOf('\r\n\r\n')) : text);
const codeIn = (text: string) => /\b(\d{8})\b/.exec(bodyOf(text))?.[1] ?? null;
const mailTo = (address: string) => smtp.received.filter((m) => m.to.includes(address));

describe('self-service cloud-password reset', () => {
  it('mails a code to the alternate address; the code sets the password once', async () => {
    const res = await ask('U1@alpha.test').expect(202);
    expect(res.body).toEqual(RESET_ACCEPTED);
    expect(res.headers['cache-control']).toBe('no-store');
    await settled();
    const mail = mailTo('u1.home@example.org');
    expect(mail).toHaveLength(1);
    expect(mail[0]!.raw).toMatch(/Subject: Your Lifeboat password reset code/);
    const code = codeIn(mail[0]!.raw)!;
    expect(code).toMatch(/^\d{8}$/);

    const wrong = await confirm('u1@alpha.test', code === '00000000' ? '11111111' : '00000000', 'a brand new password').expect(400);
    expect(wrong.headers['content-type']).toMatch(/problem\+json/);
    expect(wrong.body.errors[0].path).toBe('code');
    const weak = await confirm('u1@alpha.test', code, 'short').expect(422);
    expect(weak.body.errors[0].path).toBe('password');
    await confirm('u1@alpha.test', code, 'a brand new password').expect(204);
    await confirm('u1@alpha.test', code, 'another new password').expect(400); // used once
    await request(ctx.app).post('/api/user-auth/login').send({ email: 'u1@alpha.test', password: 'a brand new password' }).expect(200);

    // Stored hashed only; never in the logs or the audit trail.
    const stored = JSON.stringify(await ctx.conn.collection('passwordresetcodes').find({}).toArray());
    expect(stored).not.toContain(code);
    const audit = (await (await ctx.signIn('alpha', 'readOnly')).get('/api/audit?category=security&limit=200').expect(200)).body.items;
    const actions = audit.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.cloudPassword.resetRequested', 'user.cloudPassword.resetFailed', 'user.cloudPassword.selfReset']));
    expect(JSON.stringify(audit) + ctx.logs()).not.toContain(code);
    expect(ctx.logs()).not.toContain('a brand new password');
  });

  it('answers alike whether the account exists, may reset or not', async () => {
    const answers = [];
    for (const email of ['u3@alpha.test', 'ghost@alpha.test', 'someone@nowhere.test', 'u1@beta.test']) {
      const res = await ask(email);
      answers.push({ status: res.status, body: res.body, type: res.headers['content-type'] });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]!.status).toBe(202);
    await settled();
    // Only the existing alpha user (policy 'email') got a code; beta's default is 'never'.
    expect(mailTo('u3.home@example.org')).toHaveLength(1);
    expect(mailTo('u1.home@example.org')).toHaveLength(1); // only the one from the first test
    // Confirming for accounts that do not exist fails exactly like a wrong code.
    const ghost = await confirm('ghost@alpha.test', '12345678', 'a brand new password').expect(400);
    const real = await confirm('u4@alpha.test', '12345678', 'a brand new password').expect(400);
    expect(ghost.body).toEqual(real.body);
    await request(ctx.app).post('/api/user-auth/reset').send({}).expect(422);
    await request(ctx.app).post('/api/user-auth/reset/confirm').send({ email: 'u1@alpha.test', code: 'abc', password: 'x' }).expect(422);
  });

  it('follows the current event: sms to an opted-in mobile, never when it says never', async () => {
    const owner = await ctx.signIn('alpha', 'basicAdministrator');
    const start = new Date(clock - 60_000).toISOString();
    const sms = await owner
      .post('/api/events')
      .send({ description: 'SMS reset', affectedGroupId: 'alpha-nested', timeZone: 'UTC', start, cloudPasswordReset: 'sms' })
      .expect(201);
    const before = gateway.delivered.length;
    await ask('u2@alpha.test').expect(202); // opted in
    await ask('u3@alpha.test').expect(202); // not opted in: nothing
    await settled();
    const texts = gateway.delivered.slice(before);
    expect(texts.map((r) => r.fields.To)).toEqual([phoneOf('alpha', 2)]);
    const code = codeIn(String(texts[0]!.fields.Body))!;
    // The gateway echoes the message in its reply; the send log (readable by every admin) keeps the code out.
    const log = (await (await ctx.signIn('alpha', 'readOnly')).get('/api/notify/log?purpose=password.reset').expect(200)).body.items;
    // Replies are trimmed to the status and a short reason, so the echoed text never reaches the log.
    expect(log.find((i: { channel: string }) => i.channel === 'sms').providerReply).toMatch(/^20\d/);
    expect(JSON.stringify(log)).not.toContain(code);
    await confirm('u2@alpha.test', code, 'sms reset password ok').expect(204);
    await request(ctx.app).post('/api/user-auth/login').send({ email: 'u2@alpha.test', password: 'sms reset password ok' }).expect(200);
    await owner.post(`/api/events/${sms.body.id}/end`).expect(200);

    await owner
      .post('/api/events')
      .send({ description: 'No reset', affectedGroupId: 'alpha-all', timeZone: 'UTC', start, cloudPasswordReset: 'never' })
      .expect(201);
    const mails = smtp.received.length;
    await ask('u5@alpha.test').expect(202);
    await settled();
    expect(smtp.received.length).toBe(mails);
    expect(await ctx.services.notify.reset.policyFor('alpha', 'alpha-u5')).toBe('never');
    expect(await ctx.services.notify.reset.policyFor('alpha', 'alpha-u4')).toBe('never');
    expect(await ctx.services.notify.reset.policyFor('beta', 'beta-u1')).toBe('never');
  });

  it('codes expire', async () => {
    // Alpha is under a 'never' event now; beta's tenant default is switched to email.
    const beta = await ctx.signIn('beta', 'fullAdministrator');
    await beta.patch('/api/notify/settings').send({ cloudPasswordReset: 'email' }).expect(200);
    await ask('u1@beta.test').expect(202);
    await settled();
    const code = codeIn(mailTo('u1.home@example.org').pop()!.raw)!;
    clock += 16 * 60_000;
    await confirm('u1@beta.test', code, 'too late password').expect(400);
    // A fresh code works where the expired one failed.
    clock += 16 * 60_000;
    const mails = mailTo('u1.home@example.org').length;
    await ask('u1@beta.test').expect(202);
    await settled();
    expect(mailTo('u1.home@example.org')).toHaveLength(mails + 1);
    const fresh = codeIn(mailTo('u1.home@example.org').pop()!.raw)!;
    await confirm('u1@beta.test', fresh, 'fresh code password').expect(204);
    await request(ctx.app).post('/api/user-auth/login').send({ email: 'u1@beta.test', password: 'fresh code password' }).expect(200);
  });

  it("follows a continuity monitor's own option over the events' and the tenant's", async () => {
    // Beta's tenant default is email now; alpha is under a 'never' event.
    const monitor = (tenant: string, cloudPasswordReset: string) => ({
      name: `Reset policy ${tenant}`,
      inbound: { enabled: false },
      outbound: { enabled: false },
      timeZone: 'UTC',
      cloudPasswordReset,
    });
    const beta = await ctx.signIn('beta', 'fullAdministrator');
    const created = await beta.post('/api/monitors').send(monitor('beta', 'never')).expect(201);
    expect(created.body.cloudPasswordReset).toBe('never');
    expect(await ctx.services.notify.reset.policyFor('beta', 'beta-u2')).toBe('never');
    const mails = smtp.received.length;
    await ask('u2@beta.test').expect(202);
    await settled();
    expect(smtp.received.length).toBe(mails);
    await beta.put(`/api/monitors/${created.body.id}`).send(monitor('beta', 'inherit')).expect(200);
    expect(await ctx.services.notify.reset.policyFor('beta', 'beta-u2')).toBe('email');

    const alpha = await ctx.signIn('alpha', 'fullAdministrator');
    const alphaMonitor = await alpha.post('/api/monitors').send(monitor('alpha', 'email')).expect(201);
    expect(await ctx.services.notify.reset.policyFor('alpha', 'alpha-u5')).toBe('email');
    await ask('u5@alpha.test').expect(202);
    await settled();
    expect(mailTo('u5.home@example.org')).toHaveLength(1);
    await alpha.delete(`/api/monitors/${alphaMonitor.body.id}`).expect(204);
    expect(await ctx.services.notify.reset.policyFor('alpha', 'alpha-u5')).toBe('never');
    await beta
      .post('/api/monitors')
      .send({ ...monitor('beta', 'fax'), name: 'bad' })
      .expect(422);
  });

  it('is rate-limited per address, for existing and unknown addresses alike', async () => {
    for (const email of ['u3@beta.test', 'ghost@beta.test']) {
      for (let i = 0; i < 5; i++) await ask(email).expect(202);
      const limited = await ask(email).expect(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.headers['content-type']).toMatch(/problem\+json/);
    }
    await settled();
    for (let i = 0; i < 5; i++) await confirm('u3@beta.test', '12345678', 'guessing password').expect(400);
    await confirm('u3@beta.test', '12345678', 'guessing password').expect(429);
    // Sign-in for the same client is not used up by reset attempts.
    await request(ctx.app).post('/api/user-auth/login').send({ email: 'u2@alpha.test', password: 'sms reset password ok' }).expect(200);
  });
});

describe('the reset policy an administrator sees', () => {
  it('says when self-service reset is off for everyone and which setting decides; never to anonymous callers', async () => {
    await request(ctx.app).get('/api/notify/reset-policy').expect(401);
    const beta = await ctx.signIn('beta', 'fullAdministrator');
    const reader = await ctx.signIn('beta', 'readOnly');
    await beta.patch('/api/notify/settings').send({ cloudPasswordReset: 'never' }).expect(200);
    const monitors = (await beta.get('/api/monitors').expect(200)).body as { id: string }[];
    for (const m of monitors) await beta.delete(`/api/monitors/${m.id}`).expect(204);
    expect((await reader.get('/api/notify/reset-policy').expect(200)).body).toEqual({
      off: true,
      decidedBy: 'tenant',
      monitor: null,
      tenantDefault: 'never',
      currentEventsAllowing: 0,
    });
    const monitor = await beta
      .post('/api/monitors')
      .send({ name: 'Allows reset', inbound: { enabled: false }, outbound: { enabled: false }, timeZone: 'UTC', cloudPasswordReset: 'email' })
      .expect(201);
    expect((await reader.get('/api/notify/reset-policy').expect(200)).body).toMatchObject({ off: false, decidedBy: 'monitor', monitor: 'email' });
    await beta.delete(`/api/monitors/${monitor.body.id}`).expect(204);
    await beta.patch('/api/notify/settings').send({ cloudPasswordReset: 'email' }).expect(200);
    expect((await reader.get('/api/notify/reset-policy').expect(200)).body).toMatchObject({ off: false, decidedBy: 'tenant', tenantDefault: 'email' });
  });
});
