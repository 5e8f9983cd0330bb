/**
 * npm run bench:push [-- --clients N] [-- --nodes K] [-- --clients-per-process M] [-- --rounds R]
 *
 * Each node runs in its own process (./push-node.ts: its own database connection, services, Socket.IO
 * server and scheduler) on one embedded database; with --nodes 2 or more they are joined through a
 * real redis-server on loopback, as REDIS_URL joins them, and the clients are split evenly between them.
 * The baseline io.emit goes through the same Redis adapter. Each node holds only its own sockets.
 *
 * N simulated add-ins (socket.io-client, in ceil(N / M) child processes of at most M sockets each,
 * default M = 10,000, over several 127.0.0.x source addresses) signed in as N users of one group. An
 * event covering the group starts at a scheduled time; we measure from that time to each client's
 * receipt of the new status. In the same run, the baseline: a raw io.emit of the same payload to the
 * same clients, measured from the moment the node sends it. Every time is on one clock shared by all
 * the processes (CLOCK_MONOTONIC, ./clock.ts). Prints p50 / p99 / max of both (overall and per node),
 * their ratios, each node's memory per connection and the machine's load average.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openConnection } from '../server/db/connection';
import { startEmbeddedDatabase } from '../server/db/embedded/ferretdb';
import { createLogger } from '../server/log';
import { PREPARE_LEAD_MS } from '../server/push/prepare-ahead';
import { createServices, syncIndexes } from '../server/services';
import { startRedis } from '../test/harness/redis';
import { fromWallClock, sharedNow } from './clock';
import { processCpuMs } from './cpu';
import type { ClientsStart } from './push-clients';
import type { NodeOptions, NodeRequest } from './push-node';
import { numberArg, runBench } from './cli';

const N = numberArg('--clients', 10_000);
const NODES = numberArg('--nodes', 1);
const PER_PROCESS = numberArg('--clients-per-process', 10_000);
/** Measurements (an event start, then the baseline) in one run, on the same connected clients: the load of a shared machine varies between them. */
const ROUNDS = numberArg('--rounds', 1);
const SOURCE_ADDRESSES = 8;
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const LOG_LEVEL = process.env.LOG_LEVEL ?? 'warn';

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { min: sorted[0]!, p50: at(50), p99: at(99), max: sorted[sorted.length - 1]!, count: sorted.length };
}
type Percentiles = ReturnType<typeof percentiles>;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return Number.isInteger(middle) ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[Math.floor(middle)]!;
};

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface Node {
  child: ChildProcess;
  url: string;
  request<T = Record<string, unknown>>(request: NodeRequest): Promise<T>;
}

