/**
 * Two real server processes (server/main.ts) on ONE database, joined through a real redis-server
 * (REDIS_URL): pushes reach every node's sockets, caches dropped on one node are dropped on the other,
 * a transition fires once across both, and a node killed outright loses no status (seq replay).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { testDatabaseUri } from '../harness/context';
import { statusClient } from '../harness/live-server';
import { startRedis, type TestRedis } from '../harness/redis';
import { startServer, type ServerProcess } from '../harness/server-process';
import { smtpSession } from '../harness/smtp-peers';
import type { ContinuityStatus } from '../../server/push/status';

const ADMIN = { LIFEBOAT_ADMIN_EMAIL: 'it@acme.test', LIFEBOAT_ADMIN_PASSWORD: 'first admin password' };
const SECRET = 'several-nodes-secret-0123456789abcdef0123';

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann', mail: 'ann@acme.test' },
    { id: 'u-bob', displayName: 'Bob', mail: 'bob@acme.test' },
  ],
  groups: [{ id: 'g-all', displayName: 'Everyone', mail: 'all@acme.test', groupTypes: ['Unified'], mailEnabled: true, members: ['u-ann', 'u-bob'] }],
};

interface Node {
  server: ServerProcess;
  smtpPort: number;
}

const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-nodes-'));
const directoryFile = path.join(root, 'directory.json');
const database = `nodes_${randomBytes(5).toString('hex')}`;
let redis: TestRedis;
let a: Node;
let b: Node;
let cookie: string;

function mongodbUri(): string {
  const url = new URL(testDatabaseUri());
  url.pathname = `/${database}`;
  return url.toString();
}

async function startNode(name: string): Promise<Node> {
  const server = await startServer({
    ...ADMIN,
    LIFEBOAT_DATA_DIR: path.join(root, name),
    LIFEBOAT_DIRECTORY_FILE: directoryFile,
    LIFEBOAT_SECRET: SECRET,
    MONGODB_URI: mongodbUri(),
    REDIS_URL: redis.url,
    ...(process.env.NODES_LOG_DIR ? { LOG_LEVEL: 'debug' } : {}),
  });
  const smtpPort = Number(/SMTP receiver on port (\d+)/.exec(server.stdout())![1]);
  return { server, smtpPort };
}

async function api(node: Node, method: string, url: string, body?: unknown): Promise<Response> {
  return fetch(`${node.server.url}${url}`, {
    method,
    headers: { cookie, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function userToken(node: Node, userId: string, email: string): Promise<string> {
  expect((await api(node, 'PUT', `/api/users/${userId}/cloud-password`, { password: 'a user password' })).status).toBe(204);
  const login = await fetch(`${node.server.url}/api/user-auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'a user password' }),
  });
  return (await login.json()).token;
}

/** The receiver's answer to RCPT TO for one address. */
async function rcpt(node: Node, address: string): Promise<string> {
  const s = await smtpSession(node.smtpPort);
  await s.command('EHLO sender.example');
  await s.command('MAIL FROM:<someone@sender.example>');
  const reply = await s.command(`RCPT TO:<${address}>`);
  await s.quit();
  return reply;
}

/** Asks until the answer starts with `code`; returns how long that took (ms). */
async function untilAnswer(ask: () => Promise<string>, code: string, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const reply = await ask();
    if (reply.startsWith(code)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`still "${reply}" after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function createEvent(node: Node, startsInMs: number): Promise<string> {
  const created = await api(node, 'POST', '/api/events', {
    description: `Failover ${Math.random().toString(36).slice(2, 8)}`,
    affectedGroupId: 'g-all',
    timeZone: 'Europe/London',
    start: new Date(Date.now() + startsInMs).toISOString(),
    end: null,
  });
  expect(created.status).toBe(201);
  return (await created.json()).id;
}

async function transitions(node: Node, eventId: string): Promise<string[][]> {
  const found: { kind: string; cause: string }[] = await (await api(node, 'GET', `/api/events/${eventId}/transitions`)).json();
  return found.map((t) => [t.kind, t.cause]);
}

beforeAll(async () => {
  writeFileSync(directoryFile, JSON.stringify([acme]));
  redis = await startRedis();
  a = await startNode('a');
  b = await startNode('b');
  const login = await fetch(`${a.server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN.LIFEBOAT_ADMIN_EMAIL, password: ADMIN.LIFEBOAT_ADMIN_PASSWORD }),
  });
  expect(login.status).toBe(200);
  cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
}, 120_000);

afterAll(async () => {
  // NODES_LOG_DIR=/some/dir: each node's log (debug level) is kept there, to read after a failure.
  if (process.env.NODES_LOG_DIR) {
    for (const [name, node] of [
      ['a', a],
      ['b', b],
    ] as const)
      if (node) writeFileSync(path.join(process.env.NODES_LOG_DIR, `${name}.log`), node.server.stdout() + node.server.stderr());
  }
  await a?.server.stop();
  await b?.server.stop();
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
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
    writeFileSync(directoryFile, JSON.stringify([{ ...acme, users: [...acme.users, { id: 'u-cy', displayName: 'Cy', mail: 'cy@acme.test' }] }]));
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
