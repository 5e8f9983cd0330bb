import { io as connect } from 'socket.io-client';
import request from 'supertest';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { tenantDirectory, useLifeboat } from '../harness/context';
import { startLiveServer, statusClient, type LiveServer } from '../harness/live-server';

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann', mail: 'ann@acme.test' },
    { id: 'u-bob', displayName: 'Bob', mail: 'bob@acme.test' },
  ],
  groups: [
    { id: 'g-all', displayName: 'Everyone', mail: 'all@acme.test', groupTypes: ['Unified'], mailEnabled: true, members: ['g-sales'] },
    { id: 'g-sales', displayName: 'Sales', mail: 'sales@acme.test', mailEnabled: true, members: ['u-ann'] },
  ],
};

const ctx = useLifeboat({ directories: [acme, tenantDirectory('beta')] });
let live: LiveServer;
let annToken: string;
let bobToken: string;
let betaToken: string;

async function tokenFor(tenantId: string, userId: string, email: string): Promise<string> {
  const admin = await ctx.signIn(tenantId, 'basicAdministrator');
  await admin.put(`/api/users/${userId}/cloud-password`).send({ password: 'a user password' }).expect(204);
  return (await request(ctx.app).post('/api/user-auth/login').send({ email, password: 'a user password' }).expect(200)).body.token;
}

beforeAll(async () => {
  live = await startLiveServer(ctx);
  annToken = await tokenFor('acme', 'u-ann', 'ann@acme.test');
  bobToken = await tokenFor('acme', 'u-bob', 'bob@acme.test');
  betaToken = await tokenFor('beta', 'beta-u1', 'one@beta.test');
});
afterAll(() => live.close());

