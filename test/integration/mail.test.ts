/**
 * Mail continuity end to end with real SMTP peers on loopback: Lifeboat's receiver, a "primary
 * server" that accepts / defers / rejects / is down, and a relay for outbound mail and bounces.
 */
import { readFileSync } from 'node:fs';
import request from 'supertest';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { openConnection } from '../../server/db/connection';
import { createLogger } from '../../server/log';
import { mailboxIndexModels } from '../../server/mail/mailbox-index';
import { mailModels } from '../../server/mail/model';
import { createReceiver } from '../../server/mail/receiver';
import { createMailService } from '../../server/mail/service';
import { createRoutingJournal } from '../../server/mail/journal';
import { createBatchedStore, readRaw, storeMessage } from '../../server/mail/store';
import { eventually } from '../harness/eventually';
import { tenantDirectory, testDatabaseUri, useLifeboat } from '../harness/context';
import { deadPort, sendOne, simpleMessage, smtpSession, startPeer, type SmtpPeer } from '../harness/smtp-peers';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const LIMIT = 64 * 1024;

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann', mail: 'ann@acme.test' },
    { id: 'u-bob', displayName: 'Bob', mail: 'bob@acme.test' },
    { id: 'u-cy', displayName: 'Cy', mail: 'cy@acme.test' },
  ],
  groups: [
    { id: 'g-all', displayName: 'Everyone', mail: 'all@acme.test', groupTypes: ['Unified'], mailEnabled: true, members: ['g-sales', 'u-cy'] },
    { id: 'g-sales', displayName: 'Sales', mail: 'sales@acme.test', mailEnabled: true, members: ['u-ann'] },
    { id: 'g-team', displayName: 'Team', mail: 'team@acme.test', mailEnabled: true, members: ['u-ann', 'u-bob'] },
  ],
};

const ctx = useLifeboat({
  directories: [acme, tenantDirectory('beta')],
  services: { mail: { retry: { baseDelayMs: 1, maxDelayMs: 1, maxAgeMs: DAY }, releasePerSecond: 1000 } },
});
let admin: request.Agent;
let primary: SmtpPeer;
let relay: SmtpPeer;
let receiver: ReturnType<typeof createReceiver>;
let port: number;
const tokens: Record<string, string> = {};

async function userToken(id: string, email: string): Promise<string> {
  await admin
    .put(`/api/users/${id}/cloud-password`)
    .send({ password: `${id} password long` })
    .expect(204);
  const res = await request(ctx.app)
    .post('/api/user-auth/login')
    .send({ email, password: `${id} password long` })
    .expect(200);
  return res.body.token as string;
}

const inbox = async (who: string, folder = 'inbox') =>
  (await request(ctx.app).get(`/api/me/mailbox?folder=${folder}`).set('Authorization', `Bearer ${tokens[who]}`).expect(200)).body.items as {
    id: string;
    subject: string;
    viaGroup: string | null;
    hasAttachments: boolean;
    preview: string;
  }[];
const status = async () =>
  (await admin.get('/api/mail/status').expect(200)).body as {
    queued: number;
    held: number;
    release: { state: string; released: number; total: number } | null;
  };
const subjectsAt = (peer: SmtpPeer) => peer.received.map((m) => /^Subject: (.*)$/m.exec(m.raw)?.[1]);

async function send(to: string[], subject: string, extra: { from?: string; body?: string } = {}) {
  const from = extra.from ?? 'someone@sender.example';
  return sendOne(port, { from, to, message: simpleMessage({ from, to: to.join(', '), subject, body: extra.body }) });
}

/** The mail service of another process on the same database (its own worker, its own retry policy). */
function anotherProcess(retry?: { baseDelayMs: number; maxDelayMs: number; maxAgeMs: number }, options: { routeMemoryBytes?: number } = {}) {
  return createMailService({
    models: mailModels(ctx.conn),
    tenants: ctx.services.tenants,
    directory: ctx.services.directory,
    events: ctx.services.events.coverage,
    audit: ctx.services.audit,
    logger: createLogger('silent'),
    retry,
    ...options,
  });
}

/** Every stored message record: the messages collection plus records still only in the routing journal. */
async function storedMessages(): Promise<{ _id: string; size?: number }[]> {
  const db = ctx.conn.db!;
  const journal = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => n.startsWith('mail_pending_'));
  const all = await ctx.services.mail.models.messages.find({}).lean<{ _id: string; size?: number }[]>();
  for (const name of journal)
    all.push(
      ...(await db
        .collection<{ _id: string; size?: number }>(name)
        .find({ size: { $exists: true } })
        .toArray()),
    );
  return all;
}

/** Waits until every accepted message is routed, then delivers whatever is due. */
async function routedThenDeliver() {
  await eventually(async () => expect(await ctx.services.mail.unrouted()).toBe(0));
  await ctx.services.mail.worker.tick();
}

beforeAll(async () => {
  admin = await ctx.signIn('acme', 'basicAdministrator', 'mailadmin@acme.test');
  primary = await startPeer('accept');
  relay = await startPeer('accept');
  receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent'), maxMessageBytes: LIMIT });
  port = await receiver.listen(0, '127.0.0.1');
  await admin
    .put('/api/mail/settings')
    .send({ primaryServers: [{ host: '127.0.0.1', port: primary.port }], relay: { host: '127.0.0.1', port: relay.port } })
    .expect(200);
  tokens.ann = await userToken('u-ann', 'ann@acme.test');
  tokens.bob = await userToken('u-bob', 'bob@acme.test');
  tokens.cy = await userToken('u-cy', 'cy@acme.test');
});

afterAll(async () => {
  await receiver?.close();
  await ctx.services.mail.worker.stop();
  await primary?.close();
  await relay?.close();
});

