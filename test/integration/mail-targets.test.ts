/**
 * Where continuity mail may be delivered: mail settings refuse Lifeboat's own SMTP listener and
 * private targets (at save time and again at connect time), admins see sanitised delivery replies,
 * relay TLS certificates are verified unless a tenant turns that off (audited), and a delivery lease
 * is removed only by its owner.
 */
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { SMTPServer } from 'smtp-server';
import type request from 'supertest';
import { createLogger } from '../../server/log';
import { createDeliveryWorker } from '../../server/mail/delivery';
import { createReceiver } from '../../server/mail/receiver';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { deadPort, sendOne, simpleMessage, startPeer, type SmtpPeer } from '../harness/smtp-peers';

const ctx = useLifeboat();
let admin: request.Agent;
let receiver: ReturnType<typeof createReceiver>;
let port: number;
let primary: SmtpPeer;

beforeAll(async () => {
  admin = await ctx.signIn('alpha', 'basicAdministrator', 'mailadmin@alpha.test');
  receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent') });
  port = await receiver.listen(0, '127.0.0.1');
  primary = await startPeer('accept');
});

afterAll(async () => {
  await receiver?.close();
  await ctx.services.mail.worker.stop();
  await primary?.close();
});

const put = (body: object) => admin.put('/api/mail/settings').send({ primaryServers: [], relay: null, ...body });

/** Sends one message to one@alpha.test and runs the worker until its row has an attempt; returns the row. */
async function deliverOnce(subject: string) {
  const sent = await sendOne(port, {
    from: 'a@sender.example',
    to: ['one@alpha.test'],
    message: simpleMessage({ from: 'a@sender.example', to: 'one@alpha.test', subject }),
  });
  expect(sent.data).toMatch(/^250 /);
  const id = /queued as (\S+)/.exec(sent.data!)![1]!;
  const key = `alpha:${id}:one@alpha.test`;
  let attempts: { reply: string; outcome: string }[] = [];
  await eventually(async () => {
    await ctx.services.mail.worker.tick();
    const row = (await ctx.services.mail.models.queue.findById(key).lean()) ?? (await ctx.services.mail.models.results.findById(key).lean());
    expect(row?.attempts.length).toBeGreaterThan(0);
    attempts = row!.attempts;
  });
  return attempts;
}

describe('mail settings', () => {
  it("refuse Lifeboat's own SMTP listener as a primary server or relay, naming the field", async () => {
    const res = await put({
      primaryServers: [
        { host: '127.0.0.1', port: primary.port },
        { host: '127.0.0.1', port },
      ],
      relay: { host: 'localhost', port },
    }).expect(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['primaryServers.1.host', 'relay.host']);
    expect(res.body.errors[0].message).toMatch(/own SMTP listener/);
    // The same address on another port is somebody else's server.
    await put({ primaryServers: [{ host: '127.0.0.1', port: primary.port }] }).expect(200);
  });

  it('refuse private and link-local servers (cloud metadata) that the operator did not allow', async () => {
    const res = await put({ primaryServers: [{ host: '10.1.2.3', port: 25 }], relay: { host: '169.254.169.254', port: 25 } }).expect(422);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['primaryServers.0.host', 'relay.host']);
    expect(res.body.errors[1].message).toMatch(/private, loopback or link-local/);
  });

  it('are checked again at connect time: a stored private or own-listener server is never connected to', async () => {
    for (const server of [
      { host: '169.254.169.254', port: 25 },
      { host: '127.0.0.1', port },
    ]) {
      // Written past the API, as a value saved before the rules (or a name that resolves elsewhere now).
      await ctx.services.mail.models.settings.updateOne({ _id: 'alpha' }, { $set: { primaryServers: [server] } });
      const attempts = await deliverOnce(`to ${server.host}:${server.port}`);
      expect(attempts[0]).toMatchObject({ outcome: 'deferred', reply: 'refused: the server is not an allowed destination' });
    }
    await put({ primaryServers: [{ host: '127.0.0.1', port: primary.port }] }).expect(200);
  });
});

