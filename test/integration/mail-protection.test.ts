/**
 * Protection on the mail path, through Lifeboat's real SMTP receiver: every accepted message is judged
 * between the 250 and placement, and routing acts per recipient (deliver, tag, quarantine, hold for the
 * scanner). Sender authentication is real (mailauth against the DNS stand-in, DKIM-signed messages);
 * content scanning is off here (test/integration/mail-protection-engines.test.ts runs rspamd and clamd).
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { createLogger } from '../../server/log';
import { createRoutingJournal } from '../../server/mail/journal';
import { mailModels } from '../../server/mail/model';
import { createReceiver } from '../../server/mail/receiver';
import { storeMessage } from '../../server/mail/store';
import { createServices } from '../../server/services';
import { ENGINES_OFF, NO_ENGINES, type ProtectionEngines } from '../../server/protection/engines';
import { testServiceOptions, useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { signInUsers } from '../harness/user-tokens';
import { dkimKey, plainMessage, senderRecords, signed } from '../harness/protection-fixtures';
import { sendOne, startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

const partner = dkimKey('partner.test');
let dns: DnsStandIn;
let engines: ProtectionEngines = ENGINES_OFF;
let clockShift = 0;
const DAY = 24 * 3600_000;

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann Archer', mail: 'ann@acme.test' },
    { id: 'u-bob', displayName: 'Bob Baker', mail: 'bob@acme.test' },
    { id: 'u-cy', displayName: 'Cy Cole', mail: 'cy@acme.test' },
  ],
  groups: [{ id: 'g-pilot', displayName: 'Pilot', mail: 'pilot@acme.test', mailEnabled: true, members: ['u-bob', 'u-cy'] }],
};

// Before the app is built: the services read the stand-in's address when they are composed.
beforeAll(async () => {
  dns = await startDnsStandIn({ ...senderRecords(partner, '127.0.0.1'), 'acme.test': ['v=spf1 -all'], '_dmarc.acme.test': ['v=DMARC1; p=reject'] });
});

const protectionOptions = {
  defaultMode: 'protect' as const,
  engines: () => engines,
  get dnsServers() {
    return [dns.server];
  },
};
const ctx = useLifeboat({
  directories: [acme],
  now: () => new Date(Date.now() + clockShift),
  services: { mail: { retry: { baseDelayMs: 1, maxDelayMs: 1, maxAgeMs: 24 * 3600_000 } }, protection: protectionOptions },
});

let admin: request.Agent;
let primary: SmtpPeer;
let relay: SmtpPeer;
let receiver: ReturnType<typeof createReceiver>;
let port: number;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  admin = await ctx.signIn('acme', 'fullAdministrator', 'secadmin@acme.test');
  primary = await startPeer('accept');
  relay = await startPeer('accept');
  receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent'), maxMessageBytes: 1024 * 1024 });
  port = await receiver.listen(0, '127.0.0.1');
  await admin
    .put('/api/mail/settings')
    .send({ primaryServers: [{ host: '127.0.0.1', port: primary.port }], relay: { host: '127.0.0.1', port: relay.port } })
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
  await relay?.close();
  await dns?.close();
});

/** Sends through the receiver; returns the message id the 250 names. */
async function send(mailFrom: string, to: string[], raw: Buffer): Promise<string> {
  const res = await sendOne(port, { from: mailFrom, to, message: raw.toString('utf8') });
  const id = /queued as (\S+)/.exec(res.data ?? '')?.[1];
  if (!id) throw new Error(`not accepted: ${JSON.stringify(res)}`);
  return id;
}

async function routed(): Promise<void> {
  await eventually(async () => expect(ctx.services.mail.unrouted()).toBe(0));
}

const read = (user: string, id: string) => request(ctx.app).get(`/api/me/mailbox/inbox:${id}`).set('Authorization', `Bearer ${tokens[user]}`);
const list = async (user: string) =>
  (await request(ctx.app).get('/api/me/mailbox?folder=inbox').set('Authorization', `Bearer ${tokens[user]}`).expect(200)).body.items as {
    id: string;
    subject: string;
    security: { verdict: string | null; action: string } | null;
  }[];
const deliveredTo = (recipient: string, marker: string) => primary.received.filter((m) => m.to.includes(recipient) && m.raw.includes(marker));

