/**
 * Several nodes (REDIS_URL set): one Redis connection for commands and one for subscriptions, the
 * Socket.IO adapter every node's sockets share, and the invalidation link of ./invalidation.ts. Unset,
 * nothing here runs: one node, as the embedded default (no Redis needed).
 *
 * Why the Redis STREAMS adapter (`@socket.io/redis-streams-adapter`) rather than the pub/sub one: room
 * broadcasts (the admins' live updates, the sync progress) are appended to a Redis stream that every node
 * reads from its last offset, so a node whose connection to Redis drops, or a Redis restart, loses no
 * packet: the node reads on from where it was. With the pub/sub adapter whatever is published while a
 * node is disconnected is gone. Server-side messages between nodes (a continuity push fanned out to
 * every node's own sockets, ../push/socket.ts) travel by pub/sub in both adapters; push makes up for a
 * missed one itself (seq: a node that reconnects to Redis re-pushes tenants whose seq moved).
 */
import { randomUUID } from 'node:crypto';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createInvalidationLink } from './invalidation';

export type SocketAdapter = ReturnType<typeof createAdapter>;

export interface Cluster {
  /** This process, among the nodes (a fresh id per start). */
  nodeId: string;
  /** The Socket.IO adapter (attachPush); made at the first call, as it opens its own Redis connections (closed with the socket server). */
  socketAdapter(): SocketAdapter;
  invalidation: ReturnType<typeof createInvalidationLink>;
  /** Called after the connection to Redis came back (messages may have been missed meanwhile). */
  onReconnect(listener: () => void): void;
  /**
   * The connection the API rate limits count on (server/http/rate-limit.ts), made at the first call.
   * Its own, failing fast while Redis is away (no offline queue), so a request never waits for Redis:
   * the limiter falls back to counting in memory meanwhile.
   */
  rateLimitClient(): Redis;
  close(): Promise<void>;
}

export class ClusterStartError extends Error {}

export async function connectCluster(url: string, logger: Logger): Promise<Cluster> {
  const log = logger.child({ component: 'cluster' });
  const nodeId = randomUUID();
  // Commands are queued while Redis is away and sent when it is back; the process never stops for it.
  const options = { maxRetriesPerRequest: null, lazyConnect: true, retryStrategy: (times: number) => Math.min(times * 200, 2000) };
  const publisher = new Redis(url, options);
  const subscriber = new Redis(url, options);
  let lost = false;
  const reconnectListeners: (() => void)[] = [];
  let closing = false;
  for (const client of [publisher, subscriber]) {
    client.on('error', (err) => {
      if (!lost) log.warn({ err }, 'the connection to Redis failed; retrying');
      lost = true;
    });
    // A restarted Redis closes the connection without an error when it comes back at once.
    client.on('close', () => {
      if (closing || lost) return;
      log.warn('the connection to Redis closed; reconnecting');
      lost = true;
    });
  }
  subscriber.on('ready', () => {
    if (!lost) return;
    lost = false;
    log.info('the connection to Redis is back');
    for (const listener of reconnectListeners) listener();
  });
  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
  } catch (err) {
    publisher.disconnect();
    subscriber.disconnect();
    throw new ClusterStartError(`Redis at REDIS_URL does not answer (${(err as Error).message})`);
  }
  lost = false;
  const invalidation = createInvalidationLink({ publisher, subscriber, nodeId, logger });
  await invalidation.ready;
  let adapter: SocketAdapter | null = null;
  let limits: Redis | null = null;
  log.info({ nodeId }, 'joined the other nodes through Redis');
  return {
    nodeId,
    // Reads block at most 1 s, so a closing node lets go of Redis quickly.
    socketAdapter: () => (adapter ??= createAdapter(publisher, { streamName: 'lifeboat:socket.io', channelPrefix: 'lifeboat:socket.io', blockTimeInMs: 1000 })),
    invalidation,
    onReconnect: (listener) => void reconnectListeners.push(listener),
    rateLimitClient() {
      if (!limits) {
        limits = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: options.retryStrategy });
        limits.on('error', () => {}); // reported by the other connections; the limiter counts in memory meanwhile
      }
      return limits;
    },
    async close() {
      closing = true;
      limits?.disconnect();
      subscriber.disconnect();
      await publisher.quit().catch(() => publisher.disconnect());
    },
  };
}
