/**
 * Process entry: configuration → database (MONGODB_URI, or the embedded FerretDB) → directory
 * file → first admin → HTTP. Startup problems end in one clear line and exit code 1; a signal or
 * a crash stops the embedded database with us.
 */
import type { Server } from 'node:http';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { createApp } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { openConnection } from './db/connection';
import { EmbeddedBuildError } from './db/embedded/build';
import { EmbeddedStartError, startEmbeddedDatabase, type EmbeddedDatabase } from './db/embedded/ferretdb';
import { DirectoryFileError, readDirectoryFile } from './directory/file-provider';
import { createLifeboatServer, resolveTls, TlsConfigError, type TlsSetup } from './http/tls';
import { createLogger } from './log';
import { resolveSecret } from './secrets/secret';
import { attachPush } from './push/socket';
import { pushContinuityChanges } from './push/wiring';
import { createSyncScheduler, type SyncScheduler } from './directory/graph/scheduler';
import { createServices, syncIndexes } from './services';
import { readFileSync } from 'node:fs';
import { createReceiver } from './mail/receiver';
import { buildWeb, canBuild, missingPages, WebBuildError } from './http/web-build';

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

class StartupError extends Error {}

function fail(message: string): never {
  console.error(`Lifeboat cannot start: ${message}`);
  process.exit(1);
}

async function openDatabase(config: Config, log: (line: string) => void): Promise<{ conn: Connection; embedded: EmbeddedDatabase | null }> {
  if (config.mongodbUri) {
    try {
      return { conn: await openConnection(config.mongodbUri), embedded: null };
    } catch (err) {
      throw new StartupError(
        `the database at MONGODB_URI does not answer (${(err as Error).message}). ` + 'Fix MONGODB_URI, or unset it to use the embedded database.',
      );
    }
  }
  let embedded: EmbeddedDatabase;
  try {
    embedded = await startEmbeddedDatabase({ dataDir: path.join(config.dataDir, 'db'), log });
  } catch (err) {
    if (err instanceof EmbeddedBuildError || err instanceof EmbeddedStartError) {
      throw new StartupError(
        `${err.message}. Either set MONGODB_URI to a MongoDB (6 or later) or FerretDB server, ` +
          'or make the embedded database usable: install Go 1.24 or later and run `npm run build:db`.',
      );
    }
    throw err;
  }
  try {
    return { conn: await openConnection(embedded.uri), embedded };
  } catch (err) {
    await embedded.stop();
    throw new StartupError(`the embedded database started but does not answer (${(err as Error).message}).`);
  }
}

