/**
 * The admins' mail queue (issue 19 point 11): queued, deferred, held and failed mail listed with
 * filters, retry now, release of one held message (audited), and the receiver's one info line per
 * accepted message without addresses. Real SMTP peers on loopback.
 */
import type request from 'supertest';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { createLogger } from '../../server/log';
import { createReceiver } from '../../server/mail/receiver';
import { eventually } from '../harness/eventually';
import { tenantDirectory, useLifeboat } from '../harness/context';
import { sendOne, simpleMessage, startPeer, type SmtpPeer } from '../harness/smtp-peers';

const HOUR = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString();

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann', mail: 'ann@acme.test' },
    { id: 'u-cy', displayName: 'Cy', mail: 'cy@acme.test' },
  ],
  groups: [{ id: 'g-sales', displayName: 'Sales', mail: 'sales@acme.test', mailEnabled: true, members: ['u-ann'] }],
};

const ctx = useLifeboat({
  directories: [acme, tenantDirectory('beta')],
  services: { mail: { retry: { baseDelayMs: HOUR, maxDelayMs: HOUR, maxAgeMs: 24 * HOUR }, releasePerSecond: 1000 } },
});
let admin: request.Agent;
let primary: SmtpPeer;
let relay: SmtpPeer;
let receiver: ReturnType<typeof createReceiver>;
let port: number;
const receiverLines: string[] = [];

interface Item {
  id: string;
  state: string;
  recipient: string;
  sender: string;
  subject: string;
  attempts: number;
  lastReply: string | null;
  nextAttemptAt: string | null;
}

beforeAll(async () => {
  admin = await ctx.signIn('acme', 'basicAdministrator', 'mailadmin@acme.test');
  primary = await startPeer('defer');
  relay = await startPeer('accept');
  const logger = createLogger('info', { write: (line: string) => void receiverLines.push(line) });
  receiver = createReceiver({ mail: ctx.services.mail, logger, maxMessageBytes: 64 * 1024 });
  port = await receiver.listen(0, '127.0.0.1');
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

async function send(to: string, subject: string, from = 'someone@sender.example') {
  await sendOne(port, { from, to: [to], message: simpleMessage({ from, to, subject }) });
  await eventually(async () => expect(ctx.services.mail.unrouted()).toBe(0));
  await ctx.services.mail.worker.tick();
}
const list = async (query = '') => (await admin.get(`/api/mail/queue${query}`).expect(200)).body.items as Item[];

describe('the mail queue for admins', () => {
  it('lists deferred mail with its sender, subject, attempts, last reply and next attempt, filtered', async () => {
    await send('cy@acme.test', 'Quarterly numbers', 'finance@sender.example');
    const [item] = await list('?state=deferred');
    expect(item).toMatchObject({ state: 'deferred', recipient: 'cy@acme.test', sender: 'finance@sender.example', subject: 'Quarterly numbers', attempts: 1 });
    expect(item!.lastReply).toMatch(/^451/);
    expect(Date.parse(item!.nextAttemptAt!)).toBeGreaterThan(Date.now());
    expect(await list('?recipient=CY@')).toHaveLength(1);
    expect(await list('?sender=nobody')).toEqual([]);
    expect(await list('?state=queued')).toEqual([]);
    await admin.get('/api/mail/queue?state=lost').expect(422);
    const beta = await ctx.signIn('beta', 'readOnly');
    expect((await beta.get('/api/mail/queue').expect(200)).body.items).toEqual([]);
  });

  it('retries now: the next attempt is due at once and the worker tries it (audited)', async () => {
    const [item] = await list('?state=deferred');
    primary.mode = 'accept';
    const reader = await ctx.signIn('acme', 'readOnly');
    await reader.post(`/api/mail/queue/${item!.id}/retry`).expect(403);
    await admin.post(`/api/mail/queue/${encodeURIComponent(item!.id)}/retry`).expect(204);
    await ctx.services.mail.worker.tick();
    expect(primary.received.filter((m) => m.raw.includes('Quarterly numbers'))).toHaveLength(1);
    expect(await list('?state=deferred')).toEqual([]);
    await admin.post(`/api/mail/queue/${encodeURIComponent(item!.id)}/retry`).expect(404);
    const audit = (await admin.get('/api/audit?category=mail').expect(200)).body.items;
    expect(audit[0]).toMatchObject({ action: 'mail.retryNow', target: { id: item!.id, label: 'cy@acme.test' }, actor: { email: 'mailadmin@acme.test' } });
  });

  it('releases one held message while its pausing event goes on (audited), and lists failed mail', async () => {
    await admin
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
    await send('ann@acme.test', 'Contract to sign');
    await send('ann@acme.test', 'Newsletter');
    const held = await list('?state=held');
    expect(held.map((i) => i.subject).sort()).toEqual(['Contract to sign', 'Newsletter']);
    const contract = held.find((i) => i.subject === 'Contract to sign')!;
    await admin.post(`/api/mail/queue/${encodeURIComponent(contract.id)}/retry`).expect(409);
    await admin.post(`/api/mail/held/${encodeURIComponent(contract.id)}/release`).expect(204);
    // Re-checking holds (as any event change does) does not take the released message back.
    await ctx.services.mail.release('acme');
    await ctx.services.mail.worker.tick();
    // The event still pauses Ann's mail: only the released message went on.
    expect(primary.received.some((m) => m.raw.includes('Contract to sign'))).toBe(true);
    expect(primary.received.some((m) => m.raw.includes('Newsletter'))).toBe(false);
    expect((await list('?state=held')).map((i) => i.subject)).toEqual(['Newsletter']);
    await admin.post(`/api/mail/held/${encodeURIComponent(contract.id)}/release`).expect(404);
    const audit = (await admin.get('/api/audit?category=mail').expect(200)).body.items;
    expect(audit[0]).toMatchObject({ action: 'mail.heldReleased', target: { id: contract.id, label: 'ann@acme.test' } });

    primary.mode = 'reject';
    await send('cy@acme.test', 'Refused here');
    primary.mode = 'accept';
    const failed = await list('?state=failed');
    expect(failed[0]).toMatchObject({ state: 'failed', recipient: 'cy@acme.test', subject: 'Refused here', sender: 'someone@sender.example', attempts: 1 });
    expect(failed[0]!.lastReply).toMatch(/^5/);
  });

  it('the receiver logs one info line per accepted message: id, size, recipient count, no addresses', () => {
    const accepted = receiverLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'message accepted');
    expect(accepted.length).toBeGreaterThanOrEqual(4);
    expect(accepted[0]).toMatchObject({ level: 30, tenant: 'acme', recipients: 1, messageId: expect.any(String), size: expect.any(Number) });
    expect(receiverLines.join('\n')).not.toMatch(/@acme\.test|@sender\.example/);
  });
});
