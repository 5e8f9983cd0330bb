/**
 * Process entry: configuration (read once) → the web pages when a clone has none built → the start
 * sequence of server/lifecycle.ts (database, services, directory file, HTTP, SMTP, first admins,
 * loops). Startup problems end in one clear line and exit code 1; a signal or a crash runs the same sequence's stop, so the embedded database
 * stops with us.
 */
import path from 'node:path';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config';
import { openConnection } from './db/connection';
import { EmbeddedBuildError } from './db/embedded/build';
import { EmbeddedStartError, startEmbeddedDatabase, type EmbeddedDatabase } from './db/embedded/ferretdb';
import { DirectoryFileError, readDirectoryFile, type DirectoryDocument } from './directory/file-provider';
import { resolveTls, TlsConfigError, type TlsSetup } from './http/tls';
import { ALL_LOOPS, Lifecycle, PortInUseError, startLifeboat, type OpenDatabase } from './lifecycle';
import { createLogger } from './log';
import { resolveSecret } from './secrets/secret';
import type { Services } from './services';
import { NO_ENGINES, startProtectionEngines, type ProtectionEngines } from './protection/engines';
import { buildWeb, canBuild, missingPages, WebBuildError } from './http/web-build';
import { ClusterStartError } from './cluster/redis';

class StartupError extends Error {}

function fail(message: string): never {
  console.error(`Lifeboat cannot start: ${message}`);
  process.exit(1);
}

async function openDatabase(
  config: Config,
  log: (line: string) => void,
  warn: (line: string) => void,
  onDatabaseLost: (reason: string) => void,
): Promise<OpenDatabase & { embedded: boolean }> {
  if (config.mongodbUri) {
    let conn: Connection;
    try {
      conn = await openConnection(config.mongodbUri);
    } catch (err) {
      throw new StartupError(
        `the database at MONGODB_URI does not answer (${(err as Error).message}). ` + 'Fix MONGODB_URI, or unset it to use the embedded database.',
      );
    }
    return { conn, close: () => conn.close(), embedded: false };
  }
  let embedded: EmbeddedDatabase;
  try {
    // A database that dies on its own is started again on its port: accepted mail waits in the spool meanwhile.
    embedded = await startEmbeddedDatabase({ dataDir: path.join(config.dataDir, 'db'), log, restart: { log: warn, onGiveUp: onDatabaseLost } });
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
    const conn = await openConnection(embedded.uri);
    return {
      conn,
      close: async () => {
        await conn.close().catch(() => {});
        await embedded.stop();
      },
      embedded: true,
    };
  } catch (err) {
    await embedded.stop();
    throw new StartupError(`the embedded database started but does not answer (${(err as Error).message}).`);
  }
}

/** The directory file into the database (before traffic). */
async function seedFromDirectoryFile(services: Services, directoryDocs: DirectoryDocument[], logger: Logger): Promise<void> {
  for (const doc of directoryDocs) {
    // A tenant connected to Entra ID reads its directory from Graph, not from the file.
    if (await services.entra.connections.isConnected(doc.tenant.id)) continue;
    const counts = await services.directory.importDirectory(doc);
    logger.info({ tenant: doc.tenant.id, ...counts }, 'directory file loaded');
  }
}

/**
 * Each file tenant's first administrator when it has none. Runs once the ports are bound: a start
 * that fails on a busy port must not use up the one-time password it would print.
 */
async function bootstrapAdmins(services: Services, directoryDocs: DirectoryDocument[], config: Config, logger: Logger): Promise<void> {
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
}

