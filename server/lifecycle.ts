/**
 * The one start/stop sequence of a running Lifeboat, used by server/main.ts and by the tests'
 * servers (test/harness/context.ts, live-server.ts) alike:
 *
 *   database → services → indexes → seed → mail spool → HTTP (+ push) → SMTP → after-listen → loops
 *
 * Each step that needs undoing records its named stop in a Lifecycle; stop() runs them in reverse
 * (listeners first, the database last), logs a failing step and goes on, so the embedded database
 * is always stopped. This file owns the order; what each step does lives in its capability.
 */
import { randomUUID } from 'node:crypto';
import { SCAN_HOLD_RETRY_MS } from './mail/protect';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { createApp, type AppOptions } from './app';
import { createSyncScheduler } from './directory/graph/scheduler';
import { createLifeboatServer, type TlsSetup } from './http/tls';
import { createReceiver, type ReceiverLimits } from './mail/receiver';
import { attachPush, type Push } from './push/socket';
import { pushContinuityChanges } from './push/wiring';
import { createServices, syncIndexes, type ServiceOptions, type Services } from './services';
import { connectCluster, type Cluster } from './cluster/redis';
import { createDatabaseLink } from './cluster/database-link';

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/** A listener's port is taken: main.ts names the variable to change. */
export class PortInUseError extends Error {
  constructor(
    readonly listener: 'http' | 'smtp',
    readonly port: number,
  ) {
    super(`${listener} port ${port} is in use`);
  }
}

const portInUse = (listener: 'http' | 'smtp', port: number) => (err: NodeJS.ErrnoException) => {
  throw err.code === 'EADDRINUSE' ? new PortInUseError(listener, port) : err;
};

/** Named stops, undone in reverse order; stop() runs once however often it is called. */
export class Lifecycle {
  private readonly steps: { name: string; stop: () => Promise<void> | void }[] = [];
  private stopping: Promise<void> | null = null;

  constructor(private readonly logger: Logger) {}

  /** Records a started step. A step that finishes starting after stop() began is stopped at once. */
  async started(name: string, stop: () => Promise<void> | void): Promise<void> {
    if (this.stopping) {
      await this.stopStep({ name, stop });
      return;
    }
    this.steps.push({ name, stop });
  }

  get isStopping(): boolean {
    return this.stopping !== null;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (let step = this.steps.pop(); step; step = this.steps.pop()) await this.stopStep(step);
    })();
    return this.stopping;
  }

  private async stopStep(step: { name: string; stop: () => Promise<void> | void }): Promise<void> {
    try {
      await step.stop();
      this.logger.debug({ step: step.name }, 'stopped');
    } catch (err) {
      this.logger.warn({ err, step: step.name }, 'a stop step failed; going on');
    }
  }
}

export interface OpenDatabase {
  conn: Connection;
  /** Closes the connection (and stops the embedded database, when this process started one). */
  close(): Promise<void>;
}

export interface LifeboatPlan {
  logger: Logger;
  openDatabase: () => Promise<OpenDatabase>;
  services: ServiceOptions;
  /** Writes what must exist before traffic (main: the directory file; tests: their directories). */
  seed?: (services: Services) => Promise<void>;
  /**
   * Runs once HTTP and SMTP listen, with their ports (main: says where it listens, then creates the first
   * admins, whose one-time password a failed bind must not use up).
   */
  afterListen?: (services: Services, ports: { http: number | null; smtp: number | null }) => Promise<void>;
  app: Omit<AppOptions, 'conn' | 'services' | 'logger'>;
  /** Receive through a spool in this directory, replaying what a crashed process left (see mail/spool.ts). */
  mailSpoolDir?: string;
  http?: { port: number; host?: string; tls: TlsSetup };
  /** REDIS_URL: join the other nodes (shared Socket.IO rooms, cache drops on every node; server/cluster/redis.ts). */
  redisUrl?: string;
  /** Without Redis, several nodes on one database: read the others' changes this often (cluster/database-link.ts); unset or 0: one node. */
  changeCheckMs?: number;
  smtp?: {
    port: number;
    host?: string;
    hostname: string;
    maxMessageBytes: number;
    tlsCertFile?: string;
    tlsKeyFile?: string;
    /** The hop limit and the connection caps (defaults in mail/receiver.ts and mail/trace.ts). */
    maxReceivedHeaders?: number;
    limits?: Partial<ReceiverLimits>;
  };
  /** Background loops to run; none when omitted (tests start the ones they need). */
  loops?: readonly Loop[];
}