async function main(): Promise<void> {
  let config: Config;
  let tls: TlsSetup;
  try {
    config = loadConfig();
    tls = resolveTls(process.env, { dataDir: config.dataDir, publicUrl: config.publicUrl });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof TlsConfigError) fail(`configuration error in ${err.message}`);
    throw err;
  }
  const logger = createLogger(config.logLevel);

  // Fail on a bad directory file before starting anything that would need stopping.
  let directoryDocs;
  try {
    directoryDocs = readDirectoryFile(config.directoryFile);
  } catch (err) {
    if (err instanceof DirectoryFileError) fail(err.message);
    throw err;
  }

  let embedded: EmbeddedDatabase | null = null;
  let conn: Connection | null = null;
  let server: Server | null = null;
  let syncScheduler: SyncScheduler | null = null;
  let stopping = false;
  let stopEventScheduler: () => Promise<void> = async () => {};
  let stopMail: () => Promise<void> = async () => {};

  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server?.closeAllConnections();
    await stopEventScheduler();
    await stopMail().catch(() => {});
    await syncScheduler?.stop().catch(() => {});
    await conn?.close().catch(() => {});
    await embedded?.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; stopping');
    void shutdown(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection; stopping');
    void shutdown(1);
  });

  try {
    // A clone installed without its install scripts: build the pages now rather than serve none.
    if (missingPages().length) {
      if (canBuild()) {
        await buildWeb((line) => console.log(line)).catch((err) => {
          throw new StartupError(err instanceof WebBuildError ? err.message : String(err));
        });
      } else console.log(`Lifeboat web pages are not built (${missingPages().join(', ')} missing): run \`npm ci\` with dev dependencies.`);
    }
    const db = await openDatabase(config, (line) => console.log(line));
    embedded = db.embedded;
    conn = db.conn;
    const services = createServices(conn, {
      sessionHours: config.sessionHours,
      logger,
      secret: resolveSecret(config.secret, config.dataDir), // generated on first start, then kept
      graph: config.graph,
      entra: config.entra,
      userTokenMinutes: config.userTokenMinutes,
      publicUrl: config.publicUrl,
      mail: { hostname: config.smtp.hostname },
    });
    await syncIndexes(conn);

    for (const doc of directoryDocs) {
      // A tenant connected to Entra ID reads its directory from Graph, not from the file.
      if (await services.entra.connections.isConnected(doc.tenant.id)) continue;
      const counts = await services.directory.importDirectory(doc);
      logger.info({ tenant: doc.tenant.id, ...counts }, 'directory file loaded');
    }

    const sweeper = setInterval(() => {
      services.auth.sweep().catch((err) => logger.warn({ err }, 'session sweep failed'));
    }, SWEEP_INTERVAL_MS);
    sweeper.unref();
    syncScheduler = createSyncScheduler({ connections: services.entra.connections, sync: services.entra.sync, logger });
    syncScheduler.start();

    // Missed transitions (the server was down at their time) fire now, once, in order.
    services.scheduler.start();
    // Notifications: the events' start/end SMS and sends a crashed process left unfinished.
    services.notify.start();
    stopEventScheduler = async () => {
      await services.scheduler.stop();
      await services.notify.stop();
      await services.receipts.stop().catch(() => {});
    };

    // Mail: replay the spool and route whatever was stored but not routed before a crash, then
    // receive and deliver.
    const mail = services.mail;
    await mail.useSpool(path.join(config.dataDir, 'spool'));
    const recovered = await mail.recover();
    if (recovered) logger.info({ recovered }, 'routed messages stored before a restart');
    mail.worker.start();
    const receiver = createReceiver({
      mail,
      logger,
      hostname: config.smtp.hostname,
      maxMessageBytes: config.smtp.maxMessageBytes,
      tls:
        config.smtp.tlsCertFile && config.smtp.tlsKeyFile ? { cert: readFileSync(config.smtp.tlsCertFile), key: readFileSync(config.smtp.tlsKeyFile) } : null,
    });
    const mailSweeper = setInterval(() => {
      mail.sweep().catch((err) => logger.warn({ err }, 'mail sweep failed'));
      mail.recover().catch((err) => logger.warn({ err }, 'mail recovery pass failed'));
    }, SWEEP_INTERVAL_MS);
    mailSweeper.unref();
    // The continuity monitor's window loop (windows are claimed in the database: safe with several processes).
    services.monitor.start();
    stopMail = async () => {
      await services.monitor.stop().catch(() => {});
      clearInterval(mailSweeper);
      await receiver.close();
      await mail.stop();
    };
    const smtpPort = await receiver.listen(config.smtpPort).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw new StartupError(`SMTP port ${config.smtpPort} is in use. Set SMTP_PORT to a free port.`);
      throw err;
    });
    logger.info({ smtpPort }, 'SMTP receiver listening');
    console.log(`Lifeboat SMTP receiver on port ${smtpPort}`);

    const app = createApp({ conn, services, logger, directoryFile: config.directoryFile, publicUrl: config.publicUrl });
    server = await new Promise<Server>((resolve, reject) => {
      const s = createLifeboatServer(app, tls).listen(config.port, () => resolve(s));
      s.once('error', reject);
    });
    pushContinuityChanges(
      services,
      attachPush(server, { userAuth: services.userAuth, auth: services.auth, status: services.status, receipts: services.receipts, logger }),
    );
    // The first administrator only once the ports are bound: a start that fails on a busy port must
    // not use up the one-time password it would print.
    for (const doc of directoryDocs) {
      if (await services.entra.connections.isConnected(doc.tenant.id)) continue;
      const created = await services.admins.bootstrap(
        { id: doc.tenant.id, name: doc.tenant.name, domains: doc.tenant.domains.map((d) => d.toLowerCase()) },
        { email: config.adminEmail, password: config.adminPassword, onlyTenant: directoryDocs.length === 1 },
      );
      if (created?.generatedPassword) {
        // Printed once, on purpose, to the console only (never to the structured log).
        console.log(
          `\nFirst start for tenant ${doc.tenant.id}: created full administrator ${created.email}\n` +
            `  password: ${created.generatedPassword}\n  (shown once; only its hash is stored)\n`,
        );
      } else if (created) {
        logger.info({ tenant: doc.tenant.id, email: created.email }, 'first administrator created from LIFEBOAT_ADMIN_EMAIL');
      }
    }
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ port, embeddedDatabase: Boolean(embedded) }, 'listening');
    console.log(`Lifeboat listening on ${tls.kind === 'none' ? 'http' : 'https'}://localhost:${port}`);
  } catch (err) {
    if (err instanceof StartupError) {
      console.error(`Lifeboat cannot start: ${err.message}`);
    } else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`Lifeboat cannot start: port ${config.port} is in use. Set PORT to a free port.`);
    } else {
      logger.fatal({ err }, 'startup failed');
    }
    await shutdown(1);
  }
}

void main();
