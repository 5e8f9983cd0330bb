/**
 * Outbound authentication with the tenant's own key (issue 14 point 10): mail delivered onward to the
 * primary server carries a valid ARC seal by the tenant's domain, mail sent through Lifeboat a valid
 * DKIM signature by the sender's domain — both verified by mailauth on the receiving SMTP stand-in
 * against the DNS stand-in publishing the selector record that readiness tells the admin to publish.
 */
import { authenticate, dkimVerify } from 'mailauth';
import request from 'supertest';
import { createLogger } from '../../server/log';
import { createReceiver } from '../../server/mail/receiver';
import { createDnsLookup } from '../../server/protection/dns';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { dkimKey, plainMessage, signed } from '../harness/protection-fixtures';
import { sendOne, startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

const partner = dkimKey('partner.test');
let dns: DnsStandIn;
const previousDns = process.env.LIFEBOAT_DNS_SERVERS;

beforeAll(async () => {
  dns = await startDnsStandIn({
    // The partner sends from loopback in this test: SPF lists it, its DKIM key is published, DMARC p=reject.
    'partner.test': ['v=spf1 ip4:127.0.0.1 -all'],
    '_dmarc.partner.test': ['v=DMARC1; p=reject'],
    [partner.record[0]]: [partner.record[1]],
  });
  // The readiness page's resolver (LIFEBOAT_DNS_SERVERS, read when the app is built).
  process.env.LIFEBOAT_DNS_SERVERS = dns.server;
});
afterAll(async () => {
  if (previousDns === undefined) delete process.env.LIFEBOAT_DNS_SERVERS;
  else process.env.LIFEBOAT_DNS_SERVERS = previousDns;
  await dns?.close();
});

const ctx = useLifeboat({
  services: {
    protection: {
      get dnsServers() {
        return [dns.server];
      },
    },
  },
});
let admin: request.Agent;
let receiver: ReturnType<typeof createReceiver>;
let port: number;
let primary: SmtpPeer;
let relay: SmtpPeer;

beforeAll(async () => {
  admin = await ctx.signIn('alpha', 'fullAdministrator');
  receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent'), hostname: 'mx.lifeboat.test' });
  port = await receiver.listen(0, '127.0.0.1');
  primary = await startPeer('accept');
  relay = await startPeer('accept');
  await admin
    .put('/api/mail/settings')
    .send({ primaryServers: [{ host: '127.0.0.1', port: primary.port }], relay: { host: '127.0.0.1', port: relay.port } })
    .expect(200);
});
afterAll(async () => {
  await receiver?.close();
  await ctx.services.mail.worker.stop();
  await primary?.close();
  await relay?.close();
});

const lookup = () => createDnsLookup({ servers: [dns.server], timeoutMs: 1000 });

async function deliverAll(peer: SmtpPeer, subject: string): Promise<string> {
  let raw = '';
  await eventually(async () => {
    await ctx.services.mail.worker.tick();
    const got = peer.received.find((m) => m.raw.includes(`Subject: ${subject}`));
    expect(got).toBeTruthy();
    raw = got!.raw;
  });
  return raw;
}

describe('readiness', () => {
  it('prints the selector record of every domain, checks it is published, and gives the Exchange Online line', async () => {
    const before = (await admin.get('/api/readiness/dns').expect(200)).body.signing;
    expect(before).toMatchObject({
      selector: 'lifeboat1',
      sealerDomain: 'alpha.test',
      exchangeOnline: 'Set-ArcConfig -Identity Default -ArcTrustedSealers alpha.test',
    });
    expect(before.records).toEqual([
      expect.objectContaining({
        domain: 'alpha.test',
        name: 'lifeboat1._domainkey.alpha.test',
        type: 'TXT',
        value: expect.stringMatching(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/),
        status: 'fail',
      }),
    ]);
    // Another key at the name is not Lifeboat's.
    dns.publish(before.records[0].name, [partner.record[1]]);
    expect((await admin.get('/api/readiness/dns').expect(200)).body.signing.records[0]).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/another key/),
    });
    dns.publish(before.records[0].name, [before.records[0].value]);
    const after = (await admin.get('/api/readiness/dns').expect(200)).body.signing;
    expect(after.records[0]).toMatchObject({ status: 'pass', value: before.records[0].value });
  });
});

describe('ARC seal on onward delivery', () => {
  it('seals mail delivered to the primary server so the receiver keeps the original authentication results', async () => {
    const message = await signed(plainMessage({ from: 'Billing <billing@partner.test>', to: 'one@alpha.test', subject: 'Sealed onward' }), partner);
    const sent = await sendOne(port, { from: 'billing@partner.test', to: ['one@alpha.test'], message: message.toString('utf8') });
    expect(sent.data).toMatch(/^250 /);
    const raw = await deliverAll(primary, 'Sealed onward');
    expect(raw).toMatch(/^ARC-Seal: i=1; /m);
    // Exchange Online's view: the message now comes from Lifeboat (whose address SPF does not list),
    // and the ARC chain by alpha.test carries the original verdicts.
    const res = await authenticate(Buffer.from(raw), {
      ip: '198.51.100.25',
      helo: 'mx.lifeboat.test',
      sender: 'billing@partner.test',
      mta: 'exchange.test',
      resolver: lookup() as never,
      disableBimi: true,
    });
    const arc = res.arc as unknown as {
      status: { result: string };
      signature?: { signingDomain?: string };
      authenticationResults?: { mta?: string; dmarc?: { result?: string } };
    };
    expect(arc.status.result).toBe('pass');
    expect(raw).toMatch(/^ARC-Seal: [^\r\n]*(?:\r\n[ \t][^\r\n]*)*d=alpha\.test/m);
    expect(raw).toMatch(/^ARC-Authentication-Results: i=1; lifeboat\.local;[\s\S]*?dmarc=pass/m);
  });
});

describe('DKIM signature on mail sent through Lifeboat', () => {
  it('signs a message the user sends by their domain with the tenant key', async () => {
    await admin.put('/api/users/alpha-u1/cloud-password').send({ password: 'alpha one password long' }).expect(204);
    const token = (await request(ctx.app).post('/api/user-auth/login').send({ email: 'one@alpha.test', password: 'alpha one password long' }).expect(200)).body
      .token as string;
    await request(ctx.app)
      .post('/api/me/messages')
      .set('Authorization', `Bearer ${token}`)
      .send({ to: ['someone@elsewhere.example'], subject: 'Signed by Lifeboat', html: '<p>During the outage</p>' })
      .expect(201);
    const raw = await deliverAll(relay, 'Signed by Lifeboat');
    const verified = await dkimVerify(Buffer.from(raw), { resolver: lookup() as never });
    const result = verified.results[0] as unknown as { signingDomain: string; selector: string; status: { result: string; aligned?: string } };
    expect(result).toMatchObject({ signingDomain: 'alpha.test', selector: 'lifeboat1', status: { result: 'pass', aligned: 'alpha.test' } });
  });
});