describe('settings', () => {
  it('are validated, audited and readable; only basic administrators change them', async () => {
    const bad = await admin
      .put('/api/mail/settings')
      .send({ primaryServers: [{ host: 'bad host!', port: 70000 }], relay: null, retentionDays: 0 })
      .expect(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['primaryServers.0.host', 'primaryServers.0.port', 'retentionDays']);
    const reader = await ctx.signIn('acme', 'readOnly');
    await reader.put('/api/mail/settings').send({ primaryServers: [], relay: null }).expect(403);
    const got = await reader.get('/api/mail/settings').expect(200);
    expect(got.body).toEqual({
      primaryServers: [{ host: '127.0.0.1', port: primary.port }],
      relay: { host: '127.0.0.1', port: relay.port },
      retentionDays: 5,
      verifyTls: true,
    });
    const audit = await admin.get('/api/audit?category=mail').expect(200);
    expect(audit.body.items[0]).toMatchObject({ action: 'mail.settings.updated', after: { relay: { port: relay.port } } });
    // Another tenant sees its own (empty) settings.
    const beta = await ctx.signIn('beta', 'readOnly');
    expect((await beta.get('/api/mail/settings').expect(200)).body).toEqual({ primaryServers: [], relay: null, retentionDays: 5, verifyTls: true });
  });
});

describe('SMTP receiver', () => {
  it('is not an open relay and refuses unknown local recipients; it offers no AUTH', async () => {
    const s = await smtpSession(port);
    expect(s.greeting).toMatch(/^220 /);
    const ehlo = await s.command('EHLO sender.example');
    expect(ehlo).toMatch(/^250 /);
    expect(await s.command('AUTH PLAIN AGJvYgBwYXNzd29yZA==')).toMatch(/^5/);
    expect(await s.command('MAIL FROM:<spammer@sender.example>')).toMatch(/^250 /);
    expect(await s.command('RCPT TO:<victim@elsewhere.example>')).toMatch(/^550 5\.7\.1 /);
    expect(await s.command('RCPT TO:<nobody@acme.test>')).toMatch(/^550 5\.1\.1 /);
    expect(await s.data(simpleMessage({ from: 'a@b.example', to: 'victim@elsewhere.example', subject: 'relay?' }))).toMatch(/^5\d\d /);
    await s.quit();
    expect(await storedMessages()).toEqual([]);
  });

  it('accepts a user added to the directory right after the reload, and refuses one removed', async () => {
    const rcpt = async (address: string) => {
      const s = await smtpSession(port);
      await s.command('EHLO sender.example');
      await s.command('MAIL FROM:<someone@sender.example>');
      const reply = await s.command(`RCPT TO:<${address}>`);
      await s.quit();
      return reply;
    };
    // Refused (and that answer was cached) while Dan is not in the directory.
    expect(await rcpt('dan@acme.test')).toMatch(/^550 5\.1\.1 /);
    expect(await rcpt('cy@acme.test')).toMatch(/^250 /);
    const withDan = { ...acme, users: [...acme.users.filter((u) => u.id !== 'u-cy'), { id: 'u-dan', displayName: 'Dan', mail: 'dan@acme.test' }] };
    await ctx.services.directory.importDirectory(withDan);
    expect(await rcpt('dan@acme.test')).toMatch(/^250 /);
    expect(await rcpt('cy@acme.test')).toMatch(/^550 5\.1\.1 /);
    await ctx.services.directory.importDirectory(acme);
    expect(await rcpt('cy@acme.test')).toMatch(/^250 /);
  });

  it('offers STARTTLS only when a certificate is configured', async () => {
    expect(
      await (async () => {
        const s = await smtpSession(port);
        await s.command('EHLO sender.example');
        const text = s.lastReply();
        await s.quit();
        return text;
      })(),
    ).not.toMatch(/STARTTLS/);
    const tlsReceiver = createReceiver({
      mail: ctx.services.mail,
      logger: createLogger('silent'),
      tls: { cert: readFileSync('.cache/test-tls/cert.pem'), key: readFileSync('.cache/test-tls/key.pem') },
    });
    const tlsPort = await tlsReceiver.listen(0, '127.0.0.1');
    const s = await smtpSession(tlsPort);
    await s.command('EHLO sender.example');
    expect(s.lastReply()).toMatch(/250[- ]STARTTLS/);
    expect(s.lastReply()).not.toMatch(/AUTH/);
    await s.quit();
    await tlsReceiver.close();
  });

  it('refuses a message over the size limit with 552 and stores nothing', async () => {
    const big = simpleMessage({
      from: 'a@sender.example',
      to: 'ann@acme.test',
      subject: 'too big',
      body: 'x'
        .repeat(76)
        .concat('\r\n')
        .repeat(Math.ceil((LIMIT * 1.5) / 78)),
    });
    const res = await sendOne(port, { from: 'a@sender.example', to: ['ann@acme.test'], message: big });
    expect(res.data).toMatch(/^552 /);
    const s = await smtpSession(port);
    await s.command('EHLO sender.example');
    expect(await s.command(`MAIL FROM:<a@sender.example> SIZE=${LIMIT * 2}`)).toMatch(/^552 /);
    await s.quit();
    expect(await ctx.services.mail.models.messages.countDocuments({})).toBe(0);
  });

  it('stores before 250, copies to the continuity mailbox and delivers onward to the primary server', async () => {
    const res = await send(['ann@acme.test', 'BOB@acme.test'], 'plain routing');
    expect(res.rcpts.every((r) => r.startsWith('250'))).toBe(true);
    const id = /queued as (\S+)/.exec(res.data!)?.[1];
    // Durably stored before the 250: as the routing journal's entry (whole record, raw inline)...
    expect((await storedMessages()).find((m) => m._id === `acme:${id}`)).toMatchObject({
      tenantId: 'acme',
      mailFrom: 'someone@sender.example',
      size: expect.any(Number),
    });
    await routedThenDeliver();
    // ...and in the messages collection once routed.
    expect(await ctx.services.mail.models.messages.findById(`acme:${id}`).lean()).toMatchObject({ tenantId: 'acme', mailFrom: 'someone@sender.example' });
    expect((await inbox('ann')).map((m) => m.subject)).toContain('plain routing');
    expect((await inbox('bob')).map((m) => m.subject)).toContain('plain routing');
    const delivered = primary.received.filter((m) => m.raw.includes('Subject: plain routing'));
    expect(delivered.map((m) => m.to).sort()).toEqual([['ann@acme.test'], ['bob@acme.test']]);
    expect(delivered[0]!.from).toBe('someone@sender.example');
    expect((await status()).queued).toBe(0);
  });
});

