/**
 * Cross-node cache invalidation over Redis pub/sub: the reactions bus (../reactions/bus.ts) publishes
 * here a reaction whose catalogued listeners drop caches (`everyNode`), and every other node replays
 * those listeners only. Messages are tiny (`{origin, reaction, tenantId}`), delivered in well under a
 * second; this node's own messages come back from Redis and are ignored. Never decides what a message
 * means: the catalogue does.
 *
 * Pub/sub delivers at most once: a node cut from Redis misses what was published meanwhile. Every cache
 * invalidated this way also expires by itself (mail look-ups 30 s, events and the monitor address book
 * 5 s, the Entra connection state 5 s, status snapshots 1 s), so a missed message costs at most that
 * long; on reconnection, `onReconnect` lets the caller catch up at once (push does: see ../push/socket.ts).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ClusterLink, ClusterMessage } from '../reactions/bus';

export const INVALIDATION_CHANNEL = 'lifeboat:invalidate';

export function createInvalidationLink(deps: { publisher: Redis; subscriber: Redis; nodeId: string; logger: Logger }): ClusterLink & {
  ready: Promise<void>;
} {
  const { publisher, subscriber, nodeId } = deps;
  const log = deps.logger.child({ component: 'cluster' });
  const handlers: ((message: ClusterMessage) => void)[] = [];
  subscriber.on('message', (channel: string, raw: string) => {
    if (channel !== INVALIDATION_CHANNEL) return;
    let message: ClusterMessage;
    try {
      message = JSON.parse(raw) as ClusterMessage;
    } catch {
      return log.warn({ raw: raw.slice(0, 200) }, 'an invalidation message that is not JSON was ignored');
    }
    if (message.origin === nodeId || typeof message.tenantId !== 'string') return;
    for (const handler of handlers) handler(message);
  });
  // ioredis subscribes again by itself after a reconnection.
  const ready = subscriber.subscribe(INVALIDATION_CHANNEL).then(() => undefined);
  return {
    ready,
    publish(message) {
      publisher.publish(INVALIDATION_CHANNEL, JSON.stringify({ ...message, origin: nodeId })).catch((err) => {
        log.warn(
          { err, reaction: message.reaction, tenantId: message.tenantId },
          'an invalidation could not be published; other nodes see it when their caches expire',
        );
      });
    },
    onMessage(handler) {
      handlers.push(handler);
    },
  };
}
