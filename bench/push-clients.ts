/**
 * The simulated add-ins of `npm run bench:push`, in their own process so they do not share the
 * server's event loop. Connects one socket per token over several 127.0.0.x source addresses and
 * notes when each one receives a status or the baseline broadcast; once every socket has one, the
 * times go to the parent in one message (a message per receipt would load the server process being
 * measured with 10,000 IPC messages while it pushes).
 */
import { io, type Socket } from 'socket.io-client';

interface Start {
  url: string;
  /** Several nodes: client i connects to urls[i % urls.length] (an even share each, as a balancer would). */
  urls?: string[];
  tokens: string[];
  sourceAddresses: number;
}

const sockets: Socket[] = [];
const received = { status: { times: [] as number[], count: 0 }, baseline: { times: [] as number[], count: 0 } };

function note(kind: keyof typeof received, index: number): void {
  const r = received[kind];
  if (r.times[index] !== undefined) return;
  r.times[index] = Date.now();
  if (++r.count === sockets.length) process.send!({ type: kind, times: r.times });
}

async function connectAll({ url, urls, tokens, sourceAddresses }: Start): Promise<void> {
  const batch = 200;
  for (let i = 0; i < tokens.length; i += batch) {
    await Promise.all(
      tokens.slice(i, i + batch).map(
        (token, j) =>
          new Promise<void>((resolve, reject) => {
            const index = i + j;
            const socket = io(urls?.length ? urls[index % urls.length]! : url, {
              transports: ['websocket'],
              reconnection: false,
              auth: { token, lastSeq: 0 },
              localAddress: `127.0.0.${1 + (index % sourceAddresses)}`,
            } as Parameters<typeof io>[1]);
            socket.on('continuity:status', (status: { active: boolean }) => {
              if (status.active) note('status', index);
            });
            socket.on('bench:baseline', () => note('baseline', index));
            socket.once('connect', () => resolve());
            socket.once('connect_error', reject);
            sockets.push(socket);
          }),
      ),
    );
    process.send!({ type: 'progress', connected: Math.min(tokens.length, i + batch) });
  }
}

process.on('message', (message: { type: string } & Start) => {
  if (message.type === 'start') {
    connectAll(message)
      .then(() => process.send!({ type: 'connected' }))
      .catch((err: Error) => {
        process.send!({ type: 'error', message: err.message });
      });
  } else if (message.type === 'count') {
    process.send!({ type: 'count', status: received.status.count, baseline: received.baseline.count });
  } else if (message.type === 'stop') {
    for (const s of sockets) s.disconnect();
    process.exit(0);
  }
});
