/**
 * Notifications: a tenant's email (SMTP relay) and SMS (Twilio or a JSON webhook) channels, sends with
 * retries and a send log, SMS consent, the events' start and end SMS, and self-service password reset
 * codes. Other capabilities use `send()`:
 *
 *   notify.send({ tenantId, channel: 'sms', to: '+15550100', text, purpose: 'monitor.alert', idempotencyKey })
 *
 * It resolves when the message was accepted or given up (status 'sent' | 'failed'), or at once with
 * 'duplicate' when the idempotency key was already used (the first send's result is in the log).
 */
import { claimByInsert } from '../db/claims';
import { decodeCursor, keysetPage, olderThan } from '../db/cursor';
import { isEmailAddress } from '../http/addresses';
import type { AuditContext } from '../audit/context';
import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import { unprocessable } from '../http/problem';
import type { SecretBox } from '../secrets/seal';
import { type Channel, type NotifyModels, type NotifySettingsRecord, type SendClaimRecord, type SendLogRecord } from './model';
import type { TargetGuard } from '../http/private-target';
import { destinationErrors } from './destinations';
import { emailTransport, sendEmail, sendTwilio, sendWebhook, TWILIO_API, type AttemptResult } from './providers';
import { settingsView, type SettingsBody, type SettingsView } from './settings';
import { mergeSettings } from './settings-merge';

export interface NotifyRetryPolicy {
  /** Attempts in all (the first one included). */
  attempts: number;
  /** Delay before the second attempt; doubled for each further one, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this gives up instead of waiting. */
  maxRetryAfterMs: number;
}

export const DEFAULT_NOTIFY_RETRY: NotifyRetryPolicy = { attempts: 4, baseDelayMs: 2000, maxDelayMs: 60_000, maxRetryAfterMs: 5 * 60_000 };

export function backoffDelay(policy: NotifyRetryPolicy, failedAttempts: number): number {
  return Math.min(policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1), policy.maxDelayMs);
}

export interface SendRequest {
  tenantId: string;
  channel: Channel;
  /** A phone number (E.164) or an email address. */
  to: string;
  subject?: string;
  text: string;
  /** Why it is sent ('monitor.alert', 'event.start', 'password.reset', 'test', ...): shown in the send log. */
  purpose: string;
  /** Sends at most once per key and tenant, across processes and restarts. */
  idempotencyKey?: string;
  /** The directory user it is for, when there is one. */
  userId?: string | null;
  /** Values kept out of the send log (a provider may echo the message, e.g. a one-time code). */
  redact?: string[];
}

export interface SendResult {
  sendId: string | null;
  status: 'sent' | 'failed' | 'duplicate';
  attempts: number;
  reply: string;
}

export interface NotifyCoreOptions {
  models: NotifyModels;
  audit: AuditService;
  box: SecretBox;
  /** The SSRF guard every configured host goes through (server/http/private-target.ts). */
  targets: TargetGuard;
  logger: Logger;
  publicUrl?: string;
  retry?: Partial<NotifyRetryPolicy>;
  /** Host name in our SMTP greeting. */
  hostname?: string;
  /** A pending claim not refreshed for this long is taken over (its sender died); longer than one wait plus one attempt. */
  claimLeaseMs?: number;
  now?: () => Date;
}

const LOG_PAGE = 50;
const sealContext = (tenantId: string, field: string) => `notify:${tenantId}:${field}`;

export class StoppedError extends Error {}