export const ALL_LOOPS = ['sessionSweep', 'directorySync', 'eventScheduler', 'notifications', 'mail', 'monitor', 'threatScan', 'continuousProtection'] as const;
export type Loop = (typeof ALL_LOOPS)[number];

export interface RunningLifeboat {
  conn: Connection;
  services: Services;
  app: Express;
  http: { server: Server; push: Push; port: number } | null;
  smtpPort: number | null;
  lifecycle: Lifecycle;
}

/** Stops every service that may have work in flight, whether or not a loop started it (each is idempotent). */
export async function stopServices(services: Services, logger: Logger): Promise<void> {
  const stops: [string, () => Promise<unknown>][] = [
    ['event scheduler', () => services.scheduler.stop()],
    ['notifications', () => services.notify.stop()],
    ['continuity monitor', () => services.monitor.stop()],
    ['sent items write-back', () => services.sentItems.stop()],
    ['mail', () => services.mail.stop()],
    ['banner receipts', () => services.receipts.stop()],
    ['directory sync', () => services.entra.sync.stop()],
    ['threat scans', () => services.threatScan.stop()],
  ];
  for (const [name, stop] of stops) await stop().catch((err) => logger.warn({ err, service: name }, 'stopping a service failed'));
}

export async function startLifeboat(plan: LifeboatPlan, lifecycle = new Lifecycle(plan.logger)): Promise<RunningLifeboat> {
  const { logger } = plan;
  const db = await plan.openDatabase();
  await lifecycle.started('database', db.close);
  const services = createServices(db.conn, plan.services);
  await lifecycle.started('services', () => stopServices(services, logger));
  // Unique indexes are what make claims safe: built before any traffic or loop.
  await syncIndexes(db.conn);
  const cluster = plan.redisUrl ? await joinCluster(lifecycle, services, plan.redisUrl, logger) : undefined;
  if (!cluster && plan.changeCheckMs) await joinThroughDatabase(lifecycle, services, db.conn, plan.changeCheckMs, logger);
  await plan.seed?.(services);
  if (plan.mailSpoolDir) await openMailSpool(services, plan.mailSpoolDir, logger);
  // Several nodes count API requests against one budget in Redis (server/http/rate-limit.ts).
  const app = createApp({ conn: db.conn, services, logger, ...plan.app, rateLimit: { ...plan.app.rateLimit, redis: cluster?.rateLimitClient() } });
  logger.info({ store: cluster ? 'redis' : 'memory' }, 'API rate limits counted');
  const http = plan.http ? await listenHttp(lifecycle, app, services, { ...plan.http, cluster }, logger) : null;
  const smtpPort = plan.smtp ? await listenSmtp(lifecycle, services, plan.smtp, logger) : null;
  await plan.afterListen?.(services, { http: http?.port ?? null, smtp: smtpPort });
  await startLoops(lifecycle, services, plan.loops ?? [], logger);
  return { conn: db.conn, services, app, http, smtpPort, lifecycle };
}

/** Several nodes: caches dropped on one are dropped on all, and sockets share rooms (cluster/redis.ts). */
async function joinCluster(lifecycle: Lifecycle, services: Services, url: string, logger: Logger): Promise<Cluster> {
  const cluster = await connectCluster(url, logger);
  await lifecycle.started('cluster', () => cluster.close());
  services.reactions.useCluster(cluster.invalidation);
  return cluster;
}

/** Several nodes without Redis: caches dropped on one are dropped on all within checkMs (cluster/database-link.ts). */
async function joinThroughDatabase(lifecycle: Lifecycle, services: Services, conn: Connection, checkMs: number, logger: Logger): Promise<void> {
  const link = createDatabaseLink({ conn, nodeId: randomUUID(), checkMs, logger });
  await link.start();
  await lifecycle.started('cluster (database)', () => link.stop());
  services.reactions.useCluster(link);
  logger.info({ checkMs }, "no REDIS_URL: the other nodes' changes are read from the database");
}

/** Replays the spool and routes whatever was stored but not routed before a crash. */
async function openMailSpool(services: Services, dir: string, logger: Logger): Promise<void> {
  await services.mail.useSpool(dir);
  const recovered = await services.mail.recover();
  if (recovered) logger.info({ recovered }, 'routed messages stored before a restart');
}

