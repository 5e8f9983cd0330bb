/**
 * The delivery queue's worker: one row per recipient, at-least-once, with backoff. A row is claimed by
 * inserting a lease document under its unique _id (never by racing updates), so several workers or
 * processes can run side by side, and a lease is removed only by its owner. Every attempt is logged on
 * the row with a short, sanitised reply (admins read it: no port-scan oracle); the full error goes to
 * the server log. Servers are resolved through the SSRF guard and connected to at the checked address,
 * with TLS certificates verified unless the tenant turned that off.
 */
import { randomUUID } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { AttemptRecord, DeliveryRecord, HeldRecord, MailModels, ServerAddress } from './model';
import { claimByInsert, insertIgnoringDuplicates } from '../db/claims';
import { ANY_TARGET, PrivateTargetError, type TargetGuard } from '../http/private-target';
import { readRaw } from './store';

export interface RetryPolicy {
  /** First retry delay; each further one doubles, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** After this long in the queue a message is given up and bounced to its sender. */
  maxAgeMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseDelayMs: 5 * 60_000, maxDelayMs: 4 * 3600_000, maxAgeMs: 4 * 24 * 3600_000 };

export function retryDelay(policy: RetryPolicy, attemptsSoFar: number): number {
  return Math.min(policy.baseDelayMs * 2 ** Math.max(0, attemptsSoFar - 1), policy.maxDelayMs);
}

/** A server to deliver to; verifyTls false: its certificate is not checked (the tenant's audited opt-out). */
export type DeliveryTarget = ServerAddress & { verifyTls?: boolean };

export interface DeliveryTargets {
  targetsFor(row: DeliveryRecord): Promise<DeliveryTarget[]>;
  /** Queues a bounce of the row's message to its sender (idempotent). */
  bounce(row: DeliveryRecord, reason: string): Promise<void>;
  /** The pausing events that hold this row now (empty: deliver it). */
  holdFor?(row: DeliveryRecord): Promise<string[]>;
  /** The message as it goes out (ARC-sealed onward delivery); default: as stored. */
  prepare?(row: DeliveryRecord, message: { mailFrom: string; remoteAddress: string | null }, raw: Buffer): Promise<Buffer>;
}

export interface WorkerOptions {
  models: MailModels;
  targets: DeliveryTargets;
  logger: Logger;
  retry: RetryPolicy;
  hostname: string;
  now: () => Date;
  pollMs?: number;
  leaseMs?: number;
  concurrency?: number;
  /** The SSRF guard, checked again at connect time (a name may resolve elsewhere than when it was saved). */
  guard?: TargetGuard;
  /** True when the address and port are Lifeboat's own SMTP listener (a loop). */
  isOwnListener?: (address: string, port: number) => boolean;
}

/** What an admin sees of a failed attempt: the SMTP reply's code and a short printable text, or one generic reason. */
export function sanitisedReply(err: SmtpError): string {
  if (err.responseCode) {
    const first = (err.response ?? String(err.responseCode)).split(/\r?\n/)[0]!;
    return first.replace(/[^\x20-\x7e]/g, ' ').slice(0, 160);
  }
  // Refused, timed out, reset, unresolvable: one reason, so the reply does not tell open ports from closed.
  if (err.code === 'ETLS' || /certificate|self.signed|CERT_/i.test(err.message)) {
    return "the server's TLS certificate could not be verified (mail settings: verifyTls)";
  }
  if (err.code === 'EPRIVATETARGET') return 'refused: the server is not an allowed destination';
  return 'could not reach the server';
}

export interface SmtpError {
  responseCode?: number;
  response?: string;
  code?: string;
  message: string;
}

