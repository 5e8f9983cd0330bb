/**
 * Protection on the mail path with the real engines, through Lifeboat's SMTP receiver: rspamd (Lifeboat's
 * embedded launcher, its resolver the DNS stand-in), clamd with a test signature database, mailauth on
 * DKIM-signed mail. GTUBE, EICAR in a zip and a forged tenant From are judged and placed per policy.
 */
import request from 'supertest';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { createLogger } from '../../server/log';
import { createReceiver } from '../../server/mail/receiver';
import type { ProtectionEngines } from '../../server/protection/engines';
import { useLifeboat } from '../harness/context';
import { startTestClamd, startTestRspamd, type TestClamd } from '../harness/engines';
import { eventually } from '../harness/eventually';
import { signInUsers } from '../harness/user-tokens';
import { dkimKey, EICAR, GTUBE, plainMessage, senderRecords, signed, withAttachment, zip } from '../harness/protection-fixtures';
import { sendOne, startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

const partner = dkimKey('partner.test');
let dns: DnsStandIn;
let rspamd: Awaited<ReturnType<typeof startTestRspamd>>;
let clamd: TestClamd;
let engines: ProtectionEngines;

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann Archer', mail: 'ann@acme.test' },
    { id: 'u-bob', displayName: 'Bob Baker', mail: 'bob@acme.test' },
    { id: 'u-cy', displayName: 'Cy Cole', mail: 'cy@acme.test' },
  ],
  groups: [{ id: 'g-pilot', displayName: 'Pilot', mail: 'pilot@acme.test', mailEnabled: true, members: ['u-bob', 'u-cy'] }],
};

beforeAll(async () => {
  dns = await startDnsStandIn({ ...senderRecords(partner, '127.0.0.1'), 'acme.test': ['v=spf1 -all'], '_dmarc.acme.test': ['v=DMARC1; p=reject'] });
  [rspamd, clamd] = await Promise.all([startTestRspamd(dns.server), startTestClamd()]);
  engines = { rspamd: rspamd.client, clamd: clamd.client, rspamdSource: 'external', stop: async () => {} };
}, 300_000);

const ctx = useLifeboat({
  directories: [acme],
  services: {
    protection: {
      defaultMode: 'protect',
      engines: () => engines,
      get dnsServers() {
        return [dns.server];
      },
    },
  },
});

let admin: request.Agent;
let primary: SmtpPeer;
let receiver: ReturnType<typeof createReceiver>;
let port: number;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  admin = await ctx.signIn('acme', 'fullAdministrator', 'secadmin@acme.test');
  primary = await startPeer('accept');
  receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent'), maxMessageBytes: 1024 * 1024 });
  port = await receiver.listen(0, '127.0.0.1');
  await admin
    .put('/api/mail/settings')
    .send({ primaryServers: [{ host: '127.0.0.1', port: primary.port }], relay: null })
    .expect(200);
  // Protect: spam is quarantined (the default policy tags it).
  await admin
    .put('/api/protection/policies/default:acme')
    .send({ name: 'Default policy', mode: 'protect', actions: { spam: 'quarantine' } })
    .expect(200);
  Object.assign(
    tokens,
    await signInUsers(ctx.app, admin, [
      ['u-ann', 'ann@acme.test'],
      ['u-bob', 'bob@acme.test'],
      ['u-cy', 'cy@acme.test'],
    ]),
  );
}, 60_000);

afterAll(async () => {
  await receiver?.close();
  await ctx.services.mail.worker.stop();
  await primary?.close();
  await Promise.all([rspamd?.close(), clamd?.close()]);
  await dns?.close();
});

async function send(mailFrom: string, to: string[], raw: Buffer): Promise<string> {
  const res = await sendOne(port, { from: mailFrom, to, message: raw.toString('utf8') });
  const id = /queued as (\S+)/.exec(res.data ?? '')?.[1];
  if (!id) throw new Error(`not accepted: ${JSON.stringify(res)}`);
  return id;
}

async function placed(): Promise<void> {
  await eventually(async () => expect(ctx.services.mail.unrouted()).toBe(0), 60_000);
  await ctx.services.mail.worker.tick();
}

const read = (user: string, id: string) => request(ctx.app).get(`/api/me/mailbox/inbox:${id}`).set('Authorization', `Bearer ${tokens[user]}`);
const deliveredTo = (recipient: string, marker: string) => primary.received.filter((m) => m.to.includes(recipient) && m.raw.includes(marker));
const quarantined = async (messageId: string) =>
  (await admin.get('/api/quarantine').expect(200)).body.items.filter((e: { messageId: string }) => e.messageId === messageId) as {
    id: string;
    recipient: string;
    verdict: string;
  }[];

const fromPartner = (subject: string, to: string, body?: string) => signed(plainMessage({ from: 'News <news@partner.test>', to, subject, body }), partner);