describe('continuity status over Socket.IO', () => {
  it('refuses sockets without a valid identity', async () => {
    const anonymous = statusClient(live.url, '');
    await expect(anonymous.connected()).rejects.toThrow(/unauthorized/);
    const forged = statusClient(live.url, `${annToken}x`);
    await expect(forged.connected()).rejects.toThrow(/unauthorized/);
  });

  it('pushes start, replays a missed edit on reconnect, and pushes End Now — only to covered users', async () => {
    const admin = await ctx.signIn('acme', 'basicAdministrator');
    const ann = statusClient(live.url, () => annToken);
    const bob = statusClient(live.url, () => bobToken);
    const stranger = statusClient(live.url, () => betaToken);
    await Promise.all([ann.connected(), bob.connected(), stranger.connected()]);
    const initial = await ann.waitFor(() => true);
    expect(initial).toMatchObject({ active: false, events: [] });

    const start = Date.now() + 1000;
    const created = await admin
      .post('/api/events')
      .send({
        description: 'Exchange down',
        affectedGroupId: 'g-all',
        timeZone: 'UTC',
        start: new Date(start).toISOString(),
        end: null,
        appNotifications: { startMessage: 'Use Lifeboat', endMessage: 'All good again' },
      })
      .expect(201);
    const active = await ann.waitFor((s) => s.active);
    expect(Date.now()).toBeGreaterThanOrEqual(start);
    expect(active.events).toEqual([
      { id: created.body.id, description: 'Exchange down', startMessage: 'Use Lifeboat', start: new Date(start).toISOString(), end: null, timeZone: 'UTC' },
    ]);
    expect(active.seq).toBeGreaterThan(initial.seq);
    expect(Date.parse(active.at)).toBeGreaterThanOrEqual(start);

    // The pull fallback says the same.
    const pulled = await request(ctx.app).get('/api/me/status').set('Authorization', `Bearer ${annToken}`).expect(200);
    expect(pulled.body).toEqual(active);

    // The socket is cut; meanwhile the message changes; on reconnect the client gets the new state.
    ann.socket.disconnect();
    await admin
      .patch(`/api/events/${created.body.id}`)
      .send({ appNotifications: { startMessage: 'Use Lifeboat: new instructions' } })
      .expect(200);
    await new Promise((r) => setTimeout(r, 300));
    ann.socket.connect();
    const replayed = await ann.waitFor((s) => s.events[0]?.startMessage === 'Use Lifeboat: new instructions');
    expect(replayed.seq).toBeGreaterThan(active.seq);

    await admin.post(`/api/events/${created.body.id}/end`).expect(200);
    const restored = await ann.waitFor((s) => !s.active && s.events.length > 0);
    expect(restored.events).toEqual([expect.objectContaining({ id: created.body.id, endMessage: 'All good again' })]);
    expect(restored.seq).toBeGreaterThan(replayed.seq);

    // Bob is not in the group; the other tenant's user hears nothing of acme at all.
    expect(bob.received.every((s) => !s.active && s.events.length === 0)).toBe(true);
    expect(stranger.received.every((s) => s.events.length === 0)).toBe(true);
    expect(stranger.received.length).toBe(1); // just its own state on connect
    for (const c of [ann, bob, stranger]) c.socket.disconnect();
  });

  it('does not resend the state a reconnecting client already has', async () => {
    const first = statusClient(live.url, annToken);
    const state = await first.waitFor(() => true);
    first.socket.disconnect();
    const upToDate = connect(live.url, { transports: ['websocket'], reconnection: false, auth: { token: annToken, lastSeq: state.seq } });
    const got: { seq: number }[] = [];
    upToDate.on('continuity:status', (s) => got.push(s));
    await new Promise<void>((resolve) => upToDate.once('connect', () => resolve()));
    // A marker change after the connect: one socket delivers in order, so a resend made on
    // connect would arrive before the marker. The marker being the first state proves none came.
    await live.push.tenantChanged('acme', 'test: marker after reconnect');
    await new Promise<void>((resolve) => {
      const check = () => (got.length ? resolve() : setTimeout(check, 10));
      check();
    });
    expect(got[0]!.seq).toBeGreaterThan(state.seq);
    expect(got.filter((s) => s.seq <= state.seq)).toEqual([]);
    upToDate.disconnect();
  });

  it('pushes membership changes from the directory', async () => {
    const admin = await ctx.signIn('acme', 'basicAdministrator');
    await admin
      .post('/api/events')
      .send({ description: 'Sales only', affectedGroupId: 'g-sales', timeZone: 'UTC', start: new Date(Date.now() - 60_000).toISOString(), end: null })
      .expect(201);
    const bob = statusClient(live.url, bobToken);
    await bob.connected();
    await bob.waitFor(() => true);
    expect(bob.latest().active).toBe(false);
    await ctx.services.directory.importDirectory({ ...acme, groups: acme.groups.map((g) => (g.id === 'g-sales' ? { ...g, members: ['u-ann', 'u-bob'] } : g)) });
    const covered = await bob.waitFor((s) => s.active);
    expect(covered.events.map((e) => e.description)).toEqual(['Sales only']);
    bob.socket.disconnect();
  });

  it("computes a scheduled transition's statuses ahead of it, and uses them for the next change only", async () => {
    const { status } = ctx.services;
    const admin = await ctx.signIn('acme', 'basicAdministrator');
    const created = await admin
      .post('/api/events')
      .send({ description: 'Prepared', affectedGroupId: 'g-sales', timeZone: 'UTC', start: new Date(Date.now() - 60_000).toISOString(), end: null })
      .expect(201);
    // Its start fires and is pushed first (the scheduler runs), so no other change interleaves below.
    const transitions = ctx.conn.db!.collection('eventtransitions');
    for (let i = 0; i < 200 && !(await transitions.findOne({ key: `${created.body.id}:start`, dispatchedAt: { $ne: null } })); i++)
      await new Promise((r) => setTimeout(r, 50));
    const groups = ctx.conn.db!.collection('directorygroups');
    // Written straight to the database: the directory service reads it again (its file snapshot dropped, as
    // `directory:changed` does on every node), the status service is told nothing.
    const setSales = async (members: string[]) => {
      await groups.updateOne({ _id: 'acme:g-sales' as never }, { $set: { members } });
      ctx.services.directory.forget('acme');
    };
    const bobCovered = async () => (await status.forUser('acme', 'u-bob')).events.some((e) => e.description === 'Prepared');
    await setSales(['u-ann']);
    await status.bump('acme', 'test: bob out');
    expect(await bobCovered()).toBe(false);

    // Prepared for a transition due now; then the membership changes behind its back (nothing told).
    await status.prepare('acme', new Date());
    await setSales(['u-ann', 'u-bob']);
    const seq = await status.bump('acme', 'test: transition');
    expect((await status.forUser('acme', 'u-bob')).seq).toBe(seq);
    expect(await bobCovered()).toBe(false); // the prepared statuses, computed before the change
    await status.bump('acme', 'test: next change');
    expect(await bobCovered()).toBe(true); // computed afresh: the prepared snapshot served once

    // A change in between makes a prepared snapshot unusable.
    await setSales(['u-ann']);
    await status.prepare('acme', new Date());
    await status.bump('acme', 'test: something else first');
    await setSales(['u-ann', 'u-bob']);
    await status.bump('acme', 'test: transition');
    expect(await bobCovered()).toBe(true);
    // Not before its time.
    await setSales(['u-ann']);
    await status.bump('acme', 'test: bob out again');
    await status.prepare('acme', new Date(Date.now() + 60_000));
    await setSales(['u-ann', 'u-bob']);
    await status.bump('acme', 'test: too early');
    expect(await bobCovered()).toBe(true);
  });

  it('groups sockets ahead of a scheduled start, and groups again when a socket connected since', async () => {
    const admin = await ctx.signIn('acme', 'basicAdministrator');
    await ctx.services.directory.importDirectory(acme); // Sales: Ann only
    const t0 = Date.now();
    const ann = statusClient(live.url, annToken);
    await ann.connected();
    await ann.waitFor(() => true);
    // Statuses and socket groups are prepared 750 ms before the start: with Ann's socket only.
    await admin
      .post('/api/events')
      .send({ description: 'Grouped ahead', affectedGroupId: 'g-sales', timeZone: 'UTC', start: new Date(t0 + 1500).toISOString(), end: null })
      .expect(201);
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + 1100 - Date.now())));
    // Bob (not covered) connects after that, before the start.
    const bob = statusClient(live.url, bobToken);
    await bob.connected();
    await bob.waitFor(() => true);
    const covered = await ann.waitFor((s) => s.events.some((e) => e.description === 'Grouped ahead'));
    expect(covered.active).toBe(true);
    // A marker change after the start: Bob's one socket delivers in order, so whatever the start's push
    // sent him arrives before the marker's status. Once he has that, nothing of the start is still on its way.
    await live.push.tenantChanged('acme', 'test: marker after the start');
    await bob.waitFor((s) => s.seq > covered.seq);
    // Reusing the prepared groups would have sent Bob Ann's status with the tenant-wide emit.
    expect(bob.received.some((s) => s.events.some((e) => e.description === 'Grouped ahead'))).toBe(false);
    for (const c of [ann, bob]) c.socket.disconnect();
  });
});