describe('groups and events', () => {
  it('without an event a group address is delivered onward but not copied to members', async () => {
    await send(['team@acme.test'], 'team without event');
    await routedThenDeliver();
    expect((await inbox('ann')).map((m) => m.subject)).not.toContain('team without event');
    expect(primary.received.filter((m) => m.raw.includes('team without event')).map((m) => m.to)).toEqual([['team@acme.test']]);
  });

  it('with a current event that expands lists, members it covers get a copy marked via the group', async () => {
    const event = await admin
      .post('/api/events')
      .send({
        description: 'outage',
        affectedGroupId: 'g-all',
        timeZone: 'UTC',
        start: iso(Date.now() - HOUR),
        end: iso(Date.now() + HOUR),
        expandDistributionLists: true,
      })
      .expect(201);
    await send(['team@acme.test'], 'team during event');
    await routedThenDeliver();
    const ann = (await inbox('ann')).find((m) => m.subject === 'team during event');
    expect(ann?.viaGroup).toBe('Team <team@acme.test>');
    // Bob is on the list but not covered by the event (not in Everyone).
    expect((await inbox('bob')).map((m) => m.subject)).not.toContain('team during event');
    await admin.post(`/api/events/${event.body.id}/end`).expect(200);
  });

  it('holds mail for recipients covered by a pausing event, then releases it when the event ends', async () => {
    const event = await admin
      .post('/api/events')
      .send({
        description: 'pause',
        affectedGroupId: 'g-sales',
        timeZone: 'UTC',
        start: iso(Date.now() - HOUR),
        end: iso(Date.now() + HOUR),
        pauseInboundDelivery: true,
      })
      .expect(201);
    await send(['ann@acme.test', 'bob@acme.test'], 'during pause');
    await send(['ann@acme.test'], 'during pause 2');
    await routedThenDeliver();
    // Bob is not covered: delivered. Ann's two messages are held (and in her continuity mailbox).
    expect(primary.received.filter((m) => m.raw.includes('during pause')).map((m) => m.to)).toEqual([['bob@acme.test']]);
    expect((await status()).held).toBe(2);
    expect((await inbox('ann')).map((m) => m.subject)).toEqual(expect.arrayContaining(['during pause', 'during pause 2']));

    await admin.post(`/api/events/${event.body.id}/end`).expect(200);
    await eventually(async () => expect((await status()).release).toMatchObject({ state: 'done', total: 2, released: 2 }));
    expect((await status()).held).toBe(0);
    await ctx.services.mail.worker.tick();
    const toAnn = primary.received.filter((m) => m.raw.includes('during pause') && m.to[0] === 'ann@acme.test');
    expect(toAnn).toHaveLength(2);
  });

  it('releases held mail when the pausing event is edited to stop pausing', async () => {
    const event = await admin
      .post('/api/events')
      .send({
        description: 'pause then edit',
        affectedGroupId: 'g-sales',
        timeZone: 'UTC',
        start: iso(Date.now() - HOUR),
        end: iso(Date.now() + HOUR),
        pauseInboundDelivery: true,
      })
      .expect(201);
    await send(['ann@acme.test'], 'held until edited');
    await routedThenDeliver();
    expect((await status()).held).toBe(1);
    await admin.patch(`/api/events/${event.body.id}`).send({ pauseInboundDelivery: false }).expect(200);
    await eventually(async () => expect((await status()).held).toBe(0));
    await ctx.services.mail.worker.tick();
    expect(primary.received.filter((m) => m.raw.includes('held until edited')).map((m) => m.to)).toEqual([['ann@acme.test']]);
    await admin.post(`/api/events/${event.body.id}/end`).expect(200);
  });

  it('holds mail already queued when a pausing event starts (scheduler), delivers none of it, and releases it once at the end', async () => {
    primary.mode = 'defer';
    await send(['ann@acme.test', 'bob@acme.test'], 'queued before the pause');
    await routedThenDeliver();
    const m = ctx.services.mail.models;
    const annRow = await m.queue.findOne({ recipient: 'ann@acme.test' }).sort({ queuedAt: -1 }).lean();
    expect(annRow!.attempts.map((a) => a.outcome)).toEqual(['deferred']);
    // A pausing event for Sales (Ann) that starts a moment from now: the scheduler's start transition holds her row.
    const event = await admin
      .post('/api/events')
      .send({
        description: 'pause later',
        affectedGroupId: 'g-sales',
        timeZone: 'UTC',
        start: iso(Date.now() + 1000),
        end: iso(Date.now() + HOUR),
        pauseInboundDelivery: true,
      })
      .expect(201);
    expect(await m.held.findById(annRow!._id).lean()).toBeNull();
    ctx.services.scheduler.start();
    try {
      // Held row first, then the queue row removed.
      await eventually(async () => {
        expect(await m.held.findById(annRow!._id).lean()).toMatchObject({ recipient: 'ann@acme.test', eventIds: [event.body.id] });
        expect(await m.queue.findById(annRow!._id).lean()).toBeNull();
      });
      expect((await status()).held).toBe(1);
      // The primary accepts again: Bob's copy goes, Ann's stays held.
      primary.mode = 'accept';
      await new Promise((r) => setTimeout(r, 5));
      await ctx.services.mail.worker.tick();
      const delivered = () => primary.received.filter((x) => x.raw.includes('queued before the pause')).map((x) => x.to[0]);
      expect(delivered()).toEqual(['bob@acme.test']);
      const ended = Date.now();
      await admin.post(`/api/events/${event.body.id}/end`).expect(200);
      await eventually(async () => {
        const { release, held } = await status();
        expect(held).toBe(0);
        expect(release).toMatchObject({ state: 'done', total: 1, released: 1 });
        expect(Date.parse((release as unknown as { startedAt: string }).startedAt)).toBeGreaterThanOrEqual(ended);
      });
      await ctx.services.mail.worker.tick();
      expect(delivered().sort()).toEqual(['ann@acme.test', 'bob@acme.test']);
    } finally {
      primary.mode = 'accept';
      await ctx.services.scheduler.stop();
    }
  });

  it('leaves a row a worker holds the lease of to that worker; its next attempt holds it instead of delivering', async () => {
    primary.mode = 'defer';
    await send(['ann@acme.test'], 'leased at the pause');
    await routedThenDeliver();
    const m = ctx.services.mail.models;
    const row = await m.queue.findOne({ recipient: 'ann@acme.test' }).sort({ queuedAt: -1 }).lean();
    // Another worker is delivering this row right now.
    await m.leases.create({ _id: row!._id, owner: 'another-worker', expiresAt: new Date(Date.now() + 60_000) });
    const event = await admin
      .post('/api/events')
      .send({
        description: 'pause now',
        affectedGroupId: 'g-sales',
        timeZone: 'UTC',
        start: iso(Date.now() - 1000),
        end: iso(Date.now() + HOUR),
        pauseInboundDelivery: true,
      })
      .expect(201);
    await ctx.services.mail.release('acme');
    expect(await m.queue.findById(row!._id).lean()).not.toBeNull();
    expect(await m.held.findById(row!._id).lean()).toBeNull();
    // That worker's attempt was deferred; it lets go. The next attempt holds the row rather than delivering it.
    await m.leases.deleteOne({ _id: row!._id });
    primary.mode = 'accept';
    await new Promise((r) => setTimeout(r, 5));
    await ctx.services.mail.worker.tick();
    expect(await m.held.findById(row!._id).lean()).not.toBeNull();
    expect(primary.received.filter((x) => x.raw.includes('leased at the pause'))).toHaveLength(0);
    await admin.post(`/api/events/${event.body.id}/end`).expect(200);
    await eventually(async () => expect(await m.held.findById(row!._id).lean()).toBeNull());
    await ctx.services.mail.worker.tick();
    expect(primary.received.filter((x) => x.raw.includes('leased at the pause')).map((x) => x.to)).toEqual([['ann@acme.test']]);
  });

  it('shows the inbox since the event start during an event, including mail from before the event was created', async () => {
    await send(['cy@acme.test'], 'before the event existed');
    await routedThenDeliver();
    // Age one of Cy's messages to 3 days ago (as if received then), and another to 5 days ago.
    const m = ctx.services.mail.models;
    const old = await m.mailbox.findOne({ userId: 'u-cy', subject: 'before the event existed' }).lean();
    await m.mailbox.updateOne({ _id: old!._id }, { $set: { receivedAt: new Date(Date.now() - 3 * DAY) } });
    await send(['cy@acme.test'], 'very old');
    await routedThenDeliver();
    const veryOld = await m.mailbox.findOne({ userId: 'u-cy', subject: 'very old' }).lean();
    await m.mailbox.updateOne({ _id: veryOld!._id }, { $set: { receivedAt: new Date(Date.now() - 4.5 * DAY) } });
    // The entries were aged behind the service's back: the list's index (mailbox-index.ts) is told.
    await ctx.services.mail.reindex('acme');
    const event = await admin
      .post('/api/events')
      .send({ description: 'since 4 days', affectedGroupId: 'g-all', timeZone: 'UTC', start: iso(Date.now() - 4 * DAY), end: iso(Date.now() + HOUR) })
      .expect(201);
    const subjects = (await inbox('cy')).map((x) => x.subject);
    expect(subjects).toContain('before the event existed');
    expect(subjects).not.toContain('very old');
    await admin.post(`/api/events/${event.body.id}/end`).expect(200);
  });
});

