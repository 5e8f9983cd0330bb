/**
 * Two real server processes (server/main.ts) on ONE database, joined through a real redis-server
 * (REDIS_URL): pushes reach every node's sockets, caches dropped on one node are dropped on the other,
 * a transition fires once across both, and a node killed outright loses no status (seq replay).
 */
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { statusClient } from '../harness/live-server';
import { createNodes, untilAnswer, type Node } from '../harness/nodes';
import { startRedis, type TestRedis } from '../harness/redis';
import type { ContinuityStatus } from '../../server/push/status';

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann', mail: 'ann@acme.test' },
    { id: 'u-bob', displayName: 'Bob', mail: 'bob@acme.test' },
  ],
  groups: [{ id: 'g-all', displayName: 'Everyone', mail: 'all@acme.test', groupTypes: ['Unified'], mailEnabled: true, members: ['u-ann', 'u-bob'] }],
};

const nodes = createNodes([acme]);
const { api, userToken, rcpt, createEvent, transitions } = nodes;
let redis: TestRedis;
let a: Node;
let b: Node;

beforeAll(async () => {
  redis = await startRedis();
  a = await nodes.start('a', { REDIS_URL: redis.url });
  b = await nodes.start('b', { REDIS_URL: redis.url });
  await nodes.signIn(a);
}, 120_000);

afterAll(async () => {
  await nodes.stop();
  await redis?.stop();
});

describe('two nodes on one database, joined through Redis', () => {
  it('pushes an event start to the sockets of both nodes, and fires it once', async () => {
    const annOnA = statusClient(a.server.url, await userToken(a, 'u-ann', 'ann@acme.test'));
    const bobOnB = statusClient(b.server.url, await userToken(b, 'u-bob', 'bob@acme.test'));
    await Promise.all([annOnA.connected(), bobOnB.connected()]);
    const eventId = await createEvent(a, 1500);
    const [onA, onB] = await Promise.all([
      annOnA.waitFor((s) => s.active && s.events.some((e) => e.id === eventId), 20_000),
      bobOnB.waitFor((s) => s.active && s.events.some((e) => e.id === eventId), 20_000),
    ]);
    // The same recorded change reached both nodes' sockets.
    expect(onB.seq).toBe(onA.seq);
    await new Promise((r) => setTimeout(r, 1500)); // a second firing would have happened by now
    expect(await transitions(a, eventId)).toEqual([['start', 'schedule']]);
    expect(annOnA.received.filter((s) => s.seq === onA.seq)).toHaveLength(1);
    expect(bobOnB.received.filter((s) => s.seq === onB.seq)).toHaveLength(1);
    annOnA.socket.close();
    bobOnB.socket.close();
    expect((await api(a, 'POST', `/api/events/${eventId}/end`)).status).toBeLessThan(300);
  }, 60_000);

  it('a directory change on one node is in force on the other at once (not after its 30 s cache)', async () => {
    expect(await rcpt(b, 'cy@acme.test')).toMatch(/^550/); // B now caches "no such user"
    nodes.writeDirectory([{ ...acme, users: [...acme.users, { id: 'u-cy', displayName: 'Cy', mail: 'cy@acme.test' }] }]);
    expect((await api(a, 'POST', '/api/directory/reload')).status).toBe(200);
    const ms = await untilAnswer(() => rcpt(b, 'cy@acme.test'), '250');
    console.log(`directory change on A in force on B after ${ms} ms`);
    expect(ms).toBeLessThan(30_000);
  }, 60_000);

  it("a monitor address claimed on one node is the monitor's on the other at once (not after the 5 s address book)", async () => {
    const address = 'watch-acme@monitor.lifeboat.test';
    expect(await rcpt(b, address)).toMatch(/^5/);
    const created = await api(a, 'POST', '/api/monitors', {
      name: 'Primary flow',
      probeMailbox: 'ann@acme.test',
      address,
      alertRecipients: { sms: ['+15550100'], email: ['oncall@example.org'] },
      defaultGroupId: 'g-all',
      timeZone: 'Europe/Berlin',
    });
    expect(created.status).toBe(201);
    const ms = await untilAnswer(() => rcpt(b, address), '250');
    console.log(`monitor address claimed on A in force on B after ${ms} ms`);
    expect(ms).toBeLessThan(5_000);
  }, 60_000);

  it('keeps pushing across nodes after Redis restarts (the nodes reconnect by themselves)', async () => {
    await redis.stop();
    redis = await startRedis(redis.port);
    const annOnA = statusClient(a.server.url, await userToken(a, 'u-ann', 'ann@acme.test'));
    const bobOnB = statusClient(b.server.url, await userToken(b, 'u-bob', 'bob@acme.test'));
    await Promise.all([annOnA.connected(), bobOnB.connected()]);
    const eventId = await createEvent(a, 2500);
    const [onA, onB] = await Promise.all([
      annOnA.waitFor((s) => s.active && s.events.some((e) => e.id === eventId), 20_000),
      bobOnB.waitFor((s) => s.active && s.events.some((e) => e.id === eventId), 20_000),
    ]);
    expect(onB.seq).toBe(onA.seq);
    annOnA.socket.close();
    bobOnB.socket.close();
    expect((await api(a, 'POST', `/api/events/${eventId}/end`)).status).toBeLessThan(300);
  }, 60_000);

  it('a node killed outright while an event starts: a client reconnecting to the survivor gets the current state by seq', async () => {
    const token = await userToken(a, 'u-ann', 'ann@acme.test');
    const onA = statusClient(a.server.url, token);
    await onA.connected();
    const before = await onA.waitFor(() => true);
    const eventId = await createEvent(a, 2000);
    await new Promise((r) => setTimeout(r, 2000)); // the start is due now, on both nodes
    a.server.child.kill('SIGKILL');
    await a.server.exited;
    // The pane reconnects (through the load balancer) to the surviving node with the last seq it saw.
    const lastSeq = onA.lastSeq() ?? before.seq;
    const covering = (s: ContinuityStatus) => s.active && s.events.some((e) => e.id === eventId);
    // A may have pushed the start before it died: then the client is current and B has nothing newer to send.
    const sawStartFromA = onA.received.some(covering);
    const onB = statusClient(b.server.url, token, { lastSeq });
    if (!sawStartFromA) {
      // If A died after claiming the start but before dispatching it, B dispatches it again after 30 s.
      const current = await onB.waitFor(covering, 45_000);
      expect(current.seq).toBeGreaterThan(lastSeq);
    } else {
      // Current already: a client that connects to B without a seq gets the same state (nothing was lost).
      const fresh = statusClient(b.server.url, token);
      const status = await fresh.waitFor(covering, 45_000);
      expect(status.seq).toBeGreaterThanOrEqual(lastSeq);
      fresh.socket.close();
    }
    onA.socket.close();
    onB.socket.close();
    expect(await transitions(b, eventId)).toEqual([['start', 'schedule']]);
  }, 90_000);
});