const partnerMail = (subject: string, extra: { from?: string; to?: string } = {}) =>
  signed(plainMessage({ from: extra.from ?? 'News <news@partner.test>', to: extra.to ?? 'ann@acme.test', subject }), partner);
const forged = (subject: string, to = 'ann@acme.test') => Buffer.from(plainMessage({ from: 'Ann Archer <ann@acme.test>', to, subject }));

describe('judged between the 250 and placement', () => {
  test('an authenticated message is delivered and carries its security; a forged tenant From is quarantined', async () => {
    const clean = await send('news@partner.test', ['ann@acme.test'], await partnerMail('Clean partner news'));
    const spoof = await send('ann@acme.test', ['ann@acme.test'], forged('Forged wire transfer'));
    await routed();
    await ctx.services.mail.worker.tick();

    const message = (await read('u-ann', clean).then((r) => r.body)) as { security: unknown };
    expect(message.security).toEqual({
      verdict: 'clean',
      action: 'deliver',
      policyId: 'default:acme',
      auth: { spf: 'pass', dkim: 'pass', dmarc: 'pass', arc: 'none' },
      score: null,
      reasons: [],
    });
    expect((await list('u-ann')).find((m) => m.id === `inbox:${clean}`)?.security).toEqual({ verdict: 'clean', action: 'deliver' });
    expect(deliveredTo('ann@acme.test', 'Clean partner news')).toHaveLength(1);

    // The forgery: no mailbox copy, no onward delivery, one quarantine entry with the verdict.
    expect((await read('u-ann', spoof)).status).toBe(404);
    expect(deliveredTo('ann@acme.test', 'Forged wire transfer')).toHaveLength(0);
    const held = (await admin.get('/api/quarantine?verdict=spoof').expect(200)).body.items;
    expect(held.filter((e: { messageId: string }) => e.messageId === spoof)).toEqual([
      expect.objectContaining({ recipient: 'ann@acme.test', verdict: 'spoof', subject: 'Forged wire transfer', status: 'held' }),
    ]);
    const verdicts = await ctx.conn.collection('protectionverdicts').countDocuments({ messageId: { $in: [clean, spoof] } });
    expect(verdicts).toBe(2);
  });

  test('tagged: the copy is flagged and its subject marked; the onward copy carries the prefix and the marks', async () => {
    // A partner using a directory user's display name: impersonation, which the default policy tags.
    const id = await send(
      'news@partner.test',
      ['bob@acme.test'],
      await partnerMail('Gift cards please', { from: 'Ann Archer <news@partner.test>', to: 'bob@acme.test' }),
    );
    await routed();
    await ctx.services.mail.worker.tick();
    const message = (await read('u-bob', id).expect(200)).body;
    expect(message.subject).toBe('[IMPERSONATION] Gift cards please');
    expect(message.security).toMatchObject({ verdict: 'impersonation', action: 'tag', reasons: [expect.stringContaining('Ann Archer')] });
    const [out] = deliveredTo('bob@acme.test', 'Gift cards please');
    expect(out!.raw).toMatch(/^Subject: \[IMPERSONATION\] Gift cards please$/m);
    expect(out!.raw).toMatch(/^X-Lifeboat-Verdict: impersonation$/m);
    expect(out!.raw).toMatch(/^Authentication-Results: lifeboat\.local; .*dkim=pass/m);
    expect(deliveredTo('bob@acme.test', 'Gift cards please')).toHaveLength(1);
  });

  test('a Monitor policy for a group (with an exception) delivers what Protect quarantines for the rest', async () => {
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
      const id = await send('ann@acme.test', ['ann@acme.test', 'bob@acme.test', 'cy@acme.test'], forged('Monitor versus protect', 'everyone@acme.test'));
      await routed();
      await ctx.services.mail.worker.tick();
      // bob@ is in the pilot: monitored, delivered with the verdict recorded.
      expect((await read('u-bob', id).expect(200)).body.security).toMatchObject({ verdict: 'spoof', action: 'deliver', policyId: policy.id });
      expect(deliveredTo('bob@acme.test', 'Monitor versus protect')).toHaveLength(1);
      // ann@ (not in the pilot) and cy@ (the exception) fall to the default: quarantined.
      await read('u-ann', id).then((r) => expect(r.status).toBe(404));
      await read('u-cy', id).then((r) => expect(r.status).toBe(404));
      expect(primary.received.filter((m) => m.raw.includes('Monitor versus protect'))).toHaveLength(1);
      const held = (await admin.get('/api/quarantine').expect(200)).body.items.filter((e: { messageId: string }) => e.messageId === id);
      expect(held.map((e: { recipient: string }) => e.recipient).sort()).toEqual(['ann@acme.test', 'cy@acme.test']);
    } finally {
      await admin.delete(`/api/protection/policies/${policy.id}`).expect(204);
    }
  });

  test('scanner down: held, placed once the scanner answers; when the hold runs out, delivered tagged unscanned', async () => {
    engines = NO_ENGINES; // rspamd "unavailable": the default policy holds up to 30 minutes
    try {
      const back = await send('news@partner.test', ['cy@acme.test'], await partnerMail('Waits for the scanner', { to: 'cy@acme.test' }));
      const late = await send('news@partner.test', ['cy@acme.test'], await partnerMail('Scanner never came back', { to: 'cy@acme.test' }));
      await routed();
      expect(await ctx.services.mail.models.scanHolds.countDocuments({ _id: { $in: [`acme:${back}`, `acme:${late}`] } })).toBe(2);
      await read('u-cy', back).then((r) => expect(r.status).toBe(404));
      expect(await ctx.services.protection.verdicts.get('acme', back)).toBeNull();

      // A minute later the scanner is back for the first (judged clean, delivered)...
      clockShift = 61_000;
      engines = ENGINES_OFF;
      await ctx.services.mail.models.scanHolds.updateOne({ _id: `acme:${late}` }, { $set: { nextAt: new Date(Date.now() + 3600_000) } });
      expect(await ctx.services.mail.rejudgeHeld()).toBe(1);
      expect((await read('u-cy', back).expect(200)).body.security).toMatchObject({ verdict: 'clean', action: 'deliver' });

      // ...the second's hold runs out with the scanner still down: delivered tagged, `unscanned` stored.
      engines = NO_ENGINES;
      clockShift = 31 * 60_000;
      await ctx.services.mail.models.scanHolds.updateOne({ _id: `acme:${late}` }, { $set: { nextAt: new Date(0) } });
      expect(await ctx.services.mail.rejudgeHeld()).toBe(1);
      const tagged = (await read('u-cy', late).expect(200)).body;
      expect(tagged).toMatchObject({ subject: '[UNSCANNED] Scanner never came back', security: { verdict: 'unscanned', action: 'tag' } });
      expect((await ctx.services.protection.verdicts.get('acme', late))?.verdict).toBe('unscanned');
      expect(await ctx.services.mail.models.scanHolds.countDocuments({})).toBe(0);
      await ctx.services.mail.worker.tick();
      expect(deliveredTo('cy@acme.test', 'Waits for the scanner')).toHaveLength(1);
      expect(deliveredTo('cy@acme.test', 'Scanner never came back')).toHaveLength(1);
    } finally {
      engines = ENGINES_OFF;
      clockShift = 0;
    }
  });
});