describe('real engines on the mail path', () => {
  test('Protect: GTUBE is quarantined; ordinary signed mail is delivered with its rspamd score', async () => {
    const spam = await send('news@partner.test', ['ann@acme.test'], await fromPartner('Cheap watches', 'ann@acme.test', `Buy now\r\n${GTUBE}\r\n`));
    const clean = await send('news@partner.test', ['ann@acme.test'], await fromPartner('Meeting notes', 'ann@acme.test'));
    await placed();
    expect(await quarantined(spam)).toEqual([expect.objectContaining({ recipient: 'ann@acme.test', verdict: 'spam' })]);
    expect((await read('u-ann', spam)).status).toBe(404);
    expect(deliveredTo('ann@acme.test', 'Cheap watches')).toHaveLength(0);
    const verdict = await ctx.services.protection.verdicts.get('acme', spam);
    expect(verdict?.evidence.rspamd?.symbols.map((s) => s.name)).toContain('GTUBE');

    const message = (await read('u-ann', clean).expect(200)).body;
    expect(message.security).toMatchObject({
      verdict: 'clean',
      action: 'deliver',
      auth: { spf: 'pass', dkim: 'pass', dmarc: 'pass' },
      score: expect.any(Number),
    });
    expect(deliveredTo('ann@acme.test', 'Meeting notes')).toHaveLength(1);
  });

  test('EICAR inside a zip is quarantined as malware; a forged tenant From as spoof', async () => {
    const eicar = withAttachment(
      { from: 'Billing <billing@partner.test>', to: 'bob@acme.test', subject: 'Your invoice' },
      { filename: 'invoice.zip', contentType: 'application/zip', content: zip({ 'invoice.com': Buffer.from(EICAR) }) },
    );
    const malware = await send('billing@partner.test', ['bob@acme.test'], await signed(eicar, partner));
    const spoof = await send(
      'ann@acme.test',
      ['bob@acme.test'],
      Buffer.from(plainMessage({ from: 'Ann Archer <ann@acme.test>', to: 'bob@acme.test', subject: 'Wire the money today' })),
    );
    await placed();
    expect(await quarantined(malware)).toEqual([expect.objectContaining({ recipient: 'bob@acme.test', verdict: 'malware' })]);
    expect((await ctx.services.protection.verdicts.get('acme', malware))?.evidence.clamd?.signature).toMatch(/Eicar/);
    expect(await quarantined(spoof)).toEqual([expect.objectContaining({ recipient: 'bob@acme.test', verdict: 'spoof' })]);
    expect(deliveredTo('bob@acme.test', 'Your invoice')).toHaveLength(0);
    expect(deliveredTo('bob@acme.test', 'Wire the money today')).toHaveLength(0);
  });

  test('a Monitor policy for one group (with an exception), Protect for the rest: GTUBE delivered as spam only to the monitored', async () => {
    const policy = (
      await admin
        .post('/api/protection/policies')
        .send({
          name: 'Pilot',
          mode: 'monitor',
          priority: 10,
          recipients: { include: [{ type: 'group', value: 'g-pilot' }], exclude: [{ type: 'address', value: 'cy@acme.test' }] },
        })
        .expect(201)
    ).body;
    try {
      const id = await send(
        'news@partner.test',
        ['ann@acme.test', 'bob@acme.test', 'cy@acme.test'],
        await fromPartner('Monitored spam', 'team@acme.test', `Offer\r\n${GTUBE}\r\n`),
      );
      await placed();
      expect((await read('u-bob', id).expect(200)).body.security).toMatchObject({ verdict: 'spam', action: 'deliver', policyId: policy.id });
      expect(deliveredTo('bob@acme.test', 'Monitored spam')).toHaveLength(1);
      expect((await read('u-ann', id)).status).toBe(404);
      expect((await read('u-cy', id)).status).toBe(404);
      expect((await quarantined(id)).map((e) => e.recipient).sort()).toEqual(['ann@acme.test', 'cy@acme.test']);
    } finally {
      await admin.delete(`/api/protection/policies/${policy.id}`).expect(204);
    }
  });

  test('the tenant in Monitor: GTUBE is delivered, its verdict spam on the copy', async () => {
    await admin
      .put('/api/protection/policies/default:acme')
      .send({ name: 'Default policy', mode: 'monitor', actions: { spam: 'quarantine' } })
      .expect(200);
    try {
      const id = await send('news@partner.test', ['cy@acme.test'], await fromPartner('Spam under monitor', 'cy@acme.test', `Offer\r\n${GTUBE}\r\n`));
      await placed();
      expect((await read('u-cy', id).expect(200)).body.security).toMatchObject({
        verdict: 'spam',
        action: 'deliver',
        reasons: [expect.stringContaining('rspamd')],
      });
      expect(deliveredTo('cy@acme.test', 'Spam under monitor')).toHaveLength(1);
    } finally {
      await admin
        .put('/api/protection/policies/default:acme')
        .send({ name: 'Default policy', mode: 'protect', actions: { spam: 'quarantine' } })
        .expect(200);
    }
  });

  test('release: rescanned by the engines, then delivered exactly once', async () => {
    const id = await send('news@partner.test', ['cy@acme.test'], await fromPartner('Release me', 'cy@acme.test', `Hello\r\n${GTUBE}\r\n`));
    await placed();
    const [entry] = await quarantined(id);
    const released = (
      await admin
        .post(`/api/quarantine/${encodeURIComponent(entry!.id)}/release`)
        .send({ reason: 'a newsletter the user wants' })
        .expect(200)
    ).body;
    expect(released).toMatchObject({ status: 'released', rescan: { verdict: 'spam', evidence: { engines: { rspamd: 'ok', clamd: 'ok' } } } });
    await admin
      .post(`/api/quarantine/${encodeURIComponent(entry!.id)}/release`)
      .send({ reason: 'twice' })
      .expect(409);
    await ctx.services.mail.worker.tick();
    await ctx.services.mail.worker.tick();
    expect((await read('u-cy', id).expect(200)).body.security).toMatchObject({ verdict: 'spam', releasedBy: 'secadmin@acme.test' });
    expect(deliveredTo('cy@acme.test', 'Release me')).toHaveLength(1);
  });
});
