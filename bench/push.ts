/**
 * npm run bench:push [-- --clients N] [-- --nodes 2]
 *
 * --nodes 2: two nodes (each its own database connection, services and Socket.IO server) joined
 * through a real redis-server on loopback, as REDIS_URL joins them; the clients are split evenly
 * between them and the baseline io.emit goes through the same Redis adapter. Both nodes run in this
 * one process (one CPU thread for both): the figures are an upper bound for two real nodes.
 *
 * N simulated add-ins (socket.io-client, in a child process, over several 127.0.0.x source
 * addresses) signed in as N users of one group. An event covering the group starts; we measure
 * from its scheduled start to each client's receipt of the new status. In the same run, the
 * baseline: a raw io.emit of the same payload to the same clients, measured from its send time.
 * Prints p50 / p99 / max of both, their ratios, and server memory per connection.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../server/app';
import { addinConfigFromEnv, DEMO_DIRECTORY_FILE, dnsConfigFromEnv } from '../server/config';
import { openConnection } from '../server/db/connection';
import { startEmbeddedDatabase } from '../server/db/embedded/ferretdb';
import { createLogger } from '../server/log';
import { PREPARE_LEAD_MS } from '../server/push/prepare-ahead';
import { attachPush } from '../server/push/socket';
import { pushContinuityChanges } from '../server/push/wiring';
import { createServices, syncIndexes } from '../server/services';
import { cpuMs } from './cpu';
import { connectCluster, type Cluster } from '../server/cluster/redis';
import { startRedis } from '../test/harness/redis';

const argIndex = process.argv.indexOf('--clients');
const N = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 10_000;
const SOURCE_ADDRESSES = 8;
const nodesIndex = process.argv.indexOf('--nodes');
const NODES = nodesIndex > 0 ? Number(process.argv[nodesIndex + 1]) : 1;

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { min: sorted[0], p50: at(50), p99: at(99), max: sorted[sorted.length - 1], count: sorted.length };
}

const cpuSince = (before: { node: number; db: number }, dbPid: number) => {
  const now = cpuMs(dbPid);
  return `${(now.node - before.node).toFixed(0)} / ${(now.db - before.db).toFixed(0)} ms`;
};

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const gc = () => (global as { gc?: () => void }).gc?.();

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-push-'));
  const db = await startEmbeddedDatabase({ dataDir: dir });
  const conn = await openConnection(db.uri, 'bench_push');
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const services = createServices(conn, { sessionHours: 1, logger, secret: 'bench-secret-0123456789abcdef0123456789' });
  await syncIndexes(conn);
  const users = Array.from({ length: N }, (_, i) => ({ id: `u${i}`, displayName: `User ${i}`, mail: `user${i}@bench.test` }));
  await services.directory.importDirectory({
    tenant: { id: 'bench', name: 'Bench', domains: ['bench.test'] },
    users,
    groups: [{ id: 'g-all', displayName: 'Everyone', mailEnabled: true, members: users.map((u) => u.id) }],
  });

  const redis = NODES > 1 ? await startRedis() : null;
  const clusters: Cluster[] = [];
  /** One node: its services (the first node's are the ones above), HTTP and Socket.IO server, scheduler. */
  async function startNode(nodeServices: typeof services, nodeConn: typeof conn) {
    const cluster = redis ? await connectCluster(redis.url, logger) : undefined;
    if (cluster) {
      clusters.push(cluster);
      nodeServices.reactions.useCluster(cluster.invalidation);
    }
    const app = createApp({
      conn: nodeConn,
      services: nodeServices,
      logger,
      directoryFile: DEMO_DIRECTORY_FILE,
      publicUrl: 'http://localhost',
      addin: addinConfigFromEnv({}, 'http://localhost'),
      dns: dnsConfigFromEnv({}),
    });
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    const push = attachPush(server, { userAuth: nodeServices.userAuth, auth: nodeServices.auth, status: nodeServices.status, logger, cluster });
    pushContinuityChanges(nodeServices, push);
    nodeServices.scheduler.start();
    return { server, push, services: nodeServices, conn: nodeConn, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }
  const nodes = [await startNode(services, conn)];
  for (let i = 1; i < NODES; i++) {
    const nodeConn = await openConnection(db.uri, 'bench_push');
    nodes.push(await startNode(createServices(nodeConn, { sessionHours: 1, logger, secret: 'bench-secret-0123456789abcdef0123456789' }), nodeConn));
  }
  const { server, push, url } = nodes[0]!;

  const tokens = await Promise.all(users.map(async (u) => (await services.tokens.issue('bench', u.id, { email: u.mail, name: u.displayName })).token));
  gc();
  const memoryBefore = process.memoryUsage();

  const clients = fork(path.join(__dirname, 'push-clients.ts'), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const receipts: Record<'status' | 'baseline', number[] | null> = { status: null, baseline: null };
  let counts = '';
  let connected!: () => void;
  const allConnected = new Promise<void>((resolve) => (connected = resolve));
  clients.on('message', (m: { type: string; times?: number[]; connected?: number; message?: string; status?: number; baseline?: number }) => {
    if (m.type === 'status' || m.type === 'baseline') receipts[m.type] = m.times!;
    else if (m.type === 'count') counts = `status ${m.status}/${N}, baseline ${m.baseline}/${N}`;
    else if (m.type === 'progress') process.stdout.write(`\rconnected ${m.connected}/${N}`);
    else if (m.type === 'connected') connected();
    else if (m.type === 'error') throw new Error(`clients failed: ${m.message}`);
  });
  const connectStarted = Date.now();
  clients.send({ type: 'start', url, urls: nodes.map((n) => n.url), tokens, sourceAddresses: SOURCE_ADDRESSES });
  await allConnected;
  console.log(
    `\n${N} clients connected in ${((Date.now() - connectStarted) / 1000).toFixed(1)} s over ${SOURCE_ADDRESSES} source addresses` +
      (NODES > 1 ? `, split over ${NODES} nodes joined through Redis` : ''),
  );
  await new Promise((r) => setTimeout(r, 1000));
  gc();
  const memoryAfter = process.memoryUsage();

  // The clients report once every one of them has received it (receipt times taken in their process).
  const waitAll = async (what: 'status' | 'baseline'): Promise<number[]> => {
    const deadline = Date.now() + 60_000;
    while (!receipts[what]) {
      if (Date.now() > deadline) {
        clients.send({ type: 'count' });
        await new Promise((r) => setTimeout(r, 500));
        throw new Error(`${what}: not every client received it within 60 s (${counts})`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return receipts[what]!;
  };

  // Warm-up, the same for both measurements below: one broadcast through the namespace and one
  // through the tenant room, so neither measurement pays for the first run of the broadcast path
  // (JIT, socket buffers) — a running server has pushed before. Clients ignore these events. The
  // payload has the shape of an active status, so encoding (server) and decoding (clients) are warm
  // for whichever measurement comes first.
  const warm = push.io as unknown as { emit(event: string, payload: unknown): void; to(room: string): { emit(event: string, payload: unknown): void } };
  const warmPayload = {
    seq: 0,
    active: true,
    events: [{ id: '0'.repeat(24), description: 'Warm-up outage', startMessage: 'Use Lifeboat', start: new Date(), end: null, timeZone: 'UTC' }],
    at: new Date(),
  };
  for (let round = 0; round < 3; round++) {
    warm.emit('bench:warmup', warmPayload);
    await new Promise((r) => setTimeout(r, 500));
    warm.to('tenant:bench').emit('bench:warmup', warmPayload);
    await new Promise((r) => setTimeout(r, 500));
  }
  await new Promise((r) => setTimeout(r, 1000));
  gc();

  // Lifeboat: an event covering every client starts at a scheduled time. The lead leaves room for
  // creating it on a loaded machine and for preparing the start ahead (PREPARE_LEAD_MS), as a real
  // scheduled start has; a start created too late to be prepared is reported.
  const start = Date.now() + 6000;
  const admin = { tenantId: 'bench', adminId: 'bench', email: 'bench@bench.test', displayName: 'Bench', role: 'fullAdministrator' as const };
  await services.events.create(
    admin,
    {
      description: 'Bench outage',
      affectedGroupId: 'g-all',
      timeZone: 'UTC',
      start: new Date(start).toISOString(),
      end: null,
      appNotifications: { startMessage: 'Use Lifeboat' },
    },
    { ip: null, requestId: null },
  );
  const createdAt = Date.now();
  if (createdAt > start - PREPARE_LEAD_MS)
    console.log(`the event was created ${createdAt - start + PREPARE_LEAD_MS} ms too late to be prepared ahead (machine load)`);
  await new Promise((r) => setTimeout(r, Math.max(0, start - 50 - Date.now())));
  let cpuBefore = cpuMs(db.pid);
  const ours = percentiles((await waitAll('status')).map((t) => t - start));
  const oursCpu = cpuSince(cpuBefore, db.pid);

  // Baseline: the same payload, raw io.emit to the same clients, at a chosen time.
  const payload = await services.status.forUser('bench', 'u0');
  const baselineStart = Date.now() + 1000;
  await new Promise((r) => setTimeout(r, baselineStart - 50 - Date.now()));
  cpuBefore = cpuMs(db.pid);
  await new Promise((r) => setTimeout(r, baselineStart - Date.now()));
  const emitStarted = performance.now();
  (push.io as unknown as { emit(event: string, payload: unknown): void }).emit('bench:baseline', payload);
  const baselineEmitMs = performance.now() - emitStarted;
  const base = percentiles((await waitAll('baseline')).map((t) => t - baselineStart));
  const baseCpu = cpuSince(cpuBefore, db.pid);
  console.log(`CPU from 50 ms before until the last receipt (server / database): Lifeboat ${oursCpu}, baseline ${baseCpu}`);
  console.log(`baseline io.emit returned after ${baselineEmitMs.toFixed(0)} ms`);

  const row = (name: string, p: ReturnType<typeof percentiles>) =>
    `${name.padEnd(28)} first ${String(p.min).padStart(4)} ms   p50 ${String(p.p50).padStart(5)} ms   p99 ${String(p.p99).padStart(5)} ms   max ${String(p.max).padStart(5)} ms`;
  console.log(`\nPush of an event start to ${N} clients${NODES > 1 ? ` on ${NODES} nodes` : ''} (from scheduled start to receipt):`);
  console.log(row('Lifeboat continuity:status', ours));
  console.log(row('baseline raw io.emit', base));
  console.log(
    `ratio (Lifeboat / baseline)   p50 ${(ours.p50 / Math.max(1, base.p50)).toFixed(2)}×   p99 ${(ours.p99 / Math.max(1, base.p99)).toFixed(2)}×   max ${(ours.max / Math.max(1, base.max)).toFixed(2)}×`,
  );
  console.log(
    `server memory per connection: rss ${((memoryAfter.rss - memoryBefore.rss) / N / 1024).toFixed(1)} KB, heap ${((memoryAfter.heapUsed - memoryBefore.heapUsed) / N / 1024).toFixed(1)} KB ` +
      `(rss ${mb(memoryBefore.rss)} → ${mb(memoryAfter.rss)})`,
  );
  if (NODES > 1) console.log(`goal with several nodes: p99 ≤ 1.3 × baseline → ${ours.p99 <= 1.3 * Math.max(1, base.p99) ? 'met' : 'NOT met'}`);
  else console.log(`goal at N = 10,000: p99 ≤ 250 ms and ≤ 1.5 × baseline → ${ours.p99 <= 250 && ours.p99 <= 1.5 * Math.max(1, base.p99) ? 'met' : 'NOT met'}`);

  clients.send({ type: 'stop' });
  for (const node of nodes.slice(1)) {
    await node.services.scheduler.stop();
    node.server.closeAllConnections();
    await node.push.close();
    await node.conn.close();
  }
  await services.scheduler.stop();
  server.closeAllConnections();
  await push.close();
  for (const cluster of clusters) await cluster.close();
  await redis?.stop();
  await conn.close();
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
