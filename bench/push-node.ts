/**
 * One Lifeboat node of `npm run bench:push`, in its own process: its own database connection,
 * services, HTTP and Socket.IO server and scheduler, joined to the other nodes through Redis as
 * REDIS_URL joins real nodes (no Redis: one node, as the embedded default). It holds only its own
 * sockets, so each node's open files stay under the process limit and its memory is its own.
 *
 * The bench (bench/push.ts) drives it by IPC: measure memory, warm up, create the event, emit the
 * baseline at a given time, stop. Times are on the shared clock (./clock.ts).
 */
import type { AddressInfo } from 'node:net';
import { connectCluster, type Cluster } from '../server/cluster/redis';
import { openConnection } from '../server/db/connection';
import { createLogger } from '../server/log';
import { attachPush } from '../server/push/socket';
import { pushContinuityChanges } from '../server/push/wiring';
import { createServices } from '../server/services';
import { sharedNow } from './clock';
import { listenApp } from './http-server';

export interface NodeOptions {
  index: number;
  dbUri: string;
  dbName: string;
  redisUrl: string | null;
  secret: string;
  logLevel: string;
}

export type NodeRequest =
  { type: 'memory' } | { type: 'gc' } | { type: 'warm-up' } | { type: 'create-event'; start: string } | { type: 'baseline'; at: number } | { type: 'stop' };

const gc = () => (global as { gc?: () => void }).gc?.();
const send = (message: object) => process.send!(message);

async function main(options: NodeOptions) {
  const logger = createLogger(options.logLevel).child({ node: options.index });
  const conn = await openConnection(options.dbUri, options.dbName);
  const services = createServices(conn, { sessionHours: 1, logger, secret: options.secret });
  let cluster: Cluster | undefined;
  if (options.redisUrl) {
    cluster = await connectCluster(options.redisUrl, logger);
    services.reactions.useCluster(cluster.invalidation);
  }
  const server = await listenApp(conn, services, logger, '0.0.0.0');
  const push = attachPush(server, { userAuth: services.userAuth, auth: services.auth, status: services.status, logger, cluster });
  pushContinuityChanges(services, push);
  services.scheduler.start();
  // Through the adapter, as any broadcast: to every node's sockets.
  const io = push.io as unknown as { emit(event: string, payload: unknown): void; to(room: string): { emit(event: string, payload: unknown): void } };

  const handlers: { [K in NodeRequest['type']]: (request: Extract<NodeRequest, { type: K }>) => Promise<object> } = {
    async memory() {
      await new Promise((r) => setTimeout(r, 200));
      gc();
      return { memory: process.memoryUsage(), sockets: push.io.of('/').sockets.size };
    },
    // Before each measurement, on every node: neither pays for the other's garbage.
    async gc() {
      gc();
      return {};
    },
    // One broadcast through the namespace and one through the tenant room, three times, so neither
    // measurement pays for the first run of the broadcast path (JIT, socket buffers) on any node. The
    // payload has the shape of an active status; clients ignore these events.
    async 'warm-up'() {
      const payload = {
        seq: 0,
        active: true,
        events: [{ id: '0'.repeat(24), description: 'Warm-up outage', startMessage: 'Use Lifeboat', start: new Date(), end: null, timeZone: 'UTC' }],
        at: new Date(),
      };
      for (let round = 0; round < 3; round++) {
        io.emit('bench:warmup', payload);
        await new Promise((r) => setTimeout(r, 500));
        io.to('tenant:bench').emit('bench:warmup', payload);
        await new Promise((r) => setTimeout(r, 500));
      }
      return {};
    },
    async 'create-event'({ start }) {
      const admin = { tenantId: 'bench', adminId: 'bench', email: 'bench@bench.test', displayName: 'Bench', role: 'fullAdministrator' as const };
      await services.events.create(
        admin,
        { description: 'Bench outage', affectedGroupId: 'g-all', timeZone: 'UTC', start, end: null, appNotifications: { startMessage: 'Use Lifeboat' } },
        { ip: null, requestId: null },
      );
      return { createdAt: Date.now() };
    },
    // The same payload as the status, a raw io.emit through the same adapter, timed from its send.
    async baseline({ at }) {
      const payload = await services.status.forUser('bench', 'u0');
      await new Promise((r) => setTimeout(r, Math.max(0, at - sharedNow())));
      const sent = sharedNow();
      io.emit('bench:baseline', payload);
      return { sent, emitMs: sharedNow() - sent };
    },
    async stop() {
      await services.scheduler.stop();
      server.closeAllConnections();
      await push.close();
      await cluster?.close();
      await conn.close();
      setImmediate(() => process.exit(0));
      return {};
    },
  };

  process.on('message', (request: NodeRequest & { id: number }) => {
    (handlers[request.type] as (r: NodeRequest) => Promise<object>)(request)
      .then((reply) => send({ id: request.id, ...reply }))
      .catch((err: Error) => send({ id: request.id, error: err.stack ?? err.message }));
  });
  send({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

main(JSON.parse(process.argv[2]!) as NodeOptions).catch((err) => {
  console.error(err);
  process.exit(1);
});