describe('delivery queue', () => {
  it('retries a deferring primary with backoff, logging each reply, then delivers once it accepts', async () => {
    primary.mode = 'defer';
    await send(['cy@acme.test'], 'deferred mail');
    await routedThenDeliver();
    await new Promise((r) => setTimeout(r, 5));
    await ctx.services.mail.worker.tick();
    const row = await ctx.services.mail.models.queue.findOne({ recipient: 'cy@acme.test' }).lean();
    expect(row!.attempts.map((a) => a.outcome)).toEqual(['deferred', 'deferred']);
    expect(row!.attempts[0]!.reply).toMatch(/^451/);
    primary.mode = 'accept';
    await new Promise((r) => setTimeout(r, 5));
    await ctx.services.mail.worker.tick();
    const result = await ctx.services.mail.models.results.findById(row!._id).lean();
    expect(result).toMatchObject({ state: 'delivered' });
    expect(result!.attempts.map((a) => a.outcome)).toEqual(['deferred', 'deferred', 'delivered']);
    expect(primary.received.filter((m) => m.raw.includes('deferred mail'))).toHaveLength(1);
  });

  it('bounces to the sender through the relay when the primary rejects (5xx)', async () => {
    primary.mode = 'reject';
    await send(['cy@acme.test'], 'rejected mail', { from: 'writer@sender.example' });
    await routedThenDeliver();
    primary.mode = 'accept';
    await ctx.services.mail.worker.tick(); // the bounce
    const bounce = relay.received.find((m) => m.raw.includes('Undeliverable: message to cy@acme.test'));
    expect(bounce).toMatchObject({ from: '', to: ['writer@sender.example'] });
    expect(bounce!.raw).toMatch(/550/);
  });

  it('gives up after the maximum age while the primary is down, and bounces once', async () => {
    await admin
      .put('/api/mail/settings')
      .send({ primaryServers: [{ host: '127.0.0.1', port: await deadPort() }], relay: { host: '127.0.0.1', port: relay.port } })
      .expect(200);
    // A second service on the same database whose maximum age is zero (a worker in another process).
    const strict = anotherProcess({ baseDelayMs: 1, maxDelayMs: 1, maxAgeMs: 0 });
    await send(['cy@acme.test'], 'primary down', { from: 'patient@sender.example' });
    await eventually(async () => expect(await ctx.services.mail.unrouted()).toBe(0));
    await strict.worker.tick();
    const row = await ctx.services.mail.models.results.findOne({ recipient: 'cy@acme.test', state: 'failed' }).sort({ finishedAt: -1 }).lean();
    // Admins read this reply: one reason for every connection failure (issue 17: no port-scan oracle).
    expect(row!.attempts[0]!.reply).toBe('could not reach the server');
    await strict.worker.tick();
    expect(relay.received.filter((m) => m.to[0] === 'patient@sender.example')).toHaveLength(1);
    await strict.worker.stop();
    await admin
      .put('/api/mail/settings')
      .send({ primaryServers: [{ host: '127.0.0.1', port: primary.port }], relay: { host: '127.0.0.1', port: relay.port } })
      .expect(200);
  });

  it('two workers (as two processes) claim each row once through lease documents', async () => {
    const other = anotherProcess();
    for (let i = 0; i < 8; i++) await send(['bob@acme.test'], `parallel ${i}`);
    await eventually(async () => expect(await ctx.services.mail.unrouted()).toBe(0));
    await Promise.all([ctx.services.mail.worker.tick(), other.worker.tick(), ctx.services.mail.worker.tick()]);
    await other.worker.stop();
    const got = primary.received.filter((m) => /Subject: parallel \d/.test(m.raw));
    expect(got).toHaveLength(8);
    expect(new Set(subjectsAt({ ...primary, received: got })).size).toBe(8);
    expect(await ctx.services.mail.models.leases.countDocuments({})).toBe(0);
  });
});

