/** Banner receipts: panes acknowledge the active events they show; the report counts the users who did. */
import type { Logger } from 'pino';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { bannerReceiptModel } from '../../server/push/model';
import { createReceiptService } from '../../server/push/receipts';
import { tenantDirectory, useLifeboat } from '../harness/context';
import { startLiveServer, statusClient, type LiveServer } from '../harness/live-server';

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann', mail: 'ann@acme.test' },
    { id: 'u-bob', displayName: 'Bob', mail: 'bob@acme.test' },
    { id: 'u-cid', displayName: 'Cid', mail: 'cid@acme.test' },
  ],
  groups: [
    { id: 'g-all', displayName: 'Everyone', mail: 'all@acme.test', groupTypes: ['Unified'], mailEnabled: true, members: ['g-sales', 'u-cid'] },
    { id: 'g-sales', displayName: 'Sales', mail: 'sales@acme.test', mailEnabled: true, members: ['u-ann'] },
    { id: 'g-bob', displayName: 'Bob only', mail: 'bob-only@acme.test', mailEnabled: true, members: ['u-bob'] },
  ],
};

const ctx = useLifeboat({ directories: [acme, tenantDirectory('beta')] });
let live: LiveServer;
const tokens: Record<string, string> = {};

async function tokenFor(tenantId: string, userId: string, email: string): Promise<string> {
  const admin = await ctx.signIn(tenantId, 'basicAdministrator');
  await admin.put(`/api/users/${userId}/cloud-password`).send({ password: 'a user password' }).expect(204);
  return (await request(ctx.app).post('/api/user-auth/login').send({ email, password: 'a user password' }).expect(200)).body.token;
}

/** Emits continuity:seen and waits for the server's ack. */
function seen(socket: Socket, payload: unknown): Promise<{ accepted: string[] }> {
  return socket.timeout(5000).emitWithAck('continuity:seen', payload);
}

async function startEvent(tenantId: string, groupId: string, description: string): Promise<string> {
  const admin = await ctx.signIn(tenantId, 'basicAdministrator');
  const created = await admin
    .post('/api/events')
    .send({
      description,
      affectedGroupId: groupId,
      timeZone: 'UTC',
      start: new Date(Date.now() + 600).toISOString(),
      end: null,
      appNotifications: { startMessage: 'Use Lifeboat', endMessage: 'Back' },
    })
    .expect(201);
  return created.body.id as string;
}

async function bannerReceived(tenantId: string, eventId: string) {
  const admin = await ctx.signIn(tenantId, 'readOnly');
  const report = (await admin.get(`/api/events/${eventId}/report`).expect(200)).body;
  return { ...report.users.bannerReceived, affected: report.users.affected, unknowns: report.unknowns.map((u: { metric: string }) => u.metric) };
}

beforeAll(async () => {
  live = await startLiveServer(ctx);
  tokens.ann = await tokenFor('acme', 'u-ann', 'ann@acme.test');
  tokens.bob = await tokenFor('acme', 'u-bob', 'bob@acme.test');
  tokens.cid = await tokenFor('acme', 'u-cid', 'cid@acme.test');
  tokens.beta = await tokenFor('beta', 'beta-u1', 'one@beta.test');
});
afterAll(() => live.close());

