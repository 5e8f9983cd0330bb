/**
 * Mail continuity rules: which recipients are accepted, how an accepted message is routed (continuity
 * mailbox copies, "via <group>" copies, onward delivery queued or held), release of held mail,
 * per-tenant settings, the user's mailbox and sending through the tenant's relay.
 */
import { createHash, randomUUID } from 'node:crypto';
import { simpleParser, type ParsedMail, type AddressObject } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import sanitizeHtml from 'sanitize-html';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import type { DirectoryService } from '../directory/service';
import type { EventModel, EventRecord } from '../events/model';
import { notFound, unprocessable } from '../http/problem';
import type { TenantService } from '../tenants/service';
import type { UserIdentity } from '../user-auth/identity';
import { DEFAULT_RETRY, createDeliveryWorker, type RetryPolicy } from './delivery';
import { isDuplicateKey, type DeliveryRecord, type HeldRecord, type MailboxEntryRecord, type MailMessageRecord, type MailModels, type ServerAddress, type StoredRecipient } from './model';
import { MissingContentError, createBatchedStore, messageKey, readRaw, storeMessage } from './store';

export interface MailOptions {
  models: MailModels;
  tenants: TenantService;
  directory: DirectoryService;
  events: EventModel;
  audit: AuditService;
  logger: Logger;
  now?: () => Date;
  hostname?: string;
  retry?: Partial<RetryPolicy>;
  deliveryPollMs?: number;
  /** Held rows released per second per tenant. */
  releasePerSecond?: number;
}

export interface Context {
  ip: string | null;
  requestId: string | null;
}

export type RecipientCheck =
  | { ok: true; tenantId: string; recipient: StoredRecipient }
  | { ok: false; code: number; message: string };

/**
 * Addresses that belong to another capability (the continuity monitor's own addresses): the
 * receiver accepts them whatever their domain and hands such messages over instead of storing them.
 */
export interface MailInterceptor {
  /** The tenant the address belongs to, or null when it is not one of this interceptor's. */
  claims(address: string): Promise<string | null>;
  /** Called before the receiver answers 250 (a throw answers 451, so the sender retries). */
  deliver(input: { tenantId: string; recipients: string[]; raw: Buffer; receivedAt: Date }): Promise<void>;
}
const INTERCEPTED = 'intercepted';

const DEFAULT_RETENTION_DAYS = 5;
const PAGE = 50;

function addressList(a: AddressObject | AddressObject[] | undefined): string[] {
  if (!a) return [];
  return (Array.isArray(a) ? a : [a]).flatMap((o) => o.value.map((v) => (v.name ? `${v.name} <${v.address ?? ''}>` : v.address ?? ''))).filter(Boolean);
}

function summary(parsed: ParsedMail) {
  const text = (parsed.text ?? (parsed.html ? sanitizeHtml(parsed.html, { allowedTags: [], allowedAttributes: {} }) : '')).replace(/\s+/g, ' ').trim();
  return {
    from: parsed.from?.text ?? '',
    to: addressList(parsed.to),
    cc: addressList(parsed.cc),
    subject: parsed.subject ?? '',
    date: parsed.date ?? null,
    preview: text.slice(0, 200),
    hasAttachments: parsed.attachments.some((a) => a.contentDisposition !== 'inline'),
  };
}

