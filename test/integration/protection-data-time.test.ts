/**
 * The end-of-DATA refusal (issue 14 point 6): when the recipients' policy protects and says `reject` for
 * spoof, a message failing DMARC of a domain that publishes p=reject gets 550 5.7.1 before any 250,
 * through Lifeboat's real receiver, with the DNS stand-in publishing the sender domain's records.
 */
import { createLogger } from '../../server/log';
import { createReceiver } from '../../server/mail/receiver';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { dkimKey, plainMessage, senderRecords, signed } from '../harness/protection-fixtures';
import { sendOne } from '../harness/smtp-peers';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

const partner = dkimKey('partner.test');
const lax = dkimKey('lax.test');
let dns: DnsStandIn;

beforeAll(async () => {
  dns = await startDnsStandIn({
    ...senderRecords(partner, '192.0.2.10'),
    'lax.test': ['v=spf1 ip4:192.0.2.10 -all'],
    '_dmarc.lax.test': ['v=DMARC1; p=none'],
    [lax.record[0]]: [lax.record[1]],
  });
});
afterAll(async () => {
  await dns?.close();
});

const ctx = useLifeboat({
  services: {
    protection: {
      get dnsServers() {
        return [dns.server];
      },
      // A policy change applies to the next message (production keeps policies 10 s).
      dataTimePolicyCacheMs: 0,
    },
  },
});
let receiver: ReturnType<typeof createReceiver>;
let port: number;

beforeAll(async () => {
  receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent'), refuseAtData: ctx.services.protection.refuseAtData });
  port = await receiver.listen(0, '127.0.0.1');
});
afterAll(async () => {
  await receiver?.close();
});

/** From 127.0.0.1, which partner.test's SPF does not list: only a valid aligned DKIM signature passes DMARC. */
async function send(from: string, to: string[], raw: Buffer) {
  return sendOne(port, { from, to, message: raw.toString('utf8') });
}
const forged = (to = 'one@alpha.test') => plainMessage({ from: 'Billing <billing@partner.test>', to, subject: 'Invoice' });

async function setPolicy(body: object) {
  const admin = await ctx.signIn('alpha', 'fullAdministrator');
  await admin.put('/api/protection/policies/default:alpha').send(body).expect(200);
}

describe('DMARC p=reject at end of DATA', () => {
  it('accepts a forgery while the policy does not say reject (it is judged after the 250)', async () => {
    const sent = await send('billing@partner.test', ['one@alpha.test'], forged());
    expect(sent.data).toMatch(/^250 /);
  });

  it('refuses a forgery with 550 5.7.1 when the policy protects and says reject; genuine mail passes', async () => {
    await setPolicy({ name: 'Default policy', mode: 'protect', actions: { spoof: 'reject' } });
    const refused = await send('billing@partner.test', ['one@alpha.test'], forged());
    expect(refused.data).toMatch(/^550 5\.7\.1 .*DMARC/);
    // Nothing was stored for it: only the first test's message is there.
    await eventually(async () => expect(ctx.services.mail.unrouted()).toBe(0));
    expect(await ctx.services.mail.models.messages.countDocuments({ mailFrom: 'billing@partner.test' })).toBe(1);

    const genuine = await signed(plainMessage({ from: 'Billing <billing@partner.test>', to: 'one@alpha.test', subject: 'Real invoice' }), partner);
    expect((await send('billing@partner.test', ['one@alpha.test'], genuine)).data).toMatch(/^250 /);
    // A domain publishing p=none is never refused, however it fails.
    expect((await send('x@lax.test', ['one@alpha.test'], plainMessage({ from: 'x@lax.test', to: 'one@alpha.test' }))).data).toMatch(/^250 /);
  });

  it('accepts when some recipient’s policy would not refuse (one reply covers every recipient)', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    await admin
      .post('/api/protection/policies')
      .send({ name: 'Two monitors', mode: 'monitor', priority: 10, recipients: { include: [{ type: 'address', value: 'two@alpha.test' }] } })
      .expect(201);
    expect((await send('billing@partner.test', ['one@alpha.test'], forged())).data).toMatch(/^550 5\.7\.1 /);
    expect((await send('billing@partner.test', ['one@alpha.test', 'two@alpha.test'], forged('one@alpha.test, two@alpha.test'))).data).toMatch(/^250 /);
  });
});