describe('the user mailbox and sending', () => {
  it('sends as the signed-in user through the relay, once per idempotency key, and shows delivery status', async () => {
    const body = {
      from: 'ceo@acme.test',
      to: ['partner@outside.example'],
      cc: ['bob@acme.test'],
      bcc: ['secret@outside.example'],
      subject: 'Quarterly',
      html: '<p>Hi <b>there</b></p>',
      attachments: [{ filename: 'a.txt', contentType: 'text/plain', contentBase64: Buffer.from('attached').toString('base64') }],
      idempotencyKey: 'send-1',
    };
    const first = await request(ctx.app).post('/api/me/messages').set('Authorization', `Bearer ${tokens.ann}`).send(body).expect(201);
    const again = await request(ctx.app).post('/api/me/messages').set('Authorization', `Bearer ${tokens.ann}`).send(body).expect(201);
    expect(again.body.id).toBe(first.body.id);
    expect(first.body.deliveries.map((d: { state: string }) => d.state)).toEqual(['queued', 'queued', 'queued']);
    await ctx.services.mail.worker.tick();
    const out = relay.received.filter((m) => m.raw.includes('Subject: Quarterly'));
    expect(out.map((m) => m.to[0]).sort()).toEqual(['bob@acme.test', 'partner@outside.example', 'secret@outside.example']);
    expect(out.every((m) => m.from === 'ann@acme.test' && /^From: Ann <ann@acme\.test>/m.test(m.raw) && !/^Bcc:/m.test(m.raw))).toBe(true);
    const sent = await inbox('ann', 'sent');
    expect(sent[0]).toMatchObject({ id: first.body.id, subject: 'Quarterly', hasAttachments: true });
    const read = await request(ctx.app).get(`/api/me/mailbox/${first.body.id}`).set('Authorization', `Bearer ${tokens.ann}`).expect(200);
    expect(read.body.deliveries.map((d: { state: string; lastReply: string }) => [d.state, d.lastReply.slice(0, 3)])).toEqual([
      ['sent', '250'],
      ['sent', '250'],
      ['sent', '250'],
    ]);
  });

  it('threads a reply: In-Reply-To and References come from the original in the mailbox, never from the client', async () => {
    const raw = `From: Partner <partner@outside.example>\r\nTo: bob@acme.test\r\nSubject: Contract\r\nMessage-ID: <orig-42@outside.example>\r\nReferences: <root-1@outside.example>\r\n\r\nPlease sign.\r\n`;
    const res = await sendOne(port, { from: 'partner@outside.example', to: ['bob@acme.test'], message: raw });
    expect(res.data).toMatch(/^250 /);
    await routedThenDeliver();
    const original = (await inbox('bob')).find((m) => m.subject === 'Contract')!;
    const reply = await request(ctx.app)
      .post('/api/me/messages')
      .set('Authorization', `Bearer ${tokens.bob}`)
      .send({ to: ['partner@outside.example'], subject: 'Re: Contract', html: '<p>Signed.</p>', inReplyTo: original.id })
      .expect(201);
    await ctx.services.mail.worker.tick();
    const out = relay.received.find((m) => m.raw.includes('Subject: Re: Contract'))!;
    expect(out.raw).toMatch(/^In-Reply-To: <orig-42@outside\.example>\r?$/m);
    expect(out.raw).toMatch(/^References: <root-1@outside\.example> <orig-42@outside\.example>\r?$/m);
    expect(reply.body.subject).toBe('Re: Contract');

    // Someone else's message, or no message at all: 422 naming the field; a header in its place: refused by shape.
    for (const inReplyTo of [original.id, 'inbox:no-such-message']) {
      const refused = await request(ctx.app)
        .post('/api/me/messages')
        .set('Authorization', `Bearer ${tokens.ann}`)
        .send({ to: ['partner@outside.example'], subject: 'Re', inReplyTo })
        .expect(422);
      expect(refused.body.errors.map((e: { path: string }) => e.path)).toEqual(['inReplyTo']);
    }
    const injected = await request(ctx.app)
      .post('/api/me/messages')
      .set('Authorization', `Bearer ${tokens.bob}`)
      .send({ to: ['partner@outside.example'], inReplyTo: '<x@y>\r\nBcc: all@acme.test' })
      .expect(422);
    expect(injected.body.errors.map((e: { path: string }) => e.path)).toEqual(['inReplyTo']);
  });

  it('refuses header injection and bad fields with 422 naming the field', async () => {
    const res = await request(ctx.app)
      .post('/api/me/messages')
      .set('Authorization', `Bearer ${tokens.ann}`)
      .send({
        to: ['x@outside.example\r\nBcc: all@acme.test'],
        subject: 'hi\r\nBcc: evil@outside.example',
        attachments: [{ filename: 'a\r\nb', contentBase64: '!!' }],
      })
      .expect(422);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['attachments.0.contentBase64', 'attachments.0.filename', 'subject', 'to.0']);
    await request(ctx.app)
      .post('/api/me/messages')
      .send({ to: ['x@outside.example'] })
      .expect(401);
  });

  it('reads a message with sanitised HTML and downloadable attachments; other users and tenants get 404', async () => {
    const message = [
      'From: Mallory <m@sender.example>',
      'To: ann@acme.test',
      'Subject: with html',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p onclick="steal()">Hello<script>alert(1)</script><a href="javascript:evil()">x</a></p>',
      '--b1',
      'Content-Type: application/pdf; name="report.pdf"',
      'Content-Disposition: attachment; filename="report.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 fake').toString('base64'),
      '--b1--',
      '',
    ].join('\r\n');
    expect((await sendOne(port, { from: 'm@sender.example', to: ['ann@acme.test'], message })).data).toMatch(/^250 /);
    await routedThenDeliver();
    const item = (await inbox('ann')).find((m) => m.subject === 'with html')!;
    expect(item.hasAttachments).toBe(true);
    // An HTML-only body still gives the list its preview: the HTML's text, scripts left out.
    expect(item.preview).toBe('Hellox');
    const read = await request(ctx.app).get(`/api/me/mailbox/${item.id}`).set('Authorization', `Bearer ${tokens.ann}`).expect(200);
    expect(read.body.html).toContain('Hello');
    expect(read.body.html).not.toMatch(/script|onclick|javascript:/);
    expect(read.body.attachments).toEqual([{ index: 0, filename: 'report.pdf', contentType: 'application/pdf', size: 13 }]);
    const file = await request(ctx.app).get(`/api/me/mailbox/${item.id}/attachments/0`).set('Authorization', `Bearer ${tokens.ann}`).buffer(true).expect(200);
    expect(file.headers['content-disposition']).toContain('report.pdf');
    expect(Buffer.from(file.body).toString()).toBe('%PDF-1.4 fake');
    await request(ctx.app).get(`/api/me/mailbox/${item.id}`).set('Authorization', `Bearer ${tokens.bob}`).expect(404);
    await request(ctx.app).get('/api/me/mailbox/inbox:..%2F..').set('Authorization', `Bearer ${tokens.ann}`).expect(404);
    await request(ctx.app).get('/api/me/mailbox?folder=trash').set('Authorization', `Bearer ${tokens.ann}`).expect(422);
  });

  it('keeps formatting but lets no message lay a full-frame overlay link over the page', async () => {
    const overlay =
      '<a href="https://phish.example/login" style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:2147483647;display:block">x</a>' +
      '<div style="position: absolute; inset: 0; transform: translate(-50%,-50%); margin-top: -900px; background: url(https://track.example/p.gif)">y</div>' +
      '<p style="color: #c00; font-weight: bold; margin: 0 0 8px; text-align: center; position: relative; z-index: 2">Kept</p>';
    const message = [
      'From: m@sender.example',
      'To: ann@acme.test',
      'Subject: overlay',
      'MIME-Version: 1.0',
      'Content-Type: text/html; charset=utf-8',
      '',
      overlay,
      '',
    ].join('\r\n');
    expect((await sendOne(port, { from: 'm@sender.example', to: ['ann@acme.test'], message })).data).toMatch(/^250 /);
    await routedThenDeliver();
    const item = (await inbox('ann')).find((m) => m.subject === 'overlay')!;
    const html = (await request(ctx.app).get(`/api/me/mailbox/${item.id}`).set('Authorization', `Bearer ${tokens.ann}`).expect(200)).body.html as string;
    expect(html).toContain('href="https://phish.example/login"');
    for (const banned of ['fixed', 'absolute', 'inset', 'top:', 'left:', '2147483647', 'transform', '-900px', 'url(']) expect(html).not.toContain(banned);
    expect(html).toMatch(/<p style="color:#c00;font-weight:bold;margin:0 0 8px;text-align:center;position:relative;z-index:2">Kept<\/p>/);
  });
});