async function main(): Promise<void> {
  let config: Config;
  let tls: TlsSetup;
  try {
    config = loadConfig();
    tls = resolveTls(config.tls, { dataDir: config.dataDir, publicUrl: config.publicUrl });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof TlsConfigError) fail(`configuration error in ${err.message}`);
    throw err;
  }
  const logger = createLogger(config.logLevel);

  // Fail on a bad directory file before starting anything that would need stopping.
  let directoryDocs: DirectoryDocument[];
  try {
    directoryDocs = readDirectoryFile(config.directoryFile);
  } catch (err) {
    if (err instanceof DirectoryFileError) fail(err.message);
    throw err;
  }

  const lifecycle = new Lifecycle(logger);
  let exiting = false;
  const shutdown = async (code: number) => {
    if (exiting) return;
    exiting = true;
    await lifecycle.stop();
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

  let embedded = false;
  // Scanning engines start in the background (the embedded rspamd loads its rules for up to a minute);
  // until then messages are judged `unscanned` and the policies' scanner-down rule applies.
  let engines: ProtectionEngines = NO_ENGINES;
  try {
    // An external rspamd (or `off`) needs no start: known before recovery judges what a crash left.
    if (config.protection.rspamdUrl) engines = await startProtectionEngines({ ...config.protection, dataDir: config.dataDir });
    // A clone installed without its install scripts: build the pages now rather than serve none.
    if (missingPages().length) {
      if (canBuild()) {
        await buildWeb((line) => console.log(line)).catch((err) => {
          throw new StartupError(err instanceof WebBuildError ? err.message : String(err));
        });
      } else console.log(`Lifeboat web pages are not built (${missingPages().join(', ')} missing): run \`npm ci\` with dev dependencies.`);
    }
    await startLifeboat(
      {
        logger,
        openDatabase: async () => {
          const db = await openDatabase(
            config,
            (line) => console.log(line),
            (line) => logger.warn(line),
            (reason) => {
              logger.fatal({ reason }, 'the embedded database cannot be kept running; stopping so a supervisor restarts Lifeboat');
              void shutdown(1);
            },
          );
          embedded = db.embedded;
          return db;
        },
        services: {
          sessionHours: config.sessionHours,
          logger,
          secret: resolveSecret(config.secret, config.dataDir), // generated on first start, then kept
          graph: config.graph,
          entra: config.entra,
          userTokenMinutes: config.userTokenMinutes,
          publicUrl: config.publicUrl,
          mail: { hostname: config.smtp.hostname, deliveryLeaseMs: config.deliveryLeaseMs },
          protection: { engines: () => engines, dnsServers: config.protection.dnsServers, quarantineRetentionDays: config.quarantineRetentionDays },
          allowedPrivateTargets: config.allowedPrivateTargets,
          monitorDomains: config.monitorDomains,
          monitor: { minuteMs: config.monitorMinuteMs },
          adminEmailDomains: config.adminEmailDomains,
          threatScan: { leaseMs: config.threatScanLeaseSeconds * 1000 },
        },
        seed: (services) => seedFromDirectoryFile(services, directoryDocs, logger),
        afterListen: async (services, ports) => {
          logger.info({ smtpPort: ports.smtp }, 'SMTP receiver listening');
          console.log(`Lifeboat SMTP receiver on port ${ports.smtp}`);
          // Before the "listening" line: whoever waits for it (the tests) finds the one-time password printed.
          await bootstrapAdmins(services, directoryDocs, config, logger);
          logger.info({ port: ports.http, embeddedDatabase: embedded }, 'listening');
          console.log(`Lifeboat listening on ${tls.kind === 'none' ? 'http' : 'https'}://localhost:${ports.http}`);
        },
        app: {
          directoryFile: config.directoryFile,
          publicUrl: config.publicUrl,
          addin: config.addin,
          dns: config.dns,
          trustProxy: config.trustProxy,
          rateLimit: config.rateLimit,
        },
        mailSpoolDir: path.join(config.dataDir, 'spool'),
        http: { port: config.port, tls },
        smtp: {
          port: config.smtpPort,
          hostname: config.smtp.hostname,
          maxMessageBytes: config.smtp.maxMessageBytes,
          tlsCertFile: config.smtp.tlsCertFile,
          tlsKeyFile: config.smtp.tlsKeyFile,
          maxReceivedHeaders: config.smtp.maxReceivedHeaders,
          limits: config.smtp.limits,
        },
        loops: ALL_LOOPS,
        redisUrl: config.redisUrl,
        // The embedded database is one node's by construction; an external one may be shared by several.
        changeCheckMs: config.mongodbUri ? config.changeCheckMs : 0,
      },
      lifecycle,
    );
    if (config.protection.rspamdUrl) await lifecycle.started('protection engines', () => engines.stop());
    else
      void startProtectionEngines({ ...config.protection, dataDir: config.dataDir, log: (line) => logger.warn(line) }).then(
        async (started) => {
          engines = started;
          // An embedded rspamd still starting when we stop is not waited for: it gets SIGTERM when this process exits (pdeathsig).
          await lifecycle.started('protection engines', () => started.stop());
          logger.info({ rspamd: started.rspamdSource, clamd: Boolean(started.clamd) }, 'protection engines ready');
        },
        (err) => logger.error({ err }, 'protection engines did not start'),
      );
  } catch (err) {
    if (err instanceof StartupError) {
      console.error(`Lifeboat cannot start: ${err.message}`);
    } else if (err instanceof ClusterStartError) {
      console.error(`Lifeboat cannot start: ${err.message}. Fix REDIS_URL, or unset it to run one node.`);
    } else if (err instanceof PortInUseError) {
      const [what, variable] = err.listener === 'smtp' ? ['SMTP port', 'SMTP_PORT'] : ['port', 'PORT'];
      console.error(`Lifeboat cannot start: ${what} ${err.port} is in use. Set ${variable} to a free port.`);
    } else {
      logger.fatal({ err }, 'startup failed');
    }
    await shutdown(1);
  }
}

void main();
