import request from 'supertest';
import { twilioSignature } from '../../server/notify/providers';
import { useLifeboat } from '../harness/context';
import { phoneDirectory, phoneOf, twilioThrough } from '../harness/notify-fixtures';
import { startSmsGateway, type SmsGateway } from '../stand-ins/sms-gateway';

const PUBLIC_URL = 'https://lifeboat.example';
const ctx = useLifeboat({ directories: [phoneDirectory('alpha'), phoneDirectory('beta')], services: { publicUrl: PUBLIC_URL } });
const INBOUND_SECRET = 'beta-inbound-shared-secret-0123';

let gateway: SmsGateway;
beforeAll(async () => {
  gateway = await startSmsGateway();
  const alpha = await ctx.signIn('alpha', 'fullAdministrator');
  await alpha
    .put('/api/notify/settings')
    .send({
      sms: twilioThrough(gateway),
    })
    .expect(200);
  const beta = await ctx.signIn('beta', 'fullAdministrator');
  await beta
    .put('/api/notify/settings')
    .send({ sms: { provider: 'webhook', url: `${gateway.url}/hook`, inboundSecret: INBOUND_SECRET } })
    .expect(200);
});
afterAll(() => gateway.close());

async function userToken(tenantId: string, i: number): Promise<string> {
  return (await ctx.services.tokens.issue(tenantId, `${tenantId}-u${i}`, { email: `u${i}@${tenantId}.test`, name: `User ${i}` })).token;
}

const consentOf = async (tenantId: string, i: number) =>
  (
    await request(ctx.app)
      .get('/api/me/sms-consent')
      .set('Authorization', `Bearer ${await userToken(tenantId, i)}`)
      .expect(200)
  ).body;

/** What Twilio posts for an incoming SMS, signed the way Twilio signs it. */
function twilioReply(tenantId: string, from: string, body: string, token = gateway.credentials.authToken) {
  const params = { AccountSid: gateway.credentials.accountSid, MessageSid: 'SM1234', From: from, To: '+15550009999', Body: body, NumMedia: '0' };
  const url = `${PUBLIC_URL}/api/notify/inbound/${tenantId}/sms`;
  return request(ctx.app)
    .post(`/api/notify/inbound/${tenantId}/sms`)
    .type('form')
    .set('X-Twilio-Signature', twilioSignature(token, url, params))
    .send(params);
}