describe('mailbox paging', () => {
  it('pages through rows received in the same millisecond without skipping or repeating any; a forged cursor is a 422', async () => {
    // 120 sent copies with one timestamp: a cursor on the time alone would skip all but the first page.
    const at = new Date(Date.now() - 60_000);
    const rows = Array.from({ length: 120 }, (_, i) => ({
      _id: `acme:u-cy:sent:${String(i).padStart(3, '0')}-5f0c2a6e-8a4b-4c1e-9d3f-7b2e1a0c9d8e`,
      tenantId: 'acme',
      userId: 'u-cy',
      folder: 'sent',
      messageKey: `paging-${i}`,
      receivedAt: at,
      from: 'cy@acme.test',
      to: ['x@outside.example'],
      cc: [],
      subject: `paging ${i}`,
      date: at,
      preview: '',
      hasAttachments: false,
      viaGroup: null,
      deliveryKeys: [],
    }));
    for (let i = 0; i < rows.length; i += 100) await mailModels(ctx.conn).mailbox.insertMany(rows.slice(i, i + 100));
    // Written around routing: the index learns them as the retention sweeper's repair does.
    await ctx.services.mail.reindex('acme');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(ctx.app)
        .get(`/api/me/mailbox?folder=sent${cursor ? `&cursor=${cursor}` : ''}`)
        .set('Authorization', `Bearer ${tokens.cy}`)
        .expect(200);
      seen.push(...res.body.items.filter((m: { subject: string }) => m.subject.startsWith('paging ')).map((m: { subject: string }) => m.subject));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(120);
    expect(new Set(seen).size).toBe(120);
    const bad = await request(ctx.app)
      .get(`/api/me/mailbox?folder=sent&cursor=${Buffer.from('12345').toString('base64url')}`)
      .set('Authorization', `Bearer ${tokens.cy}`)
      .expect(422);
    expect(bad.body.errors[0].path).toBe('cursor');
  });
});