describe('exactly once', () => {
  test('two processes recovering the same stored message at once: one verdict, one quarantine entry, nothing placed', async () => {
    // Stored by a process that died before routing it: its journal segment is foreign to both below.
    const dead = createRoutingJournal(ctx.conn.db!, createLogger('silent'));
    const id = randomUUID();
    await storeMessage(
      mailModels(ctx.conn),
      {
        tenantId: 'acme',
        messageId: id,
        direction: 'inbound',
        mailFrom: 'ann@acme.test',
        recipients: [{ address: 'bob@acme.test', kind: 'user', id: 'u-bob' }],
        raw: forged('Recovered by two', 'bob@acme.test'),
        remoteAddress: '127.0.0.1',
        helo: 'mail.example',
        receivedAt: new Date(),
      },
      dead,
    );
    const other = createServices(ctx.conn, testServiceOptions({ protection: protectionOptions }));
    try {
      await Promise.all([ctx.services.mail.recover(), other.mail.recover()]);
    } finally {
      await other.mail.stop(0);
    }
    expect(await ctx.conn.collection('protectionverdicts').countDocuments({ messageId: id })).toBe(1);
    expect(await ctx.conn.collection('quarantineentries').countDocuments({ messageId: id })).toBe(1);
    expect(await ctx.services.mail.models.mailbox.countDocuments({ messageKey: `acme:${id}` })).toBe(0);
    expect(await ctx.services.mail.models.queue.countDocuments({ messageKey: `acme:${id}` })).toBe(0);
  });

  test('recovered after the hold would have run out (a long outage, the scanner down): delivered tagged at once', async () => {
    const dead = createRoutingJournal(ctx.conn.db!, createLogger('silent'));
    const id = randomUUID();
    await storeMessage(
      mailModels(ctx.conn),
      {
        tenantId: 'acme',
        messageId: id,
        direction: 'inbound',
        mailFrom: 'news@partner.test',
        recipients: [{ address: 'bob@acme.test', kind: 'user', id: 'u-bob' }],
        raw: await partnerMail('Stored before a long outage', { to: 'bob@acme.test' }),
        remoteAddress: '127.0.0.1',
        helo: 'mail.partner.test',
        receivedAt: new Date(Date.now() - 40 * 60_000),
      },
      dead,
    );
    engines = NO_ENGINES;
    try {
      await ctx.services.mail.recover();
    } finally {
      engines = ENGINES_OFF;
    }
    expect((await read('u-bob', id).expect(200)).body).toMatchObject({
      subject: '[UNSCANNED] Stored before a long outage',
      security: { verdict: 'unscanned', action: 'tag' },
    });
    expect(await ctx.services.mail.models.scanHolds.countDocuments({ _id: `acme:${id}` })).toBe(0);
  });

  test('Disabled: not judged, delivered as before (no verdict stored)', async () => {
    await admin.put('/api/protection/policies/default:acme').send({ name: 'Default policy', mode: 'disabled' }).expect(200);
    try {
      const id = await send('ann@acme.test', ['bob@acme.test'], forged('Not judged at all', 'bob@acme.test'));
      await routed();
      expect((await read('u-bob', id).expect(200)).body.security).toEqual({
        verdict: null,
        action: 'deliver',
        policyId: 'default:acme',
        auth: null,
        score: null,
        reasons: [],
      });
      expect(await ctx.services.protection.verdicts.get('acme', id)).toBeNull();
    } finally {
      await admin.put('/api/protection/policies/default:acme').send({ name: 'Default policy', mode: 'protect' }).expect(200);
    }
  });
});