export function createDeliveryWorker(options: WorkerOptions) {
  const { models, targets, logger, retry, now } = options;
  const guard = options.guard ?? ANY_TARGET;
  const owner = randomUUID();
  const pollMs = options.pollMs ?? 1000;
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  const concurrency = options.concurrency ?? 4;
  const transports = new Map<string, Transporter>();
  let running = false;
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> = Promise.resolve();

  /** A pooled transport to the target at its checked address (resolved now: what was checked is what is used). */
  async function transport(target: DeliveryTarget): Promise<Transporter> {
    const address = await guard.resolveForConnect(target.host);
    if (options.isOwnListener?.(address, target.port)) {
      throw new PrivateTargetError(`${target.host}:${target.port} is Lifeboat's own SMTP listener (a loop)`);
    }
    const verify = target.verifyTls !== false;
    const id = `${target.host}:${target.port}:${address}:${verify}`;
    let t = transports.get(id);
    if (!t) {
      t = nodemailer.createTransport({
        host: address,
        port: target.port,
        secure: false,
        pool: true,
        maxConnections: 4,
        name: options.hostname,
        // The certificate is checked against the configured name, not the address connected to.
        tls: { rejectUnauthorized: verify, servername: target.host.replace(/^\[|\]$/g, '') },
        connectionTimeout: 15_000,
        greetingTimeout: 15_000,
        socketTimeout: 120_000,
        disableFileAccess: true,
        disableUrlAccess: true,
        logger: false,
      });
      transports.set(id, t);
    }
    return t;
  }

  async function claim(id: string): Promise<boolean> {
    const lease = { _id: id, owner, expiresAt: new Date(now().getTime() + leaseMs) };
    if (await claimByInsert(models.leases, lease)) return true;
    const existing = await models.leases.findById(id).lean();
    if (existing && existing.expiresAt > now()) return false;
    // An expired lease (its worker died): remove exactly that lease, then race to insert ours.
    if (existing) await models.leases.deleteOne({ _id: id, owner: existing.owner, expiresAt: existing.expiresAt });
    return claimByInsert(models.leases, lease);
  }

  /**
   * Removes our lease only: a worker whose lease expired while it worked (and that another worker has
   * since claimed) must not remove the other's lease, or a third could claim the row at the same time.
   */
  async function release(id: string): Promise<void> {
    await models.leases.deleteOne({ _id: id, owner }).catch((err) => logger.warn({ err, delivery: id }, 'releasing a delivery lease failed'));
  }

  async function finish(row: DeliveryRecord, state: 'delivered' | 'failed', attempts: AttemptRecord[]) {
    // An insert (the results collection grows; updates scan on FerretDB); one already there wins.
    await insertIgnoringDuplicates(models.results, [
      { _id: row._id, tenantId: row.tenantId, messageKey: row.messageKey, kind: row.kind, recipient: row.recipient, state, finishedAt: now(), attempts },
    ]);
    await models.queue.deleteOne({ _id: row._id });
  }

  /** The row goes to held (held row first, then the queue row removed: a crash in between is healed by the next pass). */
  async function hold(row: DeliveryRecord, eventIds: string[]) {
    const { nextAttemptAt: _n, attempts: _a, ...rest } = row;
    await insertIgnoringDuplicates(models.held, [{ ...rest, heldAt: now(), eventIds } as HeldRecord]);
    await models.queue.deleteOne({ _id: row._id });
    logger.info({ delivery: row._id, events: eventIds }, 'delivery held: a pausing event covers the recipient');
  }

  /** Runs fn holding the row's lease; null when another worker holds it. */
  async function withLease<T>(id: string, fn: () => Promise<T>): Promise<T | null> {
    if (!(await claim(id))) return null;
    try {
      return await fn();
    } finally {
      await release(id);
    }
  }

  async function attempt(row: DeliveryRecord): Promise<AttemptRecord> {
    const list = await targets.targetsFor(row);
    if (!list.length) return { at: now(), host: null, reply: 'no server is configured for this delivery (mail settings)', outcome: 'deferred' };
    const message = await models.messages.findById(row.messageKey, { chunks: 1, raw: 1, mailFrom: 1, remoteAddress: 1 }).lean();
    if (!message) return { at: now(), host: null, reply: 'the stored message is missing', outcome: 'rejected' };
    const stored = await readRaw(models, message);
    const raw = targets.prepare
      ? await targets.prepare(row, { mailFrom: message.mailFrom ?? '', remoteAddress: message.remoteAddress ?? null }, stored)
      : stored;
    let last: AttemptRecord | null = null;
    for (const target of list) {
      const host = `${target.host}:${target.port}`;
      try {
        const info = await (await transport(target)).sendMail({ envelope: { from: row.mailFrom || '', to: [row.recipient] }, raw });
        return { at: now(), host, reply: String(info.response ?? '250'), outcome: 'delivered' };
      } catch (e) {
        const err = e as SmtpError;
        // The full error stays in the server log; the row (read by admins) gets the short form.
        logger.info({ delivery: row._id, host, code: err.code, response: err.response, error: err.message }, 'delivery attempt failed');
        const reply = sanitisedReply(err);
        if (err.responseCode && err.responseCode >= 500) return { at: now(), host, reply, outcome: 'rejected' };
        last = { at: now(), host, reply, outcome: 'deferred' };
      }
    }
    return last!;
  }

  async function work(id: string): Promise<void> {
    if (!(await claim(id))) return;
    try {
      const row = await models.queue.findById(id).lean<DeliveryRecord>();
      if (!row) return;
      if (await models.results.exists({ _id: id })) {
        await models.queue.deleteOne({ _id: id });
        return;
      }
      if (row.nextAttemptAt > now()) return;
      const holding = (await targets.holdFor?.(row)) ?? [];
      if (holding.length) return await hold(row, holding);
      const result = await attempt(row);
      const attempts = [...row.attempts, result];
      logger.info({ delivery: id, kind: row.kind, outcome: result.outcome, host: result.host, reply: result.reply }, 'delivery attempt');
      if (result.outcome === 'delivered') {
        await finish(row, 'delivered', attempts);
      } else if (result.outcome === 'rejected') {
        await finish(row, 'failed', attempts);
        await targets.bounce(row, result.reply);
      } else if (now().getTime() - row.queuedAt.getTime() >= retry.maxAgeMs) {
        await finish(row, 'failed', attempts);
        await targets.bounce(row, `gave up after ${attempts.length} attempts; last reply: ${result.reply}`);
      } else {
        const next = new Date(now().getTime() + retryDelay(retry, attempts.length));
        await models.queue.updateOne({ _id: id }, { $set: { nextAttemptAt: next }, $push: { attempts: result } });
      }
    } finally {
      await release(id);
    }
  }

  /** One pass: every due row, a few at a time. Returns how many rows were due. */
  async function tick(): Promise<number> {
    const due = await models.queue
      .find({ nextAttemptAt: { $lte: now() } }, { _id: 1 })
      .sort({ nextAttemptAt: 1 })
      .limit(200)
      .lean();
    const ids = due.map((d) => d._id);
    const lanes = Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
      for (let id = ids.shift(); id !== undefined; id = ids.shift()) {
        await work(id).catch((err) => logger.warn({ err, delivery: id }, 'delivery failed; will retry'));
      }
    });
    await Promise.all(lanes);
    return due.length;
  }

  function schedule(ms: number) {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      ticking = tick()
        .catch((err) => {
          logger.warn({ err }, 'delivery pass failed');
          return 0;
        })
        .then((n) => schedule(n > 0 ? 0 : pollMs));
    }, ms);
    timer.unref?.();
  }

  return {
    tick,
    withLease,
    start(): void {
      if (running) return;
      running = true;
      schedule(0);
    },
    /** Look now (new work was queued). */
    wake(): void {
      if (running && timer) schedule(0);
    },
    async stop(): Promise<void> {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await ticking.catch(() => {});
      for (const t of transports.values()) t.close();
      transports.clear();
    },
  };
}
export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