function startNode(options: NodeOptions): Promise<Node> {
  const child = fork(path.join(__dirname, 'push-node.ts'), [JSON.stringify(options)], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: 'inherit',
  });
  const pending = new Map<number, { resolve(value: never): void; reject(err: Error): void }>();
  let nextId = 0;
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node ${options.index} exited with ${code}`)));
    child.on('message', (m: { type?: string; url?: string; id?: number; error?: string }) => {
      if (m.type === 'ready') {
        resolve({
          child,
          url: m.url!,
          request: (request) =>
            new Promise((res, rej) => {
              const id = nextId++;
              pending.set(id, { resolve: res as (value: never) => void, reject: rej });
              child.send({ ...request, id });
            }),
        });
        return;
      }
      const waiting = pending.get(m.id!);
      pending.delete(m.id!);
      if (m.error) waiting?.reject(new Error(`node ${options.index}: ${m.error}`));
      else waiting?.resolve(m as never);
    });
  });
}

async function main() {
  console.log(`load average at the start (1 / 5 / 15 min): ${load()} on ${os.cpus().length} cores`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-push-'));
  const db = await startEmbeddedDatabase({ dataDir: dir });
  const redis = NODES > 1 ? await startRedis() : null;

  // The tenant, its directory and the users' tokens, written by the bench (not a node) before the nodes start.
  const logger = createLogger(LOG_LEVEL);
  const setupConn = await openConnection(db.uri, 'bench_push');
  const setup = createServices(setupConn, { sessionHours: 1, logger, secret: SECRET });
  await syncIndexes(setupConn);
  const users = Array.from({ length: N }, (_, i) => ({ id: `u${i}`, displayName: `User ${i}`, mail: `user${i}@bench.test` }));
  await setup.directory.importDirectory({
    tenant: { id: 'bench', name: 'Bench', domains: ['bench.test'] },
    users,
    groups: [{ id: 'g-all', displayName: 'Everyone', mailEnabled: true, members: users.map((u) => u.id) }],
  });
  const tokens = await Promise.all(users.map(async (u) => (await setup.tokens.issue('bench', u.id, { email: u.mail, name: u.displayName })).token));
  await setupConn.close();

  const nodes: Node[] = [];
  for (let index = 0; index < NODES; index++)
    nodes.push(await startNode({ index, dbUri: db.uri, dbName: 'bench_push', redisUrl: redis?.url ?? null, secret: SECRET, logLevel: LOG_LEVEL }));
  type Memory = { memory: NodeJS.MemoryUsage; sockets: number };
  const memoryBefore = await Promise.all(nodes.map((n) => n.request<Memory>({ type: 'memory' })));

  // The clients, in processes of at most PER_PROCESS sockets; client i goes to node i % NODES.
  const processes = Math.ceil(N / PER_PROCESS);
  const share = Math.ceil(N / processes);
  const receipts = { status: [] as number[][], baseline: [] as number[][] };
  const received = { status: 0, baseline: 0 };
  const connectedPer: number[] = [];
  const counts: string[] = [];
  let connected = 0;
  let connectedAll!: () => void;
  const allConnected = new Promise<void>((resolve) => (connectedAll = resolve));
  const clients = Array.from({ length: processes }, (_, k) => {
    const offset = k * share;
    const child = fork(path.join(__dirname, 'push-clients.ts'), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    child.on('message', (m: { type: string; times?: number[]; connected?: number; message?: string; status?: number; baseline?: number }) => {
      if (m.type === 'status' || m.type === 'baseline') {
        receipts[m.type][k] = m.times!;
        received[m.type]++;
      } else if (m.type === 'count') counts[k] = `status ${m.status}, baseline ${m.baseline}`;
      else if (m.type === 'progress') {
        connectedPer[k] = m.connected!;
        process.stdout.write(`\rconnected ${connectedPer.reduce((a, b) => a + (b ?? 0), 0)}/${N}`);
      } else if (m.type === 'connected' && ++connected === processes) connectedAll();
      else if (m.type === 'error') throw new Error(`clients failed: ${m.message}`);
    });
    const start: ClientsStart = { urls: nodes.map((n) => n.url), offset, tokens: tokens.slice(offset, offset + share), sourceAddresses: SOURCE_ADDRESSES };
    child.send({ type: 'start', ...start });
    return { child, offset };
  });
  const connectStarted = Date.now();
  await allConnected;
  console.log(
    `\n${N} clients connected in ${((Date.now() - connectStarted) / 1000).toFixed(1)} s from ${processes} client process${processes > 1 ? 'es' : ''} over ${SOURCE_ADDRESSES} source addresses` +
      (NODES > 1 ? `, split over ${NODES} node processes joined through Redis` : ', to one node process'),
  );
  await sleep(1000);
  const memoryAfter = await Promise.all(nodes.map((n) => n.request<Memory>({ type: 'memory' })));

  /** Every client process reports once each of its sockets has it; receipt times by node, relative to `from`. */
  const waitAll = async (what: 'status' | 'baseline', from: () => number) => {
    const deadline = Date.now() + 120_000;
    while (received[what] < processes) {
      if (Date.now() > deadline) {
        for (const c of clients) c.child.send({ type: 'count' });
        await sleep(500);
        throw new Error(`${what}: not every client received it within 120 s (per client process: ${counts.join('; ')} of ${share})`);
      }
      await sleep(20);
    }
    const all: number[] = [];
    const byNode: number[][] = nodes.map(() => []);
    clients.forEach(({ offset }, k) =>
      receipts[what][k]!.forEach((t, i) => {
        const ms = Math.round(t - from());
        all.push(ms);
        byNode[(offset + i) % NODES]!.push(ms);
      }),
    );
    return { all: percentiles(all), byNode: byNode.map(percentiles) };
  };
  const cpuNow = () => ({
    nodes: nodes.map((n) => processCpuMs(n.child.pid!)),
    db: processCpuMs(db.pid),
    clients: clients.reduce((sum, c) => sum + processCpuMs(c.child.pid!), 0),
  });
  const cpuSince = (before: ReturnType<typeof cpuNow>) => {
    const now = cpuNow();
    const nodesCpu = now.nodes.map((c, i) => `node ${i} ${(c - before.nodes[i]!).toFixed(0)}`).join(', ');
    return `${nodesCpu}, database ${(now.db - before.db).toFixed(0)}, clients ${(now.clients - before.clients).toFixed(0)} ms`;
  };

  // Warm-up, the same for both measurements below (see push-node.ts), from node 0 through the adapter.
  await nodes[0]!.request({ type: 'warm-up' });
  await sleep(1000);

  const row = (name: string, p: Percentiles) =>
    `${name.padEnd(36)} first ${String(p.min).padStart(4)} ms   p50 ${String(p.p50).padStart(5)} ms   p99 ${String(p.p99).padStart(5)} ms   max ${String(p.max).padStart(5)} ms`;
  const p99Ratios: number[] = [];
  let goalMet = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    await Promise.all(nodes.map((n) => n.request({ type: 'gc' })));
    receipts.status = [];
    receipts.baseline = [];
    received.status = received.baseline = 0;
    for (const c of clients) c.child.send({ type: 'round', round });

    // Lifeboat: an event covering every client starts at a scheduled time, created on node 0 (round k:
    // the k-th such event, so the status then lists k). The lead leaves room for creating it on a loaded
    // machine and for preparing the start ahead (PREPARE_LEAD_MS), as a real scheduled start has; a start
    // created too late to be prepared is reported.
    const start = Date.now() + 6000;
    const startShared = fromWallClock(start);
    const { createdAt } = await nodes[0]!.request<{ createdAt: number }>({ type: 'create-event', start: new Date(start).toISOString() });
    if (createdAt > start - PREPARE_LEAD_MS)
      console.log(`the event was created ${createdAt - start + PREPARE_LEAD_MS} ms too late to be prepared ahead (machine load)`);
    await sleep(start - 50 - Date.now());
    let cpuBefore = cpuNow();
    const ours = await waitAll('status', () => startShared);
    const oursCpu = cpuSince(cpuBefore);
    const loadOurs = load();

    // Baseline: the same payload, a raw io.emit from node 0 through the same adapter, timed from its send.
    // Not before the start's own after-work (mail holding, SMS: on the node that fired it) is done, as
    // the push had quiet nodes: the CPU of a second's pause just before is printed to show it was.
    await sleep(1000);
    await Promise.all(nodes.map((n) => n.request({ type: 'gc' })));
    const idleBefore = cpuNow();
    await sleep(1000);
    const idle = cpuSince(idleBefore);
    const at = sharedNow() + 1000;
    await sleep(950);
    cpuBefore = cpuNow();
    const baseline = await nodes[0]!.request<{ sent: number; emitMs: number }>({ type: 'baseline', at });
    const base = await waitAll('baseline', () => baseline.sent);
    const baseCpu = cpuSince(cpuBefore);

    if (ROUNDS > 1) console.log(`\n── round ${round} of ${ROUNDS}`);
    console.log(`\nCPU from 50 ms before until the last receipt: Lifeboat ${oursCpu}; baseline ${baseCpu} (in the second before the baseline: ${idle})`);
    console.log(`baseline io.emit returned after ${baseline.emitMs.toFixed(0)} ms on node 0`);
    console.log(
      `\nPush of an event start to ${N} clients${NODES > 1 ? ` on ${NODES} nodes` : ''} (Lifeboat from the scheduled start, the baseline from its send, to each receipt):`,
    );
    console.log(row('Lifeboat continuity:status', ours.all));
    console.log(row('baseline raw io.emit', base.all));
    if (NODES > 1)
      nodes.forEach((_, i) => {
        console.log(row(`  node ${i}${i === 0 ? ' (created the event)' : ''}: Lifeboat`, ours.byNode[i]!));
        console.log(row(`  node ${i}: baseline`, base.byNode[i]!));
      });
    const p99Ratio = ours.all.p99 / Math.max(1, base.all.p99);
    p99Ratios.push(p99Ratio);
    console.log(
      `ratio (Lifeboat / baseline)   p50 ${(ours.all.p50 / Math.max(1, base.all.p50)).toFixed(2)}×   p99 ${p99Ratio.toFixed(2)}×   max ${(ours.all.max / Math.max(1, base.all.max)).toFixed(2)}×`,
    );
    console.log(`load average (1 / 5 / 15 min): ${loadOurs} at the push, ${load()} after the baseline, on ${os.cpus().length} cores`);
    const met = NODES > 1 ? p99Ratio <= 1.3 : ours.all.p99 <= 250 && p99Ratio <= 1.5;
    if (met) goalMet++;
    if (NODES > 1) console.log(`goal with several nodes: p99 ≤ 1.3 × baseline → ${met ? 'met' : 'NOT met'}`);
    else console.log(`goal at N = 10,000: p99 ≤ 250 ms and ≤ 1.5 × baseline → ${met ? 'met' : 'NOT met'}`);
  }
  if (ROUNDS > 1)
    console.log(
      `\n${ROUNDS} rounds: p99 ratios ${p99Ratios.map((r) => `${r.toFixed(2)}×`).join(', ')} (median ${median(p99Ratios).toFixed(2)}×); goal met in ${goalMet} of ${ROUNDS}`,
    );
  console.log('');
  nodes.forEach((_, i) => {
    const before = memoryBefore[i]!;
    const after = memoryAfter[i]!;
    const sockets = after.sockets;
    const heap = (after.memory.heapUsed - before.memory.heapUsed) / sockets;
    const rss = (after.memory.rss - before.memory.rss) / sockets;
    console.log(
      `node ${i} memory per idle connection (${sockets} sockets, after a GC): rss ${kb(rss)}, heap ${kb(heap)} (the heap is resident: part of the rss) ` +
        `(heap ${mb(before.memory.heapUsed)} → ${mb(after.memory.heapUsed)}, rss ${mb(before.memory.rss)} → ${mb(after.memory.rss)})`,
    );
  });

  for (const c of clients) c.child.send({ type: 'stop' });
  for (const node of nodes) {
    const exited = new Promise((r) => node.child.once('exit', r));
    await node.request({ type: 'stop' }).catch(() => {});
    await exited;
  }
  await redis?.stop();
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

runBench(main);