const SAFE_HTML: sanitizeHtml.IOptions = {
  allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img', 'span', 'font', 'center'],
  allowedAttributes: { '*': ['style', 'align', 'dir'], a: ['href', 'title'], img: ['src', 'alt', 'width', 'height'], td: ['colspan', 'rowspan'], font: ['color'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['data', 'cid'] },
  transformTags: { a: sanitizeHtml.simpleTransform('a', { target: '_blank', rel: 'noopener noreferrer' }) },
};

const cleanHeader = (s: string) => s.replace(/[\r\n\0]+/g, ' ');

export function createMailService(options: MailOptions) {
  const { models, tenants, directory, events, audit, logger } = options;
  const now = options.now ?? (() => new Date());
  const hostname = options.hostname ?? 'lifeboat.local';
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const releasePerSecond = options.releasePerSecond ?? 20;
  const releasing = new Map<string, Promise<void>>();
  const routing = new Set<string>();
  const storeInbound = createBatchedStore(models);
  const interceptors: MailInterceptor[] = [];

  // Short-lived caches for the SMTP hot path (RCPT TO look-ups).
  const cache = new Map<string, { at: number; value: unknown }>();
  async function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < 30_000) return hit.value as T;
    const value = await load();
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { at: Date.now(), value });
    return value;
  }

  async function settingsOf(tenantId: string) {
    const s = await models.settings.findById(tenantId).lean();
    return { primaryServers: s?.primaryServers ?? [], relay: s?.relay ?? null, retentionDays: s?.retentionDays ?? DEFAULT_RETENTION_DAYS };
  }

  async function currentEvents(tenantId: string): Promise<EventRecord[]> {
    const t = now();
    return events.find({ tenantId, start: { $lte: t }, $or: [{ end: null }, { end: { $gt: t } }] }).lean<EventRecord[]>();
  }

  async function groupByAddress(tenantId: string, address: string) {
    const found = await directory.searchGroups(tenantId, address);
    return found.find((g) => g.mail?.toLowerCase() === address) ?? null;
  }

  /** The pausing events covering a recipient (the recipient itself or a group it belongs to). */
  async function pausingFor(tenantId: string, recipientId: string, pausing: EventRecord[]): Promise<string[]> {
    if (!pausing.length) return [];
    const groups = new Set([recipientId, ...(await directory.transitiveGroupIds(tenantId, recipientId))]);
    return pausing.filter((e) => groups.has(e.affectedGroupId)).map((e) => e._id.toHexString());
  }

  async function upsert<T extends { _id: string }>(model: { replaceOne: (f: object, d: object, o: object) => PromiseLike<unknown> }, doc: T) {
    await model.replaceOne({ _id: doc._id }, doc, { upsert: true });
  }

  async function insertOnce<T extends { _id: string }>(model: { create: (d: T) => Promise<unknown> }, doc: T) {
    try {
      await model.create(doc);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  const deliveryKey = (key: string, recipient: string) => `${key}:${recipient.toLowerCase()}`;

  async function mailboxCopy(msg: MailMessageRecord, userId: string, folder: 'inbox' | 'sent', s: ReturnType<typeof summary>, viaGroup: string | null, deliveryKeys: string[] = []) {
    const entry: MailboxEntryRecord = {
      _id: `${msg.tenantId}:${userId}:${folder}:${msg.messageId}`,
      tenantId: msg.tenantId,
      userId,
      folder,
      messageKey: msg._id,
      receivedAt: msg.receivedAt,
      ...s,
      viaGroup,
      deliveryKeys,
    };
    await upsert(models.mailbox, entry);
  }

  /**
   * Routes one stored message. Idempotent: every document it writes has a deterministic _id, so a
   * crash half-way is healed by routing again (at start, unrouted messages are routed).
   */
  async function route(key: string): Promise<void> {
    const msg = await models.messages.findById(key).lean<MailMessageRecord>();
    if (!msg || msg.routed) return;
    let raw: Buffer;
    try {
      raw = await readRaw(models, msg);
    } catch (err) {
      // Only once its storing has surely ended (another process may still be writing a fresh one).
      if (!(err instanceof MissingContentError) || now().getTime() - msg.receivedAt.getTime() < 10 * 60_000) throw err;
      // Stored half-way when the process died: never answered 250, so the sender still has it.
      logger.warn({ message: key }, 'discarding a message whose storing was cut short (it was never accepted)');
      for (let n = 0; n < msg.chunks; n++) await models.chunks.deleteOne({ _id: `${key}:${n}` });
      await models.messages.deleteOne({ _id: key });
      return;
    }
    const parsed = await simpleParser(raw, { skipTextToHtml: true, skipImageLinks: true });
    const s = summary(parsed);
    if (msg.direction === 'outbound') {
      const keys = msg.recipients.map((r) => deliveryKey(key, r.address));
      if (msg.userId) await mailboxCopy(msg, msg.userId, 'sent', s, null, keys);
      for (const r of msg.recipients) {
        await insertOnce(models.queue, { _id: deliveryKey(key, r.address), tenantId: msg.tenantId, messageKey: key, kind: 'outbound', mailFrom: msg.mailFrom, recipient: r.address, recipientId: null, queuedAt: msg.receivedAt, nextAttemptAt: msg.receivedAt, attempts: [] } as DeliveryRecord);
      }
    } else {
      const current = await currentEvents(msg.tenantId);
      const pausing = current.filter((e) => e.pauseInboundDelivery);
      const expanding = current.filter((e) => e.expandDistributionLists);
      for (const r of msg.recipients) {
        if (r.kind === 'user') await mailboxCopy(msg, r.id, 'inbox', s, null);
        if (r.kind === 'group' && expanding.length) {
          const group = await directory.getGroup(msg.tenantId, r.id);
          const via = group ? `${group.displayName} <${r.address}>` : r.address;
          for (const member of await directory.transitiveUserIds(msg.tenantId, r.id)) {
            const memberGroups = new Set(await directory.transitiveGroupIds(msg.tenantId, member));
            if (expanding.some((e) => memberGroups.has(e.affectedGroupId))) await mailboxCopy(msg, member, 'inbox', s, via);
          }
        }
        const row = { _id: deliveryKey(key, r.address), tenantId: msg.tenantId, messageKey: key, kind: 'inbound' as const, mailFrom: msg.mailFrom, recipient: r.address, recipientId: r.id, queuedAt: msg.receivedAt };
        const holding = await pausingFor(msg.tenantId, r.id, pausing);
        if (holding.length) await insertOnce(models.held, { ...row, heldAt: now(), eventIds: holding } as HeldRecord);
        else await insertOnce(models.queue, { ...row, nextAttemptAt: msg.receivedAt, attempts: [] } as DeliveryRecord);
      }
    }
    await models.messages.updateOne({ _id: key }, { $set: { routed: true } });
    worker.wake();
  }

  // Routing after the 250 runs a few at a time, in arrival order, so it never starves the receiver's
  // writes (the backlog is in the database: unrouted messages are routed again at start).
  const backlog: string[] = [];
  let lanes = 0;
  const ROUTING_LANES = 2;
  function pump(): void {
    while (lanes < ROUTING_LANES && backlog.length) {
      const key = backlog.shift()!;
      lanes++;
      route(key)
        .catch((err) => logger.error({ err, message: key }, 'routing failed; it is retried at the next recovery pass'))
        .finally(() => {
          routing.delete(key);
          lanes--;
          pump();
        });
    }
  }
  function routeSoon(key: string): void {
    if (routing.has(key)) return;
    routing.add(key);
    backlog.push(key);
    pump();
  }

  const targets = {
    async targetsFor(row: DeliveryRecord): Promise<ServerAddress[]> {
      const s = await settingsOf(row.tenantId);
      if (row.kind === 'inbound') return s.primaryServers;
      return s.relay ? [s.relay] : [];
    },
    async bounce(row: DeliveryRecord, reason: string): Promise<void> {
      if (row.kind === 'bounce' || !row.mailFrom) return; // never bounce a bounce or the null sender
      const tenant = await tenants.get(row.tenantId);
      const domain = tenant?.domains[0] ?? hostname;
      const id = `bounce-${createHash('sha256').update(row._id).digest('hex').slice(0, 32)}`;
      const original = await models.messages.findById(row.messageKey, { chunks: 1, raw: 1 }).lean();
      const originalRaw = original ? await readRaw(models, original) : Buffer.alloc(0);
      const headers = originalRaw.toString('utf8').split(/\r?\n\r?\n/)[0] ?? '';
      const raw = await new MailComposer({
        from: `Mail Delivery System <MAILER-DAEMON@${domain}>`,
        to: row.mailFrom,
        subject: cleanHeader(`Undeliverable: message to ${row.recipient}`),
        text: `Your message could not be delivered to ${row.recipient}.\n\nReason: ${reason}\n\nHeaders of your message:\n\n${headers}\n`,
        disableFileAccess: true,
        disableUrlAccess: true,
      })
        .compile()
        .build();
      const key = await storeMessage(models, { tenantId: row.tenantId, messageId: id, direction: 'outbound', mailFrom: '', recipients: [{ address: row.mailFrom, kind: 'user', id: '' }], raw, receivedAt: now() });
      await insertOnce(models.queue, { _id: deliveryKey(key, row.mailFrom), tenantId: row.tenantId, messageKey: key, kind: 'bounce', mailFrom: '', recipient: row.mailFrom, recipientId: null, queuedAt: now(), nextAttemptAt: now(), attempts: [] } as DeliveryRecord);
      await models.messages.updateOne({ _id: key }, { $set: { routed: true } });
      logger.info({ delivery: row._id }, 'bounced to sender');
    },
  };

  const worker = createDeliveryWorker({ models, targets, logger, retry, hostname, now, pollMs: options.deliveryPollMs });

  async function heldStillCovered(row: HeldRecord, pausing: EventRecord[]): Promise<boolean> {
    if (!row.recipientId) return false;
    return (await pausingFor(row.tenantId, row.recipientId, pausing)).length > 0;
  }

  /** Moves held rows no longer covered by a pausing event into the queue, at most releasePerSecond a second. */
  async function releaseTenant(tenantId: string): Promise<void> {
    const ids = (await models.held.find({ tenantId }, { _id: 1 }).sort({ queuedAt: 1 }).lean()).map((r) => r._id);
    if (!ids.length) return;
    const pausing = (await currentEvents(tenantId)).filter((e) => e.pauseInboundDelivery);
    const progress = { _id: tenantId, state: 'running' as const, startedAt: now(), finishedAt: null, total: ids.length, released: 0, stillHeld: 0 };
    await upsert(models.releases, progress);
    let windowStart = Date.now();
    let inWindow = 0;
    for (const id of ids) {
      const row = await models.held.findById(id).lean<HeldRecord>();
      if (!row) continue;
      if (await heldStillCovered(row, pausing)) {
        progress.stillHeld++;
        continue;
      }
      if (inWindow >= releasePerSecond) {
        const wait = 1000 - (Date.now() - windowStart);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        windowStart = Date.now();
        inWindow = 0;
        await upsert(models.releases, progress);
      }
      const { heldAt: _h, eventIds: _e, ...rest } = row;
      await insertOnce(models.queue, { ...rest, nextAttemptAt: now(), attempts: [] } as DeliveryRecord);
      await models.held.deleteOne({ _id: id });
      progress.released++;
      inWindow++;
      worker.wake();
    }
    await upsert(models.releases, { ...progress, state: 'done', finishedAt: now() });
    logger.info({ tenant: tenantId, released: progress.released, stillHeld: progress.stillHeld }, 'held mail released');
  }

  function release(tenantId: string): Promise<void> {
    const running = releasing.get(tenantId);
    if (running) return running.then(() => release(tenantId));
    const p = releaseTenant(tenantId)
      .catch((err) => logger.error({ err, tenant: tenantId }, 'release of held mail failed'))
      .finally(() => releasing.delete(tenantId));
    releasing.set(tenantId, p);
    return p;
  }

  async function entryFor(user: UserIdentity, id: string): Promise<MailboxEntryRecord> {
    if (!/^(inbox|sent):[A-Za-z0-9._-]{1,80}$/.test(id)) throw notFound('message');
    const entry = await models.mailbox.findById(`${user.tenantId}:${user.userId}:${id}`).lean<MailboxEntryRecord>();
    if (!entry || entry.tenantId !== user.tenantId || entry.userId !== user.userId) throw notFound('message');
    return entry;
  }

  async function parsedOf(entry: MailboxEntryRecord): Promise<ParsedMail> {
    const msg = await models.messages.findById(entry.messageKey, { chunks: 1, raw: 1, tenantId: 1 }).lean();
    if (!msg || msg.tenantId !== entry.tenantId) throw notFound('message');
    return simpleParser(await readRaw(models, msg), { skipImageLinks: true });
  }

  async function deliveryStatus(keys: string[]) {
    const out = [];
    for (const key of keys) {
      const q = await models.queue.findById(key).lean<DeliveryRecord>();
      const recipient = key.slice(key.lastIndexOf(':') + 1);
      if (q) {
        const last = q.attempts[q.attempts.length - 1];
        out.push({ recipient, state: 'queued', attempts: q.attempts.length, lastReply: last?.reply ?? null, nextAttemptAt: q.nextAttemptAt.toISOString() });
        continue;
      }
      const r = await models.results.findById(key).lean();
      if (r) {
        const last = r.attempts[r.attempts.length - 1];
        out.push({ recipient, state: r.state === 'delivered' ? 'sent' : 'failed', attempts: r.attempts.length, lastReply: last?.reply ?? null, nextAttemptAt: null });
      } else {
        out.push({ recipient, state: 'queued', attempts: 0, lastReply: null, nextAttemptAt: null });
      }
    }
    return out;
  }

  const view = (e: MailboxEntryRecord) => ({
    id: `${e.folder}:${e._id.slice(e._id.lastIndexOf(':') + 1)}`,
    folder: e.folder,
    from: e.from,
    to: e.to,
    cc: e.cc,
    subject: e.subject,
    date: (e.date ?? e.receivedAt).toISOString(),
    receivedAt: e.receivedAt.toISOString(),
    preview: e.preview,
    viaGroup: e.viaGroup,
    hasAttachments: e.hasAttachments,
  });

  return {
    models,
    worker,

    /** Lets another capability receive messages for its own addresses (see MailInterceptor). */
    intercept(interceptor: MailInterceptor): void {
      interceptors.push(interceptor);
    },

    /** RCPT TO: accepted domains only (never an open relay), known users or groups only. */
    async checkRecipient(address: string): Promise<RecipientCheck> {
      const lower = address.trim().toLowerCase();
      for (const interceptor of interceptors) {
        const tenantId = await interceptor.claims(lower);
        if (tenantId) return { ok: true, tenantId, recipient: { address: lower, kind: INTERCEPTED as StoredRecipient['kind'], id: '' } };
      }
      const at = lower.lastIndexOf('@');
      if (at < 1) return { ok: false, code: 550, message: '5.1.3 Bad recipient address syntax' };
      const domain = lower.slice(at + 1);
      const tenant = await cached(`d:${domain}`, () => tenants.byDomain(domain));
      if (!tenant) return { ok: false, code: 550, message: '5.7.1 Relaying denied: not an accepted domain' };
      const user = await cached(`u:${tenant.id}:${lower}`, () => directory.findUserByAddress(tenant.id, lower));
      if (user) return { ok: true, tenantId: tenant.id, recipient: { address: lower, kind: 'user', id: user.id } };
      const group = await cached(`g:${tenant.id}:${lower}`, () => groupByAddress(tenant.id, lower));
      if (group) return { ok: true, tenantId: tenant.id, recipient: { address: lower, kind: 'group', id: group.id } };
      return { ok: false, code: 550, message: '5.1.1 Recipient address rejected: no such user here' };
    },

    /** Stores a received message durably (resolve = safe to answer 250), then routes it in the background. */
    async accept(input: { tenantId: string; mailFrom: string; recipients: StoredRecipient[]; raw: Buffer; remoteAddress: string | null }): Promise<string> {
      const messageId = randomUUID();
      const intercepted = input.recipients.filter((r) => (r.kind as string) === INTERCEPTED);
      if (intercepted.length) {
        const receivedAt = now();
        for (const interceptor of interceptors) {
          const mine = [];
          for (const r of intercepted) if ((await interceptor.claims(r.address)) === input.tenantId) mine.push(r.address);
          if (mine.length) await interceptor.deliver({ tenantId: input.tenantId, recipients: mine, raw: input.raw, receivedAt });
        }
        input = { ...input, recipients: input.recipients.filter((r) => (r.kind as string) !== INTERCEPTED) };
        if (!input.recipients.length) return messageId;
      }
      const key = await storeInbound({ ...input, messageId, direction: 'inbound', receivedAt: now() });
      routeSoon(key);
      return messageId;
    },

    route,

    /** Routes every message stored but not yet routed (after a crash). A scan, so only at start and now and then. */
    async recover(): Promise<number> {
      const pending = await models.messages.find({ routed: false }, { _id: 1 }).lean();
      for (const p of pending) if (!routing.has(p._id)) await route(p._id).catch((err) => logger.error({ err, message: p._id }, 'recovery routing failed'));
      return pending.length;
    },

    release,
    /** Re-checks held mail of a tenant (an event ended or changed). */
    onEventChange(event: Pick<EventRecord, 'tenantId'>): void {
      void release(event.tenantId);
    },

    async getSettings(tenantId: string) {
      return settingsOf(tenantId);
    },

    async putSettings(by: AdminIdentity, input: { primaryServers: ServerAddress[]; relay: ServerAddress | null; retentionDays?: number }, context: Context) {
      const before = await settingsOf(by.tenantId);
      const after = { primaryServers: input.primaryServers, relay: input.relay, retentionDays: input.retentionDays ?? DEFAULT_RETENTION_DAYS };
      await models.settings.replaceOne({ _id: by.tenantId }, { _id: by.tenantId, ...after, updatedAt: now() }, { upsert: true });
      await audit.record({ tenantId: by.tenantId, category: 'mail', action: 'mail.settings.updated', actor: adminActor(by), target: { type: 'mailSettings', id: by.tenantId, label: 'Mail settings' }, before, after, ...context });
      return after;
    },

    /** Queue, held and release figures for admins (scans: admin pages only). */
    async status(tenantId: string) {
      const [queued, held, release] = await Promise.all([
        models.queue.countDocuments({ tenantId }),
        models.held.countDocuments({ tenantId }),
        models.releases.findById(tenantId).lean(),
      ]);
      return {
        queued,
        held,
        release: release
          ? { state: release.state, startedAt: release.startedAt.toISOString(), finishedAt: release.finishedAt?.toISOString() ?? null, total: release.total, released: release.released, stillHeld: release.stillHeld }
          : null,
      };
    },

    /** Newest first. During an event the inbox shows everything since the (earliest) event's start. */
    async list(user: UserIdentity, folder: 'inbox' | 'sent', cursor: string | undefined) {
      const filter: Record<string, unknown> = { tenantId: user.tenantId, userId: user.userId, folder };
      const range: Record<string, Date> = {};
      if (folder === 'inbox') {
        const groups = new Set([user.userId, ...(await directory.transitiveGroupIds(user.tenantId, user.userId))]);
        const mine = (await currentEvents(user.tenantId)).filter((e) => groups.has(e.affectedGroupId));
        if (mine.length) range.$gte = new Date(Math.min(...mine.map((e) => e.start.getTime())));
      }
      if (cursor) {
        const ms = Number(Buffer.from(cursor, 'base64url').toString());
        if (!Number.isFinite(ms) || ms <= 0) throw unprocessable([{ path: 'cursor', message: 'cursor is not valid' }]);
        range.$lt = new Date(ms);
      }
      if (Object.keys(range).length) filter.receivedAt = range;
      const rows = await models.mailbox.find(filter).sort({ receivedAt: -1, _id: -1 }).limit(PAGE + 1).lean<MailboxEntryRecord[]>();
      const page = rows.slice(0, PAGE);
      const next = rows.length > PAGE ? Buffer.from(String(page[page.length - 1]!.receivedAt.getTime())).toString('base64url') : null;
      return { items: page.map(view), nextCursor: next };
    },

    async read(user: UserIdentity, id: string) {
      const entry = await entryFor(user, id);
      const parsed = await parsedOf(entry);
      const html = parsed.html ? sanitizeHtml(parsed.html, SAFE_HTML) : null;
      return {
        ...view(entry),
        html,
        text: parsed.text ?? '',
        attachments: parsed.attachments.map((a, index) => ({ index, filename: a.filename ?? `attachment-${index + 1}`, contentType: a.contentType, size: a.size })),
        deliveries: entry.folder === 'sent' ? await deliveryStatus(entry.deliveryKeys) : undefined,
      };
    },

    async attachment(user: UserIdentity, id: string, index: number) {
      const parsed = await parsedOf(await entryFor(user, id));
      const a = parsed.attachments[index];
      if (!a) throw notFound('attachment');
      return { filename: a.filename ?? `attachment-${index + 1}`, contentType: a.contentType || 'application/octet-stream', content: a.content };
    },

    /** Sends as the signed-in user through the tenant's relay; the idempotency key makes a retry send once. */
    async send(
      user: UserIdentity,
      input: { to: string[]; cc: string[]; bcc: string[]; subject: string; html: string; attachments: { filename: string; contentType: string; contentBase64: string }[]; idempotencyKey?: string },
    ) {
      if (!user.email) throw unprocessable([{ path: '(user)', message: 'your directory entry has no mail address to send from' }]);
      let messageId: string = randomUUID();
      const sendKey = input.idempotencyKey ? `${user.tenantId}:${user.userId}:${input.idempotencyKey}` : null;
      if (sendKey) {
        const existing = await models.sendKeys.findById(sendKey).lean();
        if (existing) messageId = existing.messageId;
        else {
          try {
            await models.sendKeys.create({ _id: sendKey, messageId, createdAt: now() });
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
            messageId = (await models.sendKeys.findById(sendKey).lean())!.messageId;
          }
        }
      }
      const key = messageKey(user.tenantId, messageId);
      const stored = await models.messages.findById(key, { routed: 1 }).lean();
      if (!stored) {
        const from = { name: cleanHeader(user.displayName), address: user.email };
        const raw = await new MailComposer({
          from,
          to: input.to,
          cc: input.cc,
          bcc: input.bcc,
          subject: cleanHeader(input.subject),
          html: input.html,
          messageId: `<${messageId}@${user.email.split('@')[1]}>`,
          attachments: input.attachments.map((a) => ({ filename: cleanHeader(a.filename), contentType: cleanHeader(a.contentType), content: Buffer.from(a.contentBase64, 'base64') })),
          disableFileAccess: true,
          disableUrlAccess: true,
        })
          .compile()
          .build();
        const all = [...new Set([...input.to, ...input.cc, ...input.bcc].map((a) => a.toLowerCase()))];
        await storeMessage(models, { tenantId: user.tenantId, messageId, direction: 'outbound', mailFrom: user.email, recipients: all.map((address) => ({ address, kind: 'user', id: '' })), raw, userId: user.userId, receivedAt: now() });
      }
      await route(key);
      return this.read(user, `sent:${messageId}`);
    },

    /** Removes mailbox copies and messages older than each tenant's retention (not those still to deliver). */
    async sweep(): Promise<{ entries: number; messages: number }> {
      let entries = 0;
      let messages = 0;
      for (const tenant of await tenants.list()) {
        const { retentionDays } = await settingsOf(tenant.id);
        const cutoff = new Date(now().getTime() - retentionDays * 24 * 3600_000);
        entries += (await models.mailbox.deleteMany({ tenantId: tenant.id, receivedAt: { $lt: cutoff } })).deletedCount;
        const old = await models.messages.find({ tenantId: tenant.id, receivedAt: { $lt: cutoff } }, { _id: 1, chunks: 1 }).lean();
        if (!old.length) continue;
        const busy = new Set([
          ...(await models.queue.find({ tenantId: tenant.id }, { messageKey: 1 }).lean()).map((r) => r.messageKey),
          ...(await models.held.find({ tenantId: tenant.id }, { messageKey: 1 }).lean()).map((r) => r.messageKey),
        ]);
        for (const m of old) {
          if (busy.has(m._id)) continue;
          // By _id (the only indexed filter on FerretDB): one scan of the chunks per message would not scale.
          for (let n = 0; n < m.chunks; n++) await models.chunks.deleteOne({ _id: `${m._id}:${n}` });
          await models.messages.deleteOne({ _id: m._id });
          messages++;
        }
      }
      return { entries, messages };
    },
  };
}
export type MailService = ReturnType<typeof createMailService>;