describe('sweeper', () => {
  it('removes mailbox copies and messages older than the retention, keeping those still to deliver', async () => {
    await send(['bob@acme.test'], 'to be swept');
    await send(['bob@acme.test'], 'recent');
    await routedThenDeliver();
    const m = ctx.services.mail.models;
    const entry = await m.mailbox.findOne({ userId: 'u-bob', subject: 'to be swept' }).lean();
    const aged = new Date(Date.now() - 6 * DAY);
    await m.mailbox.updateOne({ _id: entry!._id }, { $set: { receivedAt: aged } });
    await m.messages.updateOne({ _id: entry!.messageKey }, { $set: { receivedAt: aged } });
    const result = await ctx.services.mail.sweep();
    expect(result.entries).toBeGreaterThanOrEqual(1);
    expect(await m.messages.findById(entry!.messageKey).lean()).toBeNull();
    expect(await m.chunks.countDocuments({ messageKey: entry!.messageKey })).toBe(0);
    const subjects = (await inbox('bob')).map((x) => x.subject);
    expect(subjects).toContain('recent');
    expect(subjects).not.toContain('to be swept');
  });
});

describe('sweeper: retention and crashes', () => {
  /** The mail service of another process on the same database whose clock is `at`. */
  const serviceAt = (at: () => Date) =>
    createMailService({
      models: mailModels(ctx.conn),
      tenants: ctx.services.tenants,
      directory: ctx.services.directory,
      events: ctx.services.events.coverage,
      audit: ctx.services.audit,
      logger: createLogger('silent'),
      now: at,
    });
  const big = (subject: string) => {
    const raw = Buffer.alloc(600 * 1024, 'b');
    raw.write(`Subject: ${subject}\r\n\r\n`, 0);
    return raw;
  };

  it('removes chunks whose message document never committed (a crash before the 250) after the grace period', async () => {
    const m = ctx.services.mail.models;
    // A process that dies after writing the chunks of a large message, before its message document.
    const crashing = { ...m, messages: { collection: { insertMany: () => Promise.reject(new Error('process killed')) } } } as unknown as typeof m;
    const t0 = Date.now();
    await expect(
      storeMessage(crashing, {
        tenantId: 'acme',
        messageId: 'crashed-1',
        direction: 'inbound',
        mailFrom: '',
        recipients: [{ address: 'ann@acme.test', kind: 'user', id: 'u-ann' }],
        raw: big('crashed'),
        receivedAt: new Date(t0),
      }),
    ).rejects.toThrow('process killed');
    // A large message stored whole at the same time keeps its chunks.
    const kept = await storeMessage(m, {
      tenantId: 'acme',
      messageId: 'whole-1',
      direction: 'inbound',
      mailFrom: '',
      recipients: [{ address: 'ann@acme.test', kind: 'user', id: 'u-ann' }],
      raw: big('whole'),
      receivedAt: new Date(t0),
    });
    await ctx.services.mail.route(kept);
    expect(await m.chunks.countDocuments({ messageKey: 'acme:crashed-1' })).toBe(1);
    // Within the grace period (storing may still be going on elsewhere) nothing is removed.
    expect((await serviceAt(() => new Date(t0 + 10 * 60_000)).sweep()).orphans).toBe(0);
    expect(await m.chunks.countDocuments({ messageKey: 'acme:crashed-1' })).toBe(1);
    const later = await serviceAt(() => new Date(t0 + 2 * HOUR)).sweep();
    expect(later.orphans).toBe(1);
    expect(await m.chunks.countDocuments({ messageKey: 'acme:crashed-1' })).toBe(0);
    const whole = await m.messages.findById(kept).lean();
    expect((await readRaw(m, whole!)).toString()).toContain('Subject: whole');
    expect((await inbox('ann')).map((x) => x.subject)).toContain('whole');
  });

  it("removes messages and their chunks past the tenant's retention days, keeping younger ones", async () => {
    const m = ctx.services.mail.models;
    await admin
      .put('/api/mail/settings')
      .send({ primaryServers: [{ host: '127.0.0.1', port: primary.port }], relay: { host: '127.0.0.1', port: relay.port }, retentionDays: 2 })
      .expect(200);
    try {
      const t0 = Date.now();
      const store = (id: string, subject: string, ageDays: number) =>
        storeMessage(m, {
          tenantId: 'acme',
          messageId: id,
          direction: 'inbound',
          mailFrom: '',
          recipients: [{ address: 'cy@acme.test', kind: 'user', id: 'u-cy' }],
          raw: big(subject),
          receivedAt: new Date(t0 - ageDays * DAY),
        });
      const old = await store('old-big', 'three days old', 3);
      const young = await store('young-big', 'one day old', 1);
      await ctx.services.mail.route(old);
      await ctx.services.mail.route(young);
      await ctx.services.mail.worker.tick();
      expect(await m.queue.countDocuments({ messageKey: { $in: [old, young] } })).toBe(0);
      // The second sweep within a day: only the folders that lost entries are rewritten, not every mailbox.
      const bobsHead = () => mailboxIndexModels(ctx.conn).heads('acme:u-bob:inbox').findById('acme:u-bob:inbox:head').lean();
      const untouched = await bobsHead();
      expect(untouched).not.toBeNull();
      const result = await ctx.services.mail.sweep();
      expect(await bobsHead()).toEqual(untouched);
      expect(result.messages).toBeGreaterThanOrEqual(1);
      expect(await m.messages.findById(old).lean()).toBeNull();
      expect(await m.chunks.countDocuments({ messageKey: old })).toBe(0);
      expect(await m.messages.findById(young).lean()).not.toBeNull();
      expect(await m.chunks.countDocuments({ messageKey: young })).toBe(1);
      const subjects = (await inbox('cy')).map((x) => x.subject);
      expect(subjects).toContain('one day old');
      expect(subjects).not.toContain('three days old');
    } finally {
      await admin
        .put('/api/mail/settings')
        .send({ primaryServers: [{ host: '127.0.0.1', port: primary.port }], relay: { host: '127.0.0.1', port: relay.port } })
        .expect(200);
    }
  });
});

