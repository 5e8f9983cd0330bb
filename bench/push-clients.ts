/**
 * Simulated add-ins of `npm run bench:push`, in their own process so they do not share a server's
 * event loop (the bench starts several of these: one process holds at most so many sockets, as the
 * open-file limit is per process). Connects one socket per token over several 127.0.0.x source
 * addresses and notes, on the shared clock (./clock.ts), when each one receives a status or the
 * baseline broadcast; once every socket of this process has one, the times go to the parent in one
 * message (a message per receipt would load the machine with 10,000 IPC messages while it pushes).
 */
import { io, type Socket } from 'socket.io-client';
import { sharedNow } from './clock';

export interface ClientsStart {
  /** Client i of the whole bench (offset + its index here) connects to urls[i % urls.length], an even share each as a balancer would. */
  urls: string[];
  offset: number;
  tokens: string[];
  sourceAddresses: number;
}

const sockets: Socket[] = [];
/** Round k (bench --rounds) waits for the status that lists the k-th event started. */
let round = 1;
const received = { status: { times: [] as number[], count: 0 }, baseline: { times: [] as number[], count: 0 } };

function note(kind: keyof typeof received, index: number): void {
  const r = received[kind];
  if (r.times[index] !== undefined) return;
  r.times[index] = sharedNow();
  if (++r.count === sockets.length) process.send!({ type: kind, times: r.times });
}

async function connectAll({ urls, offset, tokens, sourceAddresses }: ClientsStart): Promise<void> {
  const batch = 200;
  for (let i = 0; i < tokens.length; i += batch) {
    await Promise.all(
      tokens.slice(i, i + batch).map(
        (token, j) =>
          new Promise<void>((resolve, reject) => {
            const index = i + j;
            const socket = io(urls[(offset + index) % urls.length]!, {
              transports: ['websocket'],
              reconnection: false,
              auth: { token, lastSeq: 0 },
              localAddress: `127.0.0.${1 + ((offset + index) % sourceAddresses)}`,
            } as Parameters<typeof io>[1]);
            socket.on('continuity:status', (status: { active: boolean; events: unknown[] }) => {
              if (status.active && status.events.length >= round) note('status', index);
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

process.on('message', (message: { type: string } & ClientsStart) => {
  if (message.type === 'start') {
    connectAll(message)
      .then(() => process.send!({ type: 'connected' }))
      .catch((err: Error) => {
        process.send!({ type: 'error', message: err.message });
      });
  } else if (message.type === 'round') {
    round = (message as unknown as { round: number }).round;
    for (const r of Object.values(received)) {
      r.times = [];
      r.count = 0;
    }
  } else if (message.type === 'count') {
    process.send!({ type: 'count', status: received.status.count, baseline: received.baseline.count });
  } else if (message.type === 'stop') {
    for (const s of sockets) s.disconnect();
    process.exit(0);
  }
});