/** HTTP(S) with Socket.IO push attached and wired to the continuity changes. */
export async function listenHttp(
  lifecycle: Lifecycle,
  app: Express,
  services: Services,
  options: { port: number; host?: string; tls: TlsSetup; cluster?: Cluster },
  logger: Logger,
): Promise<{ server: Server; push: Push; port: number }> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = createLifeboatServer(app, options.tls);
    s.once('error', reject);
    s.listen(options.port, options.host, () => resolve(s));
  }).catch(portInUse('http', options.port));
  const push = attachPush(server, {
    userAuth: services.userAuth,
    auth: services.auth,
    status: services.status,
    receipts: services.receipts,
    logger,
    cluster: options.cluster,
  });
  await lifecycle.started('http', async () => {
    server.closeAllConnections();
    await push.close(); // closes the HTTP server too
  });
  pushContinuityChanges(services, push);
  const address = server.address();
  return { server, push, port: typeof address === 'object' && address ? address.port : options.port };
}

/** The inbound SMTP receiver; returns the port it listens on. */
export async function listenSmtp(lifecycle: Lifecycle, services: Services, options: NonNullable<LifeboatPlan['smtp']>, logger: Logger): Promise<number> {
  const receiver = createReceiver({
    mail: services.mail,
    logger,
    hostname: options.hostname,
    maxMessageBytes: options.maxMessageBytes,
    maxReceivedHeaders: options.maxReceivedHeaders,
    limits: options.limits,
    // The one protection decision before the 250: a DMARC p=reject failure the recipients' policy rejects.
    refuseAtData: services.protection.refuseAtData,
    tls: options.tlsCertFile && options.tlsKeyFile ? { cert: readFileSync(options.tlsCertFile), key: readFileSync(options.tlsKeyFile) } : null,
  });
  const port = await receiver.listen(options.port, options.host).catch(portInUse('smtp', options.port));
  await lifecycle.started('smtp', () => receiver.close());
  return port;
}

/** Starts the chosen background loops, each recorded with its own stop. */
export async function startLoops(lifecycle: Lifecycle, services: Services, loops: readonly Loop[], logger: Logger): Promise<void> {
  const on = new Set(loops);
  if (on.has('sessionSweep')) {
    const sweeper = setInterval(() => services.auth.sweep().catch((err) => logger.warn({ err }, 'session sweep failed')), SWEEP_INTERVAL_MS);
    sweeper.unref();
    await lifecycle.started('session sweep', () => clearInterval(sweeper));
  }
  if (on.has('directorySync')) {
    const syncScheduler = createSyncScheduler({ connections: services.entra.connections, sync: services.entra.sync, logger });
    syncScheduler.start();
    await lifecycle.started('directory sync', () => syncScheduler.stop());
  }
  if (on.has('eventScheduler')) {
    // Missed transitions (the server was down at their time) fire now, once, in order.
    services.scheduler.start();
    await lifecycle.started('event scheduler', () => services.scheduler.stop());
  }
  if (on.has('notifications')) {
    // The events' start/end SMS and sends a crashed process left unfinished.
    services.notify.start();
    await lifecycle.started('notifications', () => services.notify.stop());
  }
  if (on.has('mail')) {
    const mail = services.mail;
    mail.worker.start();
    const sweeper = setInterval(() => {
      mail.sweep().catch((err) => logger.warn({ err }, 'mail sweep failed'));
      mail.recover().catch((err) => logger.warn({ err }, 'mail recovery pass failed'));
      services.protection.quarantine.sweep().catch((err) => logger.warn({ err }, 'quarantine sweep failed'));
    }, SWEEP_INTERVAL_MS);
    sweeper.unref();
    // Mail held for the scanner (an engine down) is judged again every minute; its hold runs out by policy.
    const scanHolds = setInterval(() => {
      mail.rejudgeHeld().catch((err) => logger.warn({ err }, 'judging mail held for the scanner failed'));
    }, SCAN_HOLD_RETRY_MS);
    scanHolds.unref();
    // After the receiver closed (stops run in reverse): routing finishes what it has, the worker stops.
    await lifecycle.started('mail', async () => {
      clearInterval(sweeper);
      clearInterval(scanHolds);
      await mail.stop();
    });
  }
  if (on.has('monitor')) {
    // The continuity monitor's window loop (windows are claimed in the database: safe with several processes).
    services.monitor.start();
    await lifecycle.started('continuity monitor', () => services.monitor.stop());
  }
  if (on.has('threatScan')) {
    // Threat scans and remediations go on where they were (mailbox leases of a dead process expire).
    services.threatScan.start();
    await lifecycle.started('threat scans', () => services.threatScan.stop());
  }
  if (on.has('continuousProtection') && services.threatScan.continuous) {
    // Graph delta rounds per mailbox for tenants that switched it on (a lease per round: one node does each).
    const continuous = services.threatScan.continuous;
    continuous.start();
    await lifecycle.started('continuous protection', () => continuous.stop());
  }
}