describe('storage', () => {
  it('a clean stop drops the routed journal segment before it returns (not after the connection is gone)', async () => {
    // Another process's connection, closed right after its journal's clean stop, as a stopping server does.
    const other = await openConnection(testDatabaseUri(), ctx.conn.name);
    const journal = createRoutingJournal(other.db!, createLogger('silent'));
    const segments = async () =>
      (await ctx.conn.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => n.startsWith('mail_pending_'));
    const before = new Set(await segments());
    await journal.write([{ _id: 'acme:clean-stop', tenantId: 'acme', messageId: 'clean-stop' } as never]);
    const mine = (await segments()).filter((n) => !before.has(n));
    expect(mine).toHaveLength(1);
    journal.done(['acme:clean-stop']);
    await journal.close();
    await other.close();
    expect(await segments()).not.toContain(mine[0]);
  });

  it('routes at recovery a message another process stored (journal marker written) but never routed before it died', async () => {
    const m = ctx.services.mail.models;
    // What a receiver process leaves when killed between its 250 and routing: the message and its marker.
    const dead = createRoutingJournal(ctx.conn.db!, createLogger('silent'));
    const key = await storeMessage(
      m,
      {
        tenantId: 'acme',
        messageId: 'died-before-routing',
        direction: 'inbound',
        mailFrom: 'x@sender.example',
        recipients: [{ address: 'bob@acme.test', kind: 'user', id: 'u-bob' }],
        raw: Buffer.from('Subject: stored then killed\r\n\r\nbody\r\n'),
        receivedAt: new Date(),
      },
      dead,
    );
    expect((await inbox('bob')).map((x) => x.subject)).not.toContain('stored then killed');
    expect(await ctx.services.mail.recover()).toBeGreaterThanOrEqual(1);
    expect((await inbox('bob')).map((x) => x.subject)).toContain('stored then killed');
    expect(await m.queue.findById(`${key}:bob@acme.test`).lean()).not.toBeNull();
    await ctx.services.mail.worker.tick();
    expect(primary.received.filter((x) => x.raw.includes('stored then killed')).map((x) => x.to)).toEqual([['bob@acme.test']]);
  });

  it('routes at recovery a message the receiver of a dead process held only as its journal entry (answered 250, never routed)', async () => {
    const m = ctx.services.mail.models;
    const dead = createRoutingJournal(ctx.conn.db!, createLogger('silent'));
    const stored = await createBatchedStore(
      m,
      dead,
    )({
      tenantId: 'acme',
      messageId: 'died-in-journal',
      direction: 'inbound',
      mailFrom: 'x@sender.example',
      recipients: [{ address: 'bob@acme.test', kind: 'user', id: 'u-bob' }],
      raw: Buffer.from('Subject: only in the journal\r\n\r\nbody\r\n'),
      receivedAt: new Date(),
    });
    expect(stored.inJournalOnly).toBe(true);
    expect(await m.messages.findById(stored.key).lean()).toBeNull();
    expect(await ctx.services.mail.recover()).toBeGreaterThanOrEqual(1);
    expect(await m.messages.findById(stored.key).lean()).toMatchObject({ tenantId: 'acme', mailFrom: 'x@sender.example' });
    expect((await inbox('bob')).map((x) => x.subject)).toContain('only in the journal');
    expect(await m.queue.findById(`${stored.key}:bob@acme.test`).lean()).not.toBeNull();
    await ctx.services.mail.worker.tick();
    expect(primary.received.filter((x) => x.raw.includes('only in the journal')).map((x) => x.to)).toEqual([['bob@acme.test']]);
  });

  it('routes a message from its journal entry when routing kept no copy in memory (a burst beyond the routing memory)', async () => {
    const m = ctx.services.mail.models;
    const lean = anotherProcess(undefined, { routeMemoryBytes: 0 });
    try {
      const id = await lean.accept({
        tenantId: 'acme',
        mailFrom: 'x@sender.example',
        recipients: [{ address: 'bob@acme.test', kind: 'user', id: 'u-bob' }],
        raw: Buffer.from('Subject: routed from the journal\r\n\r\nbody\r\n'),
        remoteAddress: null,
      });
      await eventually(async () => expect(lean.unrouted()).toBe(0));
      expect(await m.messages.findById(`acme:${id}`).lean()).toMatchObject({ tenantId: 'acme', mailFrom: 'x@sender.example' });
      expect((await inbox('bob')).map((x) => x.subject)).toContain('routed from the journal');
    } finally {
      await lean.stop();
    }
  });

  it('keeps a large message in chunks under the 16 MB document limit and reads it back whole', async () => {
    const raw = Buffer.alloc(9 * 1024 * 1024 + 7, 'a');
    raw.write('Subject: large\r\n\r\n', 0);
    const key = await storeMessage(ctx.services.mail.models, {
      tenantId: 'acme',
      messageId: 'large-1',
      direction: 'inbound',
      mailFrom: '',
      recipients: [{ address: 'ann@acme.test', kind: 'user', id: 'u-ann' }],
      raw,
      receivedAt: new Date(),
    });
    const msg = await ctx.services.mail.models.messages.findById(key).lean();
    expect(msg!.chunks).toBe(3);
    expect((await readRaw(ctx.services.mail.models, msg!)).equals(raw)).toBe(true);
    await ctx.services.mail.route(key);
    expect((await inbox('ann')).map((m) => m.subject)).toContain('large');
  });
});
