/**
 * A loopback TCP proxy in front of a test server, to cut the network between the browser and the
 * server: cut() drops every open connection and refuses new ones until resume(). Works for HTTP,
 * WebSocket and TLS alike (it only moves bytes).
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  url: string;
  cut(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, scheme = 'http'): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    cut() {
      refusing = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    resume() {
      refusing = false;
    },
    async close() {
      refusing = true;
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