describe('banner receipts', () => {
  let acmeEvent: string;
  let betaEvent: string;

  it('records a covered user once, ignores users and tenants the event does not cover, and the report counts it', async () => {
    const ann = statusClient(live.url, () => tokens.ann);
    const bob = statusClient(live.url, () => tokens.bob);
    const beta = statusClient(live.url, () => tokens.beta);
    await Promise.all([ann.connected(), bob.connected(), beta.connected()]);
    try {
      acmeEvent = await startEvent('acme', 'g-all', 'Exchange down');
      betaEvent = await startEvent('beta', 'beta-g1', 'Beta outage');
      const active = await ann.waitFor((s) => s.active);
      await beta.waitFor((s) => s.active);
      expect(active.events.map((e) => e.id)).toEqual([acmeEvent]);

      // Before anyone acknowledges, nobody received the banner (and it is no longer an unknown).
      expect(await bannerReceived('acme', acmeEvent)).toMatchObject({ count: 0, percent: 0, affected: 2 });

      // Ann's pane acknowledges twice (a re-render, a reconnect): one receipt.
      expect(await seen(ann.socket, { seq: active.seq, eventIds: [acmeEvent], client: 'classicWindows' })).toEqual({ accepted: [acmeEvent] });
      expect(await seen(ann.socket, { seq: active.seq, eventIds: [acmeEvent] })).toEqual({ accepted: [acmeEvent] });
      // Bob is not in the affected group: his acknowledgement of the event is ignored.
      expect(await seen(bob.socket, { seq: active.seq, eventIds: [acmeEvent] })).toEqual({ accepted: [] });
      // Another tenant's user names acme's event; Ann names beta's event: both ignored.
      expect(await seen(beta.socket, { seq: 1, eventIds: [acmeEvent] })).toEqual({ accepted: [] });
      expect(await seen(ann.socket, { seq: active.seq, eventIds: [betaEvent, 'not-an-event'] })).toEqual({ accepted: [] });
      // Garbage payloads are ignored, never crash the socket.
      expect(await seen(ann.socket, null)).toEqual({ accepted: [] });
      expect(await seen(ann.socket, { eventIds: 'nope' })).toEqual({ accepted: [] });

      const figures = await bannerReceived('acme', acmeEvent);
      expect(figures).toMatchObject({ count: 1, percent: 50, affected: 2 });
      expect(figures.unknowns).not.toContain('bannerReceipt');
      expect(await bannerReceived('beta', betaEvent)).toMatchObject({ count: 0 });
      // The receipt is stored once, under its tenant+event+user id, with the client kind.
      const stored = await ctx.conn.collection('bannerreceipts').find({ tenantId: 'acme' }).toArray();
      expect(stored).toEqual([
        expect.objectContaining({ _id: `acme:${acmeEvent}:u-ann`, eventId: acmeEvent, userId: 'u-ann', client: 'classicWindows', via: 'socket' }),
      ]);

      // A second server process (its own queue, nothing seen yet) writes Ann again and Cid in one batch:
      // the duplicate is ignored, the new receipt still goes in, the first receipt is kept.
      const warnings: unknown[] = [];
      const logger = { child: () => ({ warn: (...args: unknown[]) => warnings.push(args) }) } as unknown as Logger;
      const other = createReceiptService({ receipts: bannerReceiptModel(ctx.conn), status: ctx.services.status, logger });
      const identity = (userId: string) => ({ tenantId: 'acme', userId, email: null, displayName: userId, via: 'cloudPassword' as const });
      await other.acknowledge(identity('u-ann'), { seq: active.seq, eventIds: [acmeEvent], client: 'web' }, 'rest');
      await other.acknowledge(identity('u-cid'), { seq: active.seq, eventIds: [acmeEvent] }, 'rest');
      await other.flush();
      const after = await ctx.conn.collection('bannerreceipts').find({ tenantId: 'acme' }).sort({ _id: 1 }).toArray();
      expect(after.map((r) => [r._id, r.client, r.via])).toEqual([
        [`acme:${acmeEvent}:u-ann`, 'classicWindows', 'socket'],
        [`acme:${acmeEvent}:u-cid`, null, 'rest'],
      ]);
      expect(warnings).toEqual([]); // a duplicate is expected, not a failure
      expect(await bannerReceived('acme', acmeEvent)).toMatchObject({ count: 2, percent: 100 });
    } finally {
      [ann, bob, beta].forEach((c) => c.socket.disconnect());
    }
  });

  it('takes receipts over REST when the socket is down, with the same checks', async () => {
    const post = (token: string, body: unknown) =>
      request(ctx.app)
        .post('/api/me/status/seen')
        .set('Authorization', `Bearer ${token}`)
        .send(body as object);
    await post(tokens.cid, { seq: 1, eventIds: [acmeEvent], client: 'web' }).expect(202, { accepted: [acmeEvent] });
    await post(tokens.cid, { seq: 1, eventIds: [acmeEvent] }).expect(202);
    await post(tokens.beta, { seq: 1, eventIds: [acmeEvent] }).expect(202, { accepted: [] });
    await post(tokens.bob, { seq: 1, eventIds: [acmeEvent] }).expect(202, { accepted: [] });
    // No token: refused; bad body: a problem naming the field.
    await request(ctx.app)
      .post('/api/me/status/seen')
      .send({ eventIds: [acmeEvent] })
      .expect(401);
    const bad = await post(tokens.cid, { eventIds: 'x' }).expect(422);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(bad.body)).toContain('eventIds');

    expect(await bannerReceived('acme', acmeEvent)).toMatchObject({ count: 2, percent: 100 });
    const csv = await (await ctx.signIn('acme', 'readOnly')).get(`/api/events/${acmeEvent}/report.csv`).expect(200);
    expect(csv.text).toContain('figures,,users whose pane received the start banner,2');
    expect(csv.text).toContain('figures,,users whose pane received the start banner (%),100');
    expect(csv.text).not.toMatch(/unknown,,Users whose pane received the start banner/);
  });
});
