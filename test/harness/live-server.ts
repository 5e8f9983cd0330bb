/** The test's Lifeboat on a real loopback port, with Socket.IO push and a running scheduler. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as connect, type Socket } from 'socket.io-client';
import { createLogger } from '../../server/log';
import type { Cluster } from '../../server/cluster/redis';
import { attachPush, STATUS_EVENT, type Push } from '../../server/push/socket';
import type { ContinuityStatus } from '../../server/push/status';
import { pushContinuityChanges } from '../../server/push/wiring';
import type { LifeboatTestContext } from './context';

export interface LiveServer {
  url: string;
  push: Push;
  close(): Promise<void>;
}

/** `cluster`: this server is one of several nodes joined through Redis (server/cluster/redis.ts), as main.ts joins them. */
export async function startLiveServer(ctx: LifeboatTestContext, options: { cluster?: Cluster } = {}): Promise<LiveServer> {
  const server = http.createServer(ctx.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const push = attachPush(server, {
    userAuth: ctx.services.userAuth,
    auth: ctx.services.auth,
    status: ctx.services.status,
    receipts: ctx.services.receipts,
    logger: createLogger('silent'),
    cluster: options.cluster,
  });
  pushContinuityChanges(ctx.services, push);
  ctx.services.scheduler.start();
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    push,
    async close() {
      await ctx.services.scheduler.stop();
      server.closeAllConnections();
      await push.close(); // closes the HTTP server too
    },
  };
}

/** A socket like the pane's: sends its token and last seq on every (re)connect, keeps what it receives. */
export function statusClient(url: string, token: string | (() => string), options: { reconnection?: boolean; lastSeq?: number } = {}) {
  const received: ContinuityStatus[] = [];
  let lastSeq: number | undefined = options.lastSeq;
  const socket: Socket = connect(url, {
    transports: ['websocket'],
    reconnection: options.reconnection ?? false,
    auth: (cb) => cb({ token: typeof token === 'function' ? token() : token, lastSeq }),
  });
  socket.on(STATUS_EVENT, (status: ContinuityStatus) => {
    received.push(status);
    if (lastSeq === undefined || status.seq > lastSeq) lastSeq = status.seq;
  });
  return {
    socket,
    received,
    latest: () => received[received.length - 1],
    lastSeq: () => lastSeq,
    async waitFor(predicate: (s: ContinuityStatus) => boolean, timeoutMs = 10_000): Promise<ContinuityStatus> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = [...received].reverse().find(predicate);
        if (match) return match;
        if (Date.now() > deadline) throw new Error(`no matching status; received: ${JSON.stringify(received)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    connected: () =>
      new Promise<void>((resolve, reject) => {
        if (socket.connected) return resolve();
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      }),
  };
}