export function createNotifyCore(options: NotifyCoreOptions) {
  const { models, audit, box } = options;
  const now = options.now ?? (() => new Date());
  const retry: NotifyRetryPolicy = { ...DEFAULT_NOTIFY_RETRY, ...options.retry };
  const claimLeaseMs = options.claimLeaseMs ?? 10 * 60_000;
  const hostname = options.hostname ?? 'lifeboat.local';
  const nodeId = randomUUID();
  const log = options.logger.child({ component: 'notify', nodeId });
  const transports = new Map<string, { version: number; transport: Transporter }>();
  let stopper = new AbortController();

  const inboundUrl = (tenantId: string) => `${(options.publicUrl ?? '').replace(/\/+$/, '')}/api/notify/inbound/${encodeURIComponent(tenantId)}/sms`;

  async function loadSettings(tenantId: string): Promise<NotifySettingsRecord | null> {
    return models.settings.findById(tenantId).lean<NotifySettingsRecord>();
  }

  const open = (tenantId: string, field: string, sealed: string | null | undefined) => (sealed ? box.open(sealed, sealContext(tenantId, field)) : null);

  async function transportFor(tenantId: string, record: NotifySettingsRecord): Promise<Transporter> {
    const email = record.email!;
    const version = record.updatedAt.getTime();
    const cached = transports.get(tenantId);
    if (cached && cached.version === version) return cached.transport;
    // Resolved and checked now, and the checked address is the one connected to (no rebinding).
    const address = await options.targets.resolveForConnect(email.host);
    cached?.transport.close();
    const transport = emailTransport(
      {
        host: email.host,
        port: email.port,
        secure: email.secure,
        user: email.user,
        password: open(tenantId, 'email.password', email.passwordSealed),
        from: email.from,
      },
      hostname,
      address,
    );
    transports.set(tenantId, { version, transport });
    return transport;
  }

  /** One attempt over the tenant's channel; a channel that is off or missing fails without retry. */
  async function attemptOnce(record: NotifySettingsRecord | null, req: SendRequest, sendId: string): Promise<{ provider: string; result: AttemptResult }> {
    const refuse = (provider: string, reply: string) => ({ provider, result: { ok: false, retryable: false, retryAfterMs: null, reply } });
    if (req.channel === 'email') {
      const email = record?.email;
      if (!email || !email.enabled) return refuse('smtp', 'the email channel is not configured or is turned off');
      let transport: Transporter;
      try {
        transport = await transportFor(req.tenantId, record!);
      } catch (err) {
        return refuse('smtp', `refused: ${(err as Error).message}`);
      }
      const result = await sendEmail(transport, email.from, { to: req.to, subject: req.subject ?? 'Lifeboat', text: req.text });
      return { provider: 'smtp', result };
    }
    const sms = record?.sms;
    if (!sms || !sms.enabled) return refuse('sms', 'the SMS channel is not configured or is turned off');
    const message = { to: req.to, text: req.text, purpose: req.purpose, id: sendId };
    if (sms.provider === 'twilio') {
      if (!sms.accountSid || !sms.authTokenSealed || !sms.from) return refuse('twilio', 'the Twilio account SID, auth token or sender is missing');
      const settings = {
        baseUrl: sms.baseUrl ?? TWILIO_API,
        accountSid: sms.accountSid,
        authToken: open(req.tenantId, 'sms.authToken', sms.authTokenSealed)!,
        from: sms.from,
      };
      return { provider: 'twilio', result: await sendTwilio(options.targets, settings, message, now) };
    }
    if (!sms.url) return refuse('webhook', 'the webhook URL is missing');
    return {
      provider: 'webhook',
      result: await sendWebhook(
        options.targets,
        { url: sms.url, signingSecret: open(req.tenantId, 'sms.signingSecret', sms.signingSecretSealed) },
        message,
        now,
      ),
    };
  }

  function sleep(ms: number): Promise<void> {
    const signal = stopper.signal;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new StoppedError('notifications stopped'));
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new StoppedError('notifications stopped'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Sends with retries; every attempt is a send-log row. Throws StoppedError when stop() interrupts it. */
  async function deliver(req: SendRequest, sendId: string): Promise<SendResult> {
    const record = await loadSettings(req.tenantId);
    let last: AttemptResult = { ok: false, retryable: false, retryAfterMs: null, reply: '' };
    for (let attempt = 1; attempt <= retry.attempts; attempt++) {
      if (stopper.signal.aborted) throw new StoppedError('notifications stopped');
      // A living sender keeps its claim fresh between attempts, so it is never taken over while it waits.
      if (attempt > 1 && req.idempotencyKey) {
        await models.claims.updateOne({ _id: `${req.tenantId}:${req.idempotencyKey}`, owner: nodeId, status: 'pending' }, { $set: { claimedAt: now() } });
      }
      // An attempt under way is let finish on stop (bounded by its timeouts): a message the provider
      // accepted is recorded as sent, so a graceful restart sends nothing twice.
      const { provider, result } = await attemptOnce(record, req, sendId);
      last = result;
      const stopping = stopper.signal.aborted && !last.ok;
      let retryInMs: number | null = null;
      let reply = last.reply;
      for (const secret of req.redact ?? []) if (secret) reply = reply.split(secret).join('[redacted]');
      last = { ...last, reply };
      if (!last.ok && last.retryable && attempt < retry.attempts) {
        retryInMs = Math.max(backoffDelay(retry, attempt), last.retryAfterMs ?? 0);
        if (last.retryAfterMs !== null && last.retryAfterMs > retry.maxRetryAfterMs) {
          retryInMs = null;
          reply = `${reply} (Retry-After ${Math.round(last.retryAfterMs / 1000)} s is longer than we wait; given up)`;
        }
      }
      if (stopping) {
        retryInMs = null;
        reply = `${reply} (this server is stopping; ${req.idempotencyKey ? 'another one finishes the send' : 'not retried'})`;
      }
      const status = last.ok ? 'sent' : retryInMs !== null || stopping ? 'retrying' : 'failed';
      await models.sendLog.create({
        _id: new Types.ObjectId().toHexString(),
        tenantId: req.tenantId,
        sendId,
        channel: req.channel,
        provider,
        recipient: req.to,
        userId: req.userId ?? null,
        purpose: req.purpose,
        idempotencyKey: req.idempotencyKey ?? null,
        attempt,
        status,
        providerReply: reply,
        retryInMs,
        at: now(),
      });
      log.info({ tenantId: req.tenantId, sendId, channel: req.channel, provider, purpose: req.purpose, attempt, status, retryInMs }, `notification ${status}`);
      if (stopping) throw new StoppedError('notifications stopped');
      if (status !== 'retrying') return { sendId, status: last.ok ? 'sent' : 'failed', attempts: attempt, reply };
      await sleep(retryInMs!);
    }
    return { sendId, status: 'failed', attempts: retry.attempts, reply: last.reply };
  }

  /** Takes over a claim whose sender died: one lease insert per generation decides who. */
  async function takeOver(claim: SendClaimRecord): Promise<boolean> {
    if (!(await claimByInsert(models.leases, { _id: `${claim._id}#${claim.generation + 1}`, at: now(), owner: nodeId }))) return false;
    await models.claims.updateOne({ _id: claim._id }, { $set: { generation: claim.generation + 1, owner: nodeId, claimedAt: now() } });
    log.warn({ tenantId: claim.tenantId, key: claim.key }, 'took over a send whose sender did not finish');
    return true;
  }

  /** Inserts the claim for an idempotency key; false when it is someone else's (or done). */
  async function claim(req: SendRequest & { idempotencyKey: string }): Promise<boolean> {
    const id = `${req.tenantId}:${req.idempotencyKey}`;
    const request = { channel: req.channel, to: req.to, subject: req.subject ?? null, text: req.text, purpose: req.purpose, userId: req.userId ?? null };
    const claimed = await claimByInsert(models.claims, {
      _id: id,
      tenantId: req.tenantId,
      key: req.idempotencyKey,
      status: 'pending',
      owner: nodeId,
      generation: 0,
      claimedAt: now(),
      finishedAt: null,
      sendId: null,
      request,
    });
    if (claimed) return true;
    const existing = await models.claims.findById(id).lean<SendClaimRecord>();
    if (!existing || existing.status !== 'pending') return false;
    if (now().getTime() - existing.claimedAt.getTime() < claimLeaseMs) return false;
    return takeOver(existing);
  }

  async function finishClaim(req: SendRequest & { idempotencyKey: string }): Promise<SendResult> {
    const sendId = randomUUID();
    const result = await deliver(req, sendId);
    await models.claims.updateOne(
      { _id: `${req.tenantId}:${req.idempotencyKey}` },
      { $set: { status: result.status === 'sent' ? 'sent' : 'failed', finishedAt: now(), sendId } },
    );
    return result;
  }

  const inFlight = new Set<Promise<unknown>>();

  /** Every send is tracked, so stop() can let the ones under way finish. */
  function send(req: SendRequest): Promise<SendResult> {
    if (stopper.signal.aborted) return Promise.reject(new StoppedError('notifications stopped'));
    const job = sendNow(req);
    inFlight.add(job);
    void job.catch(() => {}).finally(() => inFlight.delete(job));
    return job;
  }

  async function sendNow(req: SendRequest): Promise<SendResult> {
    if (!req.idempotencyKey) return deliver(req, randomUUID());
    const keyed = req as SendRequest & { idempotencyKey: string };
    if (!(await claim(keyed))) return { sendId: null, status: 'duplicate', attempts: 0, reply: 'already sent (or being sent) under this idempotency key' };
    return finishClaim(keyed);
  }

  /** Finishes sends whose claimer died (pending longer than the lease), each taken over by one process. */
  async function recoverStale(): Promise<number> {
    const stale = await models.claims
      .find({ status: 'pending', claimedAt: { $lte: new Date(now().getTime() - claimLeaseMs) } })
      .sort({ claimedAt: 1 })
      .limit(50)
      .lean<SendClaimRecord[]>();
    let done = 0;
    for (const c of stale) {
      if (!(await takeOver(c))) continue;
      await finishClaim({ tenantId: c.tenantId, idempotencyKey: c.key, ...c.request, subject: c.request.subject ?? undefined });
      done++;
    }
    return done;
  }

  return {
    nodeId,
    log,
    loadSettings,
    inboundUrl,
    open,
    send,
    recoverStale,
    isStopped: () => stopper.signal.aborted,

    async getSettings(tenantId: string): Promise<SettingsView> {
      return settingsView(await loadSettings(tenantId), inboundUrl(tenantId));
    },

    async updateSettings(by: AdminIdentity, body: SettingsBody, context: AuditContext): Promise<SettingsView> {
      const current = await loadSettings(by.tenantId);
      const seal = (field: string, plain: string) => box.seal(plain, sealContext(by.tenantId, field));
      const { next, errors, secretsChanged } = mergeSettings(by.tenantId, current, body, seal);
      errors.push(...(await destinationErrors(options.targets, next)));
      if (errors.length) throw unprocessable(errors);
      const record: NotifySettingsRecord = { ...next, updatedAt: now(), updatedBy: by.email };
      // Never an older timestamp than the stored one: the cached SMTP transport is keyed by it.
      if (current && record.updatedAt <= current.updatedAt) record.updatedAt = new Date(current.updatedAt.getTime() + 1);
      await models.settings.replaceOne({ _id: by.tenantId }, record, { upsert: true });
      const before = settingsView(current, inboundUrl(by.tenantId));
      const after = settingsView(record, inboundUrl(by.tenantId));
      await audit.record({
        tenantId: by.tenantId,
        category: 'notifications',
        action: 'notify.settings.updated',
        actor: adminActor(by),
        target: { type: 'notifySettings', id: by.tenantId, label: 'notification channels' },
        before: { email: before.email, sms: before.sms, phoneAttribute: before.phoneAttribute, cloudPasswordReset: before.cloudPasswordReset },
        after: { email: after.email, sms: after.sms, phoneAttribute: after.phoneAttribute, cloudPasswordReset: after.cloudPasswordReset, secretsChanged },
        ...context,
      });
      return after;
    },

    /** The send log, newest first, a page at a time (cursor from the previous page). */
    async sendLog(tenantId: string, query: { channel?: Channel; purpose?: string; cursor?: string; limit?: number }) {
      const limit = Math.min(Math.max(query.limit ?? LOG_PAGE, 1), 500);
      const conditions: Record<string, unknown>[] = [{ tenantId }];
      if (query.channel) conditions.push({ channel: query.channel });
      if (query.purpose) conditions.push({ purpose: query.purpose });
      if (query.cursor) conditions.push(olderThan('at', decodeCursor(query.cursor, 'string')));
      const rows = await models.sendLog
        .find({ $and: conditions })
        .sort({ at: -1, _id: -1 })
        .limit(limit + 1)
        .lean<SendLogRecord[]>();
      const { page, nextCursor } = keysetPage(rows, limit, (r) => [r.at, r._id]);
      return {
        items: page.map((r) => ({
          id: r._id,
          sendId: r.sendId,
          at: r.at.toISOString(),
          channel: r.channel,
          provider: r.provider,
          recipient: r.recipient,
          userId: r.userId,
          purpose: r.purpose,
          idempotencyKey: r.idempotencyKey,
          attempt: r.attempt,
          status: r.status,
          providerReply: r.providerReply,
          retryInMs: r.retryInMs,
        })),
        nextCursor,
      };
    },

    /** A test message from the admin page ("does my channel work?"), logged with purpose 'test'. */
    async sendTest(by: AdminIdentity, channel: Channel, to: string, context: AuditContext): Promise<SendResult> {
      if (channel === 'sms' && !/^\+?[0-9 ()-]{5,20}$/.test(to)) throw unprocessable([{ path: 'to', message: 'must be a phone number' }]);
      if (channel === 'email' && !isEmailAddress(to)) throw unprocessable([{ path: 'to', message: 'must be an email address' }]);
      const result = await send({
        tenantId: by.tenantId,
        channel,
        to,
        subject: 'Lifeboat test message',
        text: 'Lifeboat test message: this channel works.',
        purpose: 'test',
      });
      await audit.record({
        tenantId: by.tenantId,
        category: 'notifications',
        action: 'notify.test.sent',
        actor: adminActor(by),
        target: { type: 'notifyChannel', id: channel, label: to },
        after: { status: result.status, attempts: result.attempts },
        ...context,
      });
      return result;
    },

    /**
     * Stops retrying and taking new sends; attempts under way finish (up to 20 s). Sends cut short
     * keep their claim pending: another process finishes them after the lease.
     */
    async stop(): Promise<void> {
      stopper.abort();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, 20_000)))]);
      clearTimeout(timer);
      for (const { transport } of transports.values()) transport.close();
      transports.clear();
    },
    /** After stop(): accept sends again (tests reuse a service). */
    resume(): void {
      if (stopper.signal.aborted) stopper = new AbortController();
    },
  };
}
export type NotifyCore = ReturnType<typeof createNotifyCore>;