describe('release from the quarantine', () => {
  test('rescanned, placed in the mailbox and delivered onward exactly once, even when delivery is asked twice', async () => {
    const id = await send('ann@acme.test', ['cy@acme.test'], forged('Released after review', 'cy@acme.test'));
    await routed();
    const qid = `acme:${id}:cy@acme.test`;
    const released = (
      await admin
        .post(`/api/quarantine/${encodeURIComponent(qid)}/release`)
        .send({ reason: 'the user confirmed it' })
        .expect(200)
    ).body;
    expect(released).toMatchObject({ status: 'released', rescan: { verdict: 'spoof' } });
    // A retry of the same release (the quarantine calls it again after a failure): nothing placed twice.
    const copy = {
      releaseId: qid,
      tenantId: 'acme',
      messageId: id,
      recipient: 'cy@acme.test',
      userId: 'u-cy',
      releasedBy: 'secadmin@acme.test',
      rescan: released.rescan,
    };
    await Promise.all([ctx.services.mail.protectionSide().deliverReleased(copy), ctx.services.mail.protectionSide().deliverReleased(copy)]);
    await ctx.services.mail.worker.tick();
    await ctx.services.mail.worker.tick();

    const message = (await read('u-cy', id).expect(200)).body;
    expect(message.security).toMatchObject({ verdict: 'spoof', action: 'deliver', releasedBy: 'secadmin@acme.test' });
    expect((await list('u-cy')).filter((m) => m.id === `inbox:${id}`)).toHaveLength(1);
    expect(deliveredTo('cy@acme.test', 'Released after review')).toHaveLength(1);
    await admin
      .post(`/api/quarantine/${encodeURIComponent(qid)}/release`)
      .send({ reason: 'again' })
      .expect(409);
  });
});

