import { createHmac } from 'node:crypto';
import { deadPort, startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { useLifeboat } from '../harness/context';
import { twilioThrough } from '../harness/notify-fixtures';
import { startSmsGateway, type SmsGateway } from '../stand-ins/sms-gateway';

const ctx = useLifeboat({ services: { notify: { retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 80, maxRetryAfterMs: 5000 } } } });

let gateway: SmsGateway;
let smtp: SmtpPeer;
beforeAll(async () => {
  gateway = await startSmsGateway();
  smtp = await startPeer('accept');
});
afterAll(async () => {
  await gateway.close();
  await smtp.close();
});

const SIGNING_SECRET = 'webhook-signing-secret-value';
const SMTP_PASSWORD = 'smtp-relay-password-value';

async function twilioFor(tenantId: 'alpha' | 'beta') {
  const admin = await ctx.signIn(tenantId, 'fullAdministrator');
  await admin
    .put('/api/notify/settings')
    .send({
      sms: twilioThrough(gateway),
    })
    .expect(200);
  return admin;
}

describe('notification channels: settings', () => {
  it('are changed by full administrators only, audited, and never return or log their secrets', async () => {
    const owner = await ctx.signIn('alpha', 'fullAdministrator');
    const basic = await ctx.signIn('alpha', 'basicAdministrator');
    const reader = await ctx.signIn('alpha', 'readOnly');
    const body = {
      sms: twilioThrough(gateway),
      email: { host: '127.0.0.1', port: smtp.port, secure: false, user: 'relay-user', password: SMTP_PASSWORD, from: 'lifeboat@alpha.test' },
    };
    await basic.put('/api/notify/settings').send(body).expect(403);
    const saved = await owner.put('/api/notify/settings').send(body).expect(200);
    expect(saved.body.sms).toMatchObject({
      provider: 'twilio',
      baseUrl: gateway.url,
      accountSid: gateway.credentials.accountSid,
      authTokenSet: true,
      from: '+15550009999',
    });
    expect(saved.body.email).toMatchObject({ host: '127.0.0.1', port: smtp.port, user: 'relay-user', passwordSet: true });
    const read = await reader.get('/api/notify/settings').expect(200);
    expect(read.headers['cache-control']).toBe('no-store');
    // Omitting a secret keeps it; the view still says it is set.
    const kept = await owner
      .patch('/api/notify/settings')
      .send({ sms: { provider: 'twilio', from: '+15550008888' } })
      .expect(200);
    expect(kept.body.sms).toMatchObject({ authTokenSet: true, from: '+15550008888' });
    await owner
      .patch('/api/notify/settings')
      .send({ sms: { provider: 'twilio', from: '+15550009999' } })
      .expect(200);

    const audit = await owner.get('/api/audit?category=notifications&limit=100').expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toContain('notify.settings.updated');
    const everything = JSON.stringify([saved.body, read.body, kept.body, audit.body]) + ctx.logs();
    for (const secret of [gateway.credentials.authToken, SMTP_PASSWORD]) expect(everything).not.toContain(secret);
    const stored = JSON.stringify(await ctx.conn.collection('notifysettings').find({}).toArray());
    expect(stored).not.toContain(gateway.credentials.authToken);
    expect(stored).not.toContain(SMTP_PASSWORD);
    // Tenant isolation: beta sees nothing of alpha's.
    const beta = await ctx.signIn('beta', 'fullAdministrator');
    expect((await beta.get('/api/notify/settings').expect(200)).body).toMatchObject({ email: null, sms: null });
    // Turn the email channel back to an unauthenticated relay for the send tests (the sink offers no AUTH).
    await owner
      .put('/api/notify/settings')
      .send({ email: { host: '127.0.0.1', port: smtp.port, from: 'lifeboat@alpha.test', user: null, password: null } })
      .expect(200);
  });

  it('refuse bad input with problem+json naming the field', async () => {
    const owner = await ctx.signIn('alpha', 'fullAdministrator');
    const cases: [object, string][] = [
      [{ sms: { provider: 'twilio', baseUrl: 'ftp://gateway.example' } }, 'sms.baseUrl'],
      [{ sms: { provider: 'twilio', baseUrl: 'http://gateway.example' } }, 'sms.baseUrl'],
      [{ sms: { provider: 'carrier-pigeon' } }, 'sms.provider'],
      [{ email: { host: 'relay.example', port: 'twenty-five', from: 'a@b.test' } }, 'email.port'],
      [{ email: { host: 'relay.example', port: 25, from: 'not an address' } }, 'email.from'],
      [{ phoneAttribute: 'bad attribute!' }, 'phoneAttribute'],
      [{ cloudPasswordReset: 'carrier-pigeon' }, 'cloudPasswordReset'],
      [{ unknownField: true }, '(body)'],
    ];
    for (const [body, path] of cases) {
      const res = await owner.put('/api/notify/settings').send(body).expect(422);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    // A webhook without a URL, Twilio without credentials (on a fresh tenant): named, nothing written.
    const beta = await ctx.signIn('beta', 'fullAdministrator');
    const missing = await beta
      .put('/api/notify/settings')
      .send({ sms: { provider: 'twilio' } })
      .expect(422);
    expect(missing.body.errors.map((e: { path: string }) => e.path)).toEqual(['sms.accountSid', 'sms.authToken', 'sms.from']);
    expect((await beta.get('/api/notify/settings').expect(200)).body.sms).toBeNull();
  });
});

describe('sending', () => {
  beforeAll(async () => {
    await twilioFor('alpha');
  });

  it('speaks the Twilio Messages API and logs the provider reply', async () => {
    const before = gateway.delivered.length;
    const result = await ctx.services.notify.send({ tenantId: 'alpha', channel: 'sms', to: '+15550100', text: 'Hello from Lifeboat', purpose: 'test.twilio' });
    expect(result).toMatchObject({ status: 'sent', attempts: 1 });
    const got = gateway.delivered[before]!;
    expect(got.kind).toBe('twilio');
    expect(got.path).toBe(`/2010-04-01/Accounts/${gateway.credentials.accountSid}/Messages.json`);
    expect(got.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(got.auth).toEqual({ user: gateway.credentials.accountSid, password: gateway.credentials.authToken });
    expect(got.fields).toEqual({ To: '+15550100', From: '+15550009999', Body: 'Hello from Lifeboat' });
    const admin = await ctx.signIn('alpha', 'readOnly');
    const log = await admin.get('/api/notify/log?purpose=test.twilio').expect(200);
    expect(log.body.items).toEqual([
      expect.objectContaining({ channel: 'sms', provider: 'twilio', recipient: '+15550100', status: 'sent', attempt: 1, purpose: 'test.twilio' }),
    ]);
    // Trimmed to the status and a short reason (here the message id): never the raw body.
    expect(log.body.items[0].providerReply).toMatch(/^201 SM/);
  });

  it('retries 5xx and 429 with backoff, honouring Retry-After', async () => {
    const before = gateway.requests.length;
    gateway.script({ status: 503 }, { status: 429, headers: { 'Retry-After': '1' } });
    const result = await ctx.services.notify.send({ tenantId: 'alpha', channel: 'sms', to: '+15550101', text: 'retry me', purpose: 'test.retry' });
    expect(result).toMatchObject({ status: 'sent', attempts: 3 });
    expect(gateway.requests.length - before).toBe(3);
    const admin = await ctx.signIn('alpha', 'readOnly');
    const items = (await admin.get('/api/notify/log?purpose=test.retry').expect(200)).body.items.reverse();
    expect(items.map((i: { status: string; attempt: number }) => [i.attempt, i.status])).toEqual([
      [1, 'retrying'],
      [2, 'retrying'],
      [3, 'sent'],
    ]);
    expect(items[0].retryInMs).toBe(20); // the first backoff step
    expect(items[1].retryInMs).toBe(1000); // Retry-After: 1 outweighs the 40 ms backoff
    expect(items[0].providerReply).toMatch(/^503/);
    expect(items[1].providerReply).toMatch(/^429/);
    // The wait really happened: the third request came at least Retry-After after the second.
    expect(gateway.requests[before + 2]!.at - gateway.requests[before + 1]!.at).toBeGreaterThanOrEqual(1000);
  });

  it('does not retry other 4xx answers', async () => {
    const before = gateway.requests.length;
    gateway.script({ status: 400, body: { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 } });
    const result = await ctx.services.notify.send({ tenantId: 'alpha', channel: 'sms', to: '+1', text: 'nope', purpose: 'test.4xx' });
    expect(result).toMatchObject({ status: 'failed', attempts: 1 });
    expect(gateway.requests.length - before).toBe(1);
    expect(result.reply).toMatch(/^400 .*not a valid phone number/);
  });

  it('retries network errors until the policy gives up', async () => {
    const owner = await ctx.signIn('beta', 'fullAdministrator');
    await owner
      .put('/api/notify/settings')
      .send({ sms: { provider: 'webhook', url: `http://127.0.0.1:${await deadPort()}/hook` } })
      .expect(200);
    const result = await ctx.services.notify.send({ tenantId: 'beta', channel: 'sms', to: '+15550200', text: 'nobody home', purpose: 'test.network' });
    expect(result).toMatchObject({ status: 'failed', attempts: 4 });
    const items = (await owner.get('/api/notify/log?purpose=test.network').expect(200)).body.items;
    expect(items.map((i: { status: string }) => i.status)).toEqual(['failed', 'retrying', 'retrying', 'retrying']);
    expect(items[0].providerReply).toMatch(/network error: ECONNREFUSED/);
  });

  it('posts JSON to a webhook with an HMAC signature', async () => {
    const owner = await ctx.signIn('beta', 'fullAdministrator');
    await owner
      .put('/api/notify/settings')
      .send({ sms: { provider: 'webhook', url: `${gateway.url}/hook`, signingSecret: SIGNING_SECRET } })
      .expect(200);
    const before = gateway.delivered.length;
    const result = await ctx.services.notify.send({ tenantId: 'beta', channel: 'sms', to: '+15550201', text: 'hooked', purpose: 'test.webhook' });
    expect(result.status).toBe('sent');
    const got = gateway.delivered[before]!;
    expect(got.kind).toBe('webhook');
    expect(got.fields).toMatchObject({ to: '+15550201', text: 'hooked', purpose: 'test.webhook', id: result.sendId });
    const timestamp = String(got.headers['x-lifeboat-timestamp']);
    const expected = `sha256=${createHmac('sha256', SIGNING_SECRET).update(`${timestamp}.${got.raw}`).digest('hex')}`;
    expect(got.headers['x-lifeboat-signature']).toBe(expected);
    expect(JSON.stringify((await owner.get('/api/notify/settings').expect(200)).body)).not.toContain(SIGNING_SECRET);
  });

  it('sends email through the tenant relay; 4xx replies are retried, 5xx are not', async () => {
    const owner = await ctx.signIn('alpha', 'fullAdministrator');
    await owner
      .patch('/api/notify/settings')
      .send({ email: { host: '127.0.0.1', port: smtp.port, from: 'lifeboat@alpha.test', user: null, password: null } })
      .expect(200);
    const before = smtp.received.length;
    const ok = await ctx.services.notify.send({
      tenantId: 'alpha',
      channel: 'email',
      to: 'someone@example.org',
      subject: 'Lifeboat alert',
      text: 'The mail flow is down.',
      purpose: 'test.email',
    });
    expect(ok).toMatchObject({ status: 'sent', attempts: 1 });
    const mail = smtp.received[before]!;
    expect(mail.from).toBe('lifeboat@alpha.test');
    expect(mail.to).toEqual(['someone@example.org']);
    expect(mail.raw).toMatch(/Subject: Lifeboat alert/);
    expect(mail.raw).toContain('The mail flow is down.');

    smtp.mode = 'defer';
    const deferred = await ctx.services.notify.send({
      tenantId: 'alpha',
      channel: 'email',
      to: 'someone@example.org',
      text: 'later',
      purpose: 'test.email.defer',
    });
    expect(deferred).toMatchObject({ status: 'failed', attempts: 4 });
    smtp.mode = 'reject';
    const rejected = await ctx.services.notify.send({
      tenantId: 'alpha',
      channel: 'email',
      to: 'someone@example.org',
      text: 'never',
      purpose: 'test.email.reject',
    });
    expect(rejected).toMatchObject({ status: 'failed', attempts: 1 });
    expect(rejected.reply).toMatch(/^550/);
    smtp.mode = 'accept';
  });

  it('sends once per idempotency key', async () => {
    const before = gateway.delivered.length;
    const request = { tenantId: 'alpha', channel: 'sms' as const, to: '+15550102', text: 'once', purpose: 'test.once', idempotencyKey: 'alert:42:+15550102' };
    const [a, b] = await Promise.all([ctx.services.notify.send(request), ctx.services.notify.send(request)]);
    expect([a.status, b.status].sort()).toEqual(['duplicate', 'sent']);
    expect((await ctx.services.notify.send(request)).status).toBe('duplicate');
    expect(gateway.delivered.length - before).toBe(1);
    // The same key in another tenant is another message.
    await twilioFor('beta');
    expect((await ctx.services.notify.send({ ...request, tenantId: 'beta' })).status).toBe('sent');
  });

  it('fails without retry when the channel is not configured', async () => {
    const owner = await ctx.signIn('beta', 'fullAdministrator');
    await owner.put('/api/notify/settings').send({ email: null }).expect(200);
    const result = await ctx.services.notify.send({ tenantId: 'beta', channel: 'email', to: 'x@example.org', text: 'x', purpose: 'test.unconfigured' });
    expect(result).toMatchObject({ status: 'failed', attempts: 1 });
    expect(result.reply).toMatch(/not configured/);
  });

  it('sends a test message from the admin API and pages the log per tenant', async () => {
    const owner = await ctx.signIn('alpha', 'fullAdministrator');
    const sent = await owner.post('/api/notify/test').send({ channel: 'sms', to: '+15550103' }).expect(200);
    expect(sent.body.status).toBe('sent');
    await owner.post('/api/notify/test').send({ channel: 'sms', to: 'not a number' }).expect(422);
    await owner.post('/api/notify/test').send({ channel: 'fax', to: '+15550103' }).expect(422);
    const basic = await ctx.signIn('alpha', 'basicAdministrator');
    await basic.post('/api/notify/test').send({ channel: 'sms', to: '+15550103' }).expect(403);

    const first = await owner.get('/api/notify/log?limit=2').expect(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await owner.get(`/api/notify/log?limit=2&cursor=${first.body.nextCursor}`).expect(200);
    const ids = [...first.body.items, ...second.body.items].map((i: { id: string }) => i.id);
    expect(new Set(ids).size).toBe(4);
    expect(first.body.items[0].purpose).toBe('test');
    await owner.get('/api/notify/log?cursor=garbage').expect(422);
    await owner.get('/api/notify/log?limit=0').expect(422);
    // Beta's log has only beta's sends.
    const beta = await ctx.signIn('beta', 'readOnly');
    const betaLog = (await beta.get('/api/notify/log?limit=500').expect(200)).body.items;
    expect(betaLog.length).toBeGreaterThan(0);
    expect(betaLog.every((i: { recipient: string }) => !['+15550100', '+15550101', '+15550103'].includes(i.recipient))).toBe(true);
    await ctx.signIn('alpha', 'readOnly').then((r) => r.get('/api/notify/log').expect(200));
  });
});