describe('delivery status shown to admins', () => {
  it('says only "could not reach the server" for a closed port (no refused/timeout oracle)', async () => {
    await put({ primaryServers: [{ host: '127.0.0.1', port: await deadPort() }] }).expect(200);
    const attempts = await deliverOnce('closed port');
    expect(attempts[0]).toMatchObject({ outcome: 'deferred', reply: 'could not reach the server' });
    const queue = await admin.get('/api/mail/queue').expect(200);
    expect(JSON.stringify(queue.body)).not.toMatch(/ECONN|connect |127\.0\.0\.1:\d+ /);
  });

  it('keeps the SMTP code and first line of a server reply, trimmed and printable', async () => {
    primary.mode = 'defer';
    await put({ primaryServers: [{ host: '127.0.0.1', port: primary.port }] }).expect(200);
    const attempts = await deliverOnce('deferred');
    expect(attempts[0]).toMatchObject({ outcome: 'deferred', reply: '451 4.3.2 Try again later' });
    primary.mode = 'accept';
  });
});

describe('TLS certificates of primary servers and relays', () => {
  let tlsPeer: SMTPServer;
  let tlsPort: number;
  const received: string[] = [];

  beforeAll(async () => {
    // STARTTLS with a self-signed certificate nobody trusts (an internal relay with its own CA).
    const pems = await generate([{ name: 'commonName', value: 'internal relay' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    tlsPeer = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH'],
      logger: false,
      key: pems.private,
      cert: pems.cert,
      onData(stream, _session, callback) {
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('end', () => {
          received.push(Buffer.concat(parts).toString('utf8'));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => tlsPeer.listen(0, '127.0.0.1', resolve));
    tlsPort = (tlsPeer.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => tlsPeer.close(() => resolve()));
  });

  it('are verified by default: an untrusted certificate defers delivery and says why', async () => {
    const saved = await put({ primaryServers: [{ host: '127.0.0.1', port: tlsPort }] }).expect(200);
    expect(saved.body.verifyTls).toBe(true);
    const attempts = await deliverOnce('untrusted certificate');
    expect(attempts[0]!.outcome).toBe('deferred');
    expect(attempts[0]!.reply).toMatch(/TLS certificate could not be verified/);
    expect(received.some((r) => r.includes('untrusted certificate'))).toBe(false);
  });

  it('are not checked for a tenant that turned it off (audited), and a form without the switch keeps the choice', async () => {
    await put({ primaryServers: [{ host: '127.0.0.1', port: tlsPort }], verifyTls: false }).expect(200);
    const audit = await admin.get('/api/audit?category=mail').expect(200);
    expect(audit.body.items.map((i: { action: string }) => i.action)).toContain('mail.tls-verification.off');
    await put({ primaryServers: [{ host: '127.0.0.1', port: tlsPort }] }).expect(200);
    expect((await admin.get('/api/mail/settings').expect(200)).body.verifyTls).toBe(false);
    const attempts = await deliverOnce('internal relay');
    expect(attempts.at(-1)!.outcome).toBe('delivered');
    expect(received.some((r) => r.includes('internal relay'))).toBe(true);
    await put({ primaryServers: [{ host: '127.0.0.1', port: primary.port }], verifyTls: true }).expect(200);
  });
});

describe('delivery leases', () => {
  it('are removed only by their owner: a worker whose lease expired cannot free the new owner’s', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const worker = () =>
      createDeliveryWorker({
        models: ctx.services.mail.models,
        targets: { targetsFor: async () => [], bounce: async () => {} },
        logger: createLogger('silent'),
        retry: { baseDelayMs: 1, maxDelayMs: 1, maxAgeMs: 1 },
        hostname: 'lifeboat.test',
        now: () => new Date(clock),
        leaseMs: 1000,
      });
    const [stale, current, third] = [worker(), worker(), worker()];
    const id = 'alpha:lease-test:one@alpha.test';
    let aHolds!: () => void;
    let bHolds!: () => void;
    const aHolding = new Promise<void>((r) => (aHolds = r));
    const bHolding = new Promise<void>((r) => (bHolds = r));
    // The stale worker holds the lease, stalls past its expiry, and finishes while the other holds it.
    const staleDone = stale.withLease(id, async () => {
      aHolds();
      await bHolding;
    });
    await aHolding;
    clock += 5000;
    const thirdGot = await current.withLease(id, async () => {
      bHolds();
      await staleDone;
      // The stale worker has finished and released: the lease must still be ours.
      return third.withLease(id, async () => 'claimed twice');
    });
    expect(thirdGot).toBeNull();
    expect(await ctx.services.mail.models.leases.findById(id).lean()).toBeNull();
  });
});