describe('no backscatter', () => {
  test('a failed delivery bounces to an authenticated sender only; an unauthenticated one is logged and dropped', async () => {
    primary.mode = 'reject';
    try {
      await send('news@partner.test', ['ann@acme.test'], await partnerMail('Bounce me back'));
      await send(
        'victim@elsewhere.test',
        ['ann@acme.test'],
        Buffer.from(plainMessage({ from: 'victim@elsewhere.test', to: 'ann@acme.test', subject: 'Not from the victim' })),
      );
      await routed();
      await ctx.services.mail.worker.tick();
    } finally {
      primary.mode = 'accept';
    }
    await ctx.services.mail.worker.tick(); // the bounce, through the relay
    const bounces = relay.received.filter((m) => m.from === '');
    expect(bounces.map((m) => m.to)).toEqual([['news@partner.test']]);
    expect(ctx.logs()).toMatch(/no bounce: the sender is not authenticated/);
  });
});

describe('retention', () => {
  test('quarantined mail outlives the tenant’s mail retention until the quarantine retention, then both go', async () => {
    const kept = await send('ann@acme.test', ['ann@acme.test'], forged('Kept in quarantine'));
    const plain = await send('news@partner.test', ['ann@acme.test'], await partnerMail('Ordinary mail'));
    await routed();
    await ctx.services.mail.worker.tick();
    const messages = ctx.services.mail.models.messages;
    const entryId = `acme:${kept}:ann@acme.test`;
    try {
      clockShift = 6 * DAY; // past the tenant's 5-day mail retention
      await ctx.services.mail.sweep();
      expect(await messages.exists({ _id: `acme:${plain}` })).toBeNull();
      expect(await messages.exists({ _id: `acme:${kept}` })).toBeTruthy();
      expect((await ctx.services.protection.quarantine.get('acme', entryId)).preview).toMatchObject({ subject: 'Kept in quarantine' });
      // The verdicts go with the mail (they name sender, subject and recipients); the quarantined one stays.
      expect(await ctx.services.protection.verdicts.get('acme', plain)).toBeNull();
      expect(await ctx.services.protection.verdicts.get('acme', kept)).toMatchObject({ verdict: 'spoof' });

      clockShift = 31 * DAY; // past the quarantine retention (30 days)
      expect(await ctx.services.protection.quarantine.sweep()).toBeGreaterThan(0);
      await ctx.services.mail.sweep();
      expect(await messages.exists({ _id: `acme:${kept}` })).toBeNull();
      expect(await ctx.services.protection.verdicts.get('acme', kept)).toBeNull();
      await expect(ctx.services.protection.quarantine.get('acme', entryId)).rejects.toMatchObject({ status: 404 });
    } finally {
      clockShift = 0;
    }
  });

  test('an ended event’s report still counts its mail and threats after the sweeps removed them', async () => {
    const created = await admin
      .post('/api/events')
      .send({ description: 'Outage long ago', affectedGroupId: 'g-pilot', timeZone: 'UTC', start: new Date(Date.now() - 60_000).toISOString(), end: null })
      .expect(201);
    const eventId = created.body.id as string;
    await send('bob@acme.test', ['bob@acme.test'], forged('Forged during the outage', 'bob@acme.test'));
    await send('news@partner.test', ['bob@acme.test'], await partnerMail('Partner news during the outage', { to: 'bob@acme.test' }));
    await routed();
    await ctx.services.mail.worker.tick();
    // Read while the event runs (a running event's report writes nothing down), then End Now.
    const during = (await admin.get(`/api/events/${eventId}/report`).expect(200)).body;
    expect(during.final).toBe(false);
    expect(during.mail.received).toBeGreaterThan(0);
    expect(during.protection).toMatchObject({ threats: 1, quarantined: 1, byVerdict: { spoof: 1 } });
    await admin.post(`/api/events/${eventId}/end`).send({}).expect(200);
    try {
      clockShift = 31 * DAY; // past the mail retention and the quarantine's: mail, copies and verdicts all go
      await ctx.services.protection.quarantine.sweep();
      await ctx.services.mail.sweep();
      expect(await ctx.services.protection.detections.threatFigures('acme', { from: new Date(0), to: new Date(Date.now() + clockShift) })).toMatchObject({
        threats: 0,
      });
    } finally {
      clockShift = 0; // the admin's session would have expired 31 days on
    }
    const after = (await admin.get(`/api/events/${eventId}/report`).expect(200)).body;
    expect(after.final).toBe(true);
    expect(after.mail.received).toBe(during.mail.received);
    expect(after.protection).toMatchObject({ threats: 1, quarantined: 1, byVerdict: { spoof: 1 } });
    expect(ctx.logs()).toMatch(/report figures of events kept before their mail is swept/);
  });
});