describe('SMS consent', () => {
  it('starts opted out; users opt in and out themselves, with time and source', async () => {
    expect(await consentOf('alpha', 1)).toEqual({ optedIn: false, at: null, source: null, phone: phoneOf('alpha', 1), phoneAttribute: 'mobilePhone' });
    const token = await userToken('alpha', 1);
    const on = await request(ctx.app).put('/api/me/sms-consent').set('Authorization', `Bearer ${token}`).send({ optedIn: true }).expect(200);
    expect(on.body).toMatchObject({ optedIn: true, source: 'user', phone: phoneOf('alpha', 1) });
    expect(Date.now() - Date.parse(on.body.at)).toBeLessThan(60_000);
    const bad = await request(ctx.app).put('/api/me/sms-consent').set('Authorization', `Bearer ${token}`).send({ optedIn: 'yes' }).expect(422);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
    expect(bad.body.errors[0].path).toBe('optedIn');
    await request(ctx.app).get('/api/me/sms-consent').expect(401);
  });

  it('admins see everyone with their number and consent, and may record one (basic administrator or above)', async () => {
    const reader = await ctx.signIn('alpha', 'readOnly');
    await reader.put('/api/notify/consents/alpha-u2').send({ optedIn: true }).expect(403);
    const basic = await ctx.signIn('alpha', 'basicAdministrator');
    const set = await basic.put('/api/notify/consents/alpha-u2').send({ optedIn: true }).expect(200);
    expect(set.body).toMatchObject({ optedIn: true, source: 'admin' });
    await basic.put('/api/notify/consents/beta-u1').send({ optedIn: true }).expect(404); // another tenant's user
    await basic.put('/api/notify/consents/alpha-u3').send({}).expect(422);
    const list = (await reader.get('/api/notify/consents').expect(200)).body as { userId: string; optedIn: boolean; source: string | null; phone: string }[];
    expect(list.map((r) => r.userId)).toEqual(['alpha-u1', 'alpha-u2', 'alpha-u3', 'alpha-u4', 'alpha-u5']);
    expect(list.find((r) => r.userId === 'alpha-u1')).toMatchObject({ optedIn: true, source: 'user', phone: phoneOf('alpha', 1) });
    expect(list.find((r) => r.userId === 'alpha-u2')).toMatchObject({ optedIn: true, source: 'admin' });
    expect(list.find((r) => r.userId === 'alpha-u3')).toMatchObject({ optedIn: false, source: null });
    // Tenant isolation: beta's admins see beta's users, none opted in.
    const betaList = (await (await ctx.signIn('beta', 'readOnly')).get('/api/notify/consents').expect(200)).body as { userId: string; optedIn: boolean }[];
    expect(betaList.every((r) => r.userId.startsWith('beta-') && !r.optedIn)).toBe(true);
    const audit = (await (await ctx.signIn('alpha', 'fullAdministrator')).get('/api/audit?category=notifications&limit=100').expect(200)).body.items;
    expect(
      audit
        .filter((e: { action: string }) => e.action === 'sms.consent.optedIn')
        .map((e: { target: { id: string } }) => e.target.id)
        .sort(),
    ).toEqual(['alpha-u1', 'alpha-u2']);
  });

  it('a STOP reply signed by the gateway opts the number out; unsigned or mis-signed ones change nothing', async () => {
    await request(ctx.app)
      .post('/api/notify/inbound/alpha/sms')
      .type('form')
      .send({ From: phoneOf('alpha', 1), Body: 'STOP' })
      .expect(403);
    await twilioReply('alpha', phoneOf('alpha', 1), 'STOP', 'not-the-auth-token').expect(403);
    // Signed for alpha, posted to beta's endpoint: refused (and an unknown tenant answers alike).
    await twilioReply('beta', phoneOf('alpha', 1), 'STOP').expect(403);
    await twilioReply('nosuch', phoneOf('alpha', 1), 'STOP').expect(403);
    expect((await consentOf('alpha', 1)).optedIn).toBe(true);

    // Any other text is not an opt-out.
    await twilioReply('alpha', phoneOf('alpha', 1), 'where is my mail?').expect(200);
    expect((await consentOf('alpha', 1)).optedIn).toBe(true);

    const res = await twilioReply('alpha', phoneOf('alpha', 1), ' stop ').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/xml/);
    expect(res.text).toContain('<Response></Response>');
    expect(await consentOf('alpha', 1)).toMatchObject({ optedIn: false, source: 'sms' });
    expect((await consentOf('alpha', 2)).optedIn).toBe(true); // another number is untouched

    // START opts the number back in.
    await twilioReply('alpha', phoneOf('alpha', 1), 'START').expect(200);
    expect(await consentOf('alpha', 1)).toMatchObject({ optedIn: true, source: 'sms' });
  });

  it('a webhook gateway posts replies with the shared secret', async () => {
    const token = await userToken('beta', 3);
    await request(ctx.app).put('/api/me/sms-consent').set('Authorization', `Bearer ${token}`).send({ optedIn: true }).expect(200);
    await request(ctx.app)
      .post('/api/notify/inbound/beta/sms')
      .send({ from: phoneOf('beta', 3), text: 'STOP' })
      .expect(403);
    await request(ctx.app)
      .post('/api/notify/inbound/beta/sms')
      .set('X-Lifeboat-Inbound-Secret', 'wrong-secret-value-123456')
      .send({ from: phoneOf('beta', 3), text: 'STOP' })
      .expect(403);
    const ok = await request(ctx.app)
      .post('/api/notify/inbound/beta/sms')
      .set('X-Lifeboat-Inbound-Secret', INBOUND_SECRET)
      .send({ from: phoneOf('beta', 3), text: 'STOP' })
      .expect(200);
    expect(ok.body).toEqual({ action: 'optedOut', users: 1 });
    expect((await consentOf('beta', 3)).optedIn).toBe(false);
    expect(ctx.logs()).not.toContain(INBOUND_SECRET);
    const settings = (await (await ctx.signIn('beta', 'readOnly')).get('/api/notify/settings').expect(200)).body;
    expect(settings.sms).toMatchObject({ inboundSecretSet: true, inboundUrl: `${PUBLIC_URL}/api/notify/inbound/beta/sms` });
    expect(JSON.stringify(settings)).not.toContain(INBOUND_SECRET);
  });

  it('uses the phone attribute the tenant chose, shown read-only on the event', async () => {
    const owner = await ctx.signIn('alpha', 'fullAdministrator');
    const start = new Date(Date.now() + 3600_000).toISOString();
    const created = await owner
      .post('/api/events')
      .send({
        description: 'Outage drill',
        affectedGroupId: 'alpha-all',
        timeZone: 'UTC',
        start,
        sms: { groupId: 'alpha-sms', startMessage: 'Mail is down', endMessage: 'Mail is back', startSendAt: start },
      })
      .expect(201);
    expect((await owner.get(`/api/events/${created.body.id}`).expect(200)).body.sms.phoneAttribute).toBe('mobilePhone');
    await owner.patch('/api/notify/settings').send({ phoneAttribute: 'businessPhones' }).expect(200);
    expect((await owner.get(`/api/events/${created.body.id}`).expect(200)).body.sms.phoneAttribute).toBe('businessPhones');
    expect((await consentOf('alpha', 2)).phone).toBe('+1 (777) 020-0022');
    // A STOP from the business number (E.164, no punctuation) matches it.
    await twilioReply('alpha', '+17770200022', 'STOP').expect(200);
    expect((await consentOf('alpha', 2)).optedIn).toBe(false);
    await owner.patch('/api/notify/settings').send({ phoneAttribute: 'mobilePhone' }).expect(200);
  });
});
