/**
 * The simulated add-ins of `npm run bench:push`, in their own process so they do not share the
 * server's event loop. Connects one socket per token over several 127.0.0.x source addresses and
 * reports to the parent when each one receives a status or the baseline broadcast.
 */
import { io, type Socket } from 'socket.io-client';

interface Start {
  url: string;
  tokens: string[];
  sourceAddresses: number;
}

const sockets: Socket[] = [];

async function connectAll({ url, tokens, sourceAddresses }: Start): Promise<void> {
  const batch = 200;
  for (let i = 0; i < tokens.length; i += batch) {
    await Promise.all(
      tokens.slice(i, i + batch).map(
        (token, j) =>
          new Promise<void>((resolve, reject) => {
            const index = i + j;
            const socket = io(url, {
              transports: ['websocket'],
              reconnection: false,
              auth: { token, lastSeq: 0 },
              localAddress: `127.0.0.${1 + (index % sourceAddresses)}`,
            } as Parameters<typeof io>[1]);
            socket.on('continuity:status', (status: { active: boolean }) => {
              if (status.active) process.send!({ type: 'status', index, at: Date.now() });
            });
            socket.on('bench:baseline', () => process.send!({ type: 'baseline', index, at: Date.now() }));
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
  } else if (message.type === 'stop') {
    for (const s of sockets) s.disconnect();
    process.exit(0);
  }
});
