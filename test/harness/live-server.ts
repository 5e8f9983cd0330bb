/** The test's Lifeboat on a real loopback port, with Socket.IO push and a running scheduler. */
import { io as connect, type Socket } from 'socket.io-client';
import { createLogger } from '../../server/log';
import type { Cluster } from '../../server/cluster/redis';
import { Lifecycle, listenHttp, startLoops } from '../../server/lifecycle';
import { STATUS_EVENT, type Push } from '../../server/push/socket';
import type { ContinuityStatus } from '../../server/push/status';
import type { LifeboatTestContext } from './context';

export interface LiveServer {
  url: string;
  push: Push;
  close(): Promise<void>;
}

/** `cluster`: this server is one of several nodes joined through Redis (server/cluster/redis.ts), as main.ts joins them. */
/** `port`: a fixed port (a test whose public URL, e.g. a registered redirect URI, must be known before the server starts). */
export async function startLiveServer(ctx: LifeboatTestContext, options: { cluster?: Cluster; port?: number } = {}): Promise<LiveServer> {
  // The server's own steps (server/lifecycle.ts): HTTP with push, then the event scheduler; close() stops them in reverse.
  const logger = createLogger('silent');
  const lifecycle = new Lifecycle(logger);
  const http = await listenHttp(
    lifecycle,
    ctx.app,
    ctx.services,
    { port: options.port ?? 0, host: '127.0.0.1', tls: { kind: 'none' }, cluster: options.cluster },
    logger,
  );
  await startLoops(lifecycle, ctx.services, ['eventScheduler'], logger);
  return {
    url: `http://127.0.0.1:${http.port}`,
    push: http.push,
    close: () => lifecycle.stop(),
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
