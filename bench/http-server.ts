/** The benches' HTTP server: Lifeboat's app with the demo directory file and default settings, listening on a free port. */
import http from 'node:http';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { createApp } from '../server/app';
import { addinConfigFromEnv, DEMO_DIRECTORY_FILE, dnsConfigFromEnv } from '../server/config';
import type { Services } from '../server/services';

export async function listenApp(conn: Connection, services: Services, logger: Logger, host: string): Promise<http.Server> {
  const app = createApp({
    conn,
    services,
    logger,
    directoryFile: DEMO_DIRECTORY_FILE,
    publicUrl: 'http://localhost',
    addin: addinConfigFromEnv({}, 'http://localhost'),
    dns: dnsConfigFromEnv({}),
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return server;
}
