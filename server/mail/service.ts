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
import {
  isDuplicateKey,
  type DeliveryRecord,
  type HeldRecord,
  type MailboxEntryRecord,
  type MailMessageRecord,
  type MailModels,
  type ServerAddress,
  type StoredRecipient,
} from './model';
import { carriesMessage, createRoutingJournal } from './journal';
import { openSpool, type Spool } from './spool';
import { insertIgnoringDuplicates } from '../db/claims';
import { MissingContentError, createBatchedStore, messageKey, readRaw, storeMessage } from './store';
import { createMailboxIndex, plainText, type IndexRow } from './mailbox-index';
import { decodeCursor, encodeCursor } from '../db/cursor';

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
  /** How long chunks may wait for their message document before the sweeper removes them. */
  orphanGraceMs?: number;
  /** Raw messages kept in memory for routing (default ROUTE_MEMORY_BYTES). */
  routeMemoryBytes?: number;
}

export interface Context {
  ip: string | null;
  requestId: string | null;
}

export type RecipientCheck = { ok: true; tenantId: string; recipient: StoredRecipient } | { ok: false; code: number; message: string };

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
/** Directory and settings look-ups are cached this long (dropped at once on a directory change). */
const CACHE_MS = 30_000;
/** A tenant's events are cached this long (dropped at once on an event change in this process). */
const EVENTS_CACHE_MS = 5_000;
/** A message or marker this old whose storing never completed was surely abandoned (no 250 was given). */
const ABANDONED_MS = 10 * 60_000;
/** Messages routed together (one insertMany each of mailbox copies, queue rows and held rows). */
const ROUTE_BATCH = 50;
/** While the receiver is busy, a routing batch waits at most this long for a pause... */
const ROUTE_YIELD_MS = 2_000;
/** ...unless this many messages wait to be routed. */
const ROUTE_FORCE_BACKLOG = 2_000;
/** Raw messages kept in memory for routing (beyond this, routing reads them back from the database). */
const ROUTE_MEMORY_BYTES = 64 * 1024 * 1024;
/** Chunks whose message document has not committed after this long are orphans (the sweeper removes them). */
export const ORPHAN_GRACE_MS = 60 * 60_000;
const PAGE = 50;

/** The cursor of mailbox and search pages: the last row's (receivedAt, message id). */
const rowCursor = (cursor: string | undefined) => {
  if (!cursor) return undefined;
  const p = decodeCursor(cursor, 'string');
  return { at: p.at.getTime(), m: p.id };
};

function addressList(a: AddressObject | AddressObject[] | undefined): string[] {
  if (!a) return [];
  return (Array.isArray(a) ? a : [a]).flatMap((o) => o.value.map((v) => (v.name ? `${v.name} <${v.address ?? ''}>` : (v.address ?? '')))).filter(Boolean);
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
  allowedAttributes: {
    '*': ['style', 'align', 'dir'],
    a: ['href', 'title'],
    img: ['src', 'alt', 'width', 'height'],
    td: ['colspan', 'rowspan'],
    font: ['color'],
  },
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
  const orphanGraceMs = options.orphanGraceMs ?? ORPHAN_GRACE_MS;
  const routeMemoryBytes = options.routeMemoryBytes ?? ROUTE_MEMORY_BYTES;
  const releasing = new Map<string, Promise<void>>();
  const routing = new Set<string>();
  const journal = createRoutingJournal(models.messages.db.db!, logger);
  let spool: Spool | null = null;
  const storeInbound = createBatchedStore(models, journal, { spool: () => spool, logger });
  const interceptors: MailInterceptor[] = [];
  // What users list and search (FerretDB scans every filter but {_id}: see mailbox-index.ts).
  const mailboxIndex = createMailboxIndex(models.mailbox.db, { mailbox: models.mailbox });

  // Caches for the SMTP hot path and routing, dropped whenever the directory or a tenant's events change
  // (and after a short time, for changes made by another process).
  const cache = new Map<string, { at: number; value: unknown }>();
  // Bumped by every invalidation: a load that started before one is not cached (it may be stale).
  let epoch = 0;
  async function cached<T>(key: string, load: () => Promise<T>, ttlMs = CACHE_MS): Promise<T> {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value as T;
    const started = epoch;
    const value = await load();
    if (cache.size > 10_000) cache.clear();
    if (started === epoch) cache.set(key, { at: Date.now(), value });
    return value;
  }
  const forget = (prefix: string) => {
    epoch++;
    for (const key of cache.keys()) if (key.startsWith(prefix)) cache.delete(key);
  };
  const forgetAll = () => {
    epoch++;
    cache.clear();
  };
  // A user or group added to (or removed from) the directory is seen at once.
  directory.onDirectoryChanged(() => forgetAll());

  async function settingsOf(tenantId: string) {
    const s = await models.settings.findById(tenantId).lean();
    return { primaryServers: s?.primaryServers ?? [], relay: s?.relay ?? null, retentionDays: s?.retentionDays ?? DEFAULT_RETENTION_DAYS };
  }

  /** Events not yet over (current or future), cached per tenant; filtered by the clock at each use. */
  async function currentEvents(tenantId: string): Promise<EventRecord[]> {
    const live = await cached(
      `e:${tenantId}`,
      () => events.find({ tenantId, $or: [{ end: null }, { end: { $gt: now() } }] }).lean<EventRecord[]>(),
      EVENTS_CACHE_MS,
    );
    const t = now().getTime();
    return live.filter((e) => e.start.getTime() <= t && (!e.end || e.end.getTime() > t));
  }
  const pausingEvents = async (tenantId: string) => (await currentEvents(tenantId)).filter((e) => e.pauseInboundDelivery);

  const groupsOf = (tenantId: string, userId: string) => cached(`tg:${tenantId}:${userId}`, () => directory.transitiveGroupIds(tenantId, userId));
  const membersOf = (tenantId: string, groupId: string) => cached(`tu:${tenantId}:${groupId}`, () => directory.transitiveUserIds(tenantId, groupId));

  async function groupByAddress(tenantId: string, address: string) {
    const found = await directory.searchGroups(tenantId, address);
    return found.find((g) => g.mail?.toLowerCase() === address) ?? null;
  }

  /** The pausing events covering a recipient (the recipient itself or a group it belongs to). */
  async function pausingFor(tenantId: string, recipientId: string, pausing: EventRecord[]): Promise<string[]> {
    if (!pausing.length) return [];
    const groups = new Set([recipientId, ...(await groupsOf(tenantId, recipientId))]);
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

  function mailboxEntry(
    msg: MailMessageRecord,
    userId: string,
    folder: 'inbox' | 'sent',
    s: ReturnType<typeof summary>,
    viaGroup: string | null,
    deliveryKeys: string[] = [],
  ): MailboxEntryRecord {
    return {
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
  }

  interface Routed {
    mailbox: MailboxEntryRecord[];
    /** Each routed message's body text (for the search index), by message key. */
    bodies?: Map<string, string>;
    queue: DeliveryRecord[];
    held: HeldRecord[];
  }

  /** The documents routing writes for one message (deterministic _ids: writing them again is harmless). */
  async function plan(msg: MailMessageRecord, raw: Buffer, out: Routed): Promise<void> {
    const key = msg._id;
    const parsed = await simpleParser(raw, { skipTextToHtml: true, skipImageLinks: true });
    const s = summary(parsed);
    out.bodies?.set(key, plainText(parsed));
    if (msg.direction === 'outbound') {
      const keys = msg.recipients.map((r) => deliveryKey(key, r.address));
      if (msg.userId) out.mailbox.push(mailboxEntry(msg, msg.userId, 'sent', s, null, keys));
      for (const r of msg.recipients) {
        out.queue.push({
          _id: deliveryKey(key, r.address),
          tenantId: msg.tenantId,
          messageKey: key,
          kind: 'outbound',
          mailFrom: msg.mailFrom,
          recipient: r.address,
          recipientId: null,
          queuedAt: msg.receivedAt,
          nextAttemptAt: msg.receivedAt,
          attempts: [],
        });
      }
      return;
    }
    const current = await currentEvents(msg.tenantId);
    const pausing = current.filter((e) => e.pauseInboundDelivery);
    const expanding = current.filter((e) => e.expandDistributionLists);
    for (const r of msg.recipients) {
      if (r.kind === 'user') out.mailbox.push(mailboxEntry(msg, r.id, 'inbox', s, null));
      if (r.kind === 'group' && expanding.length) {
        const group = await cached(`gg:${msg.tenantId}:${r.id}`, () => directory.getGroup(msg.tenantId, r.id));
        const via = group ? `${group.displayName} <${r.address}>` : r.address;
        for (const member of await membersOf(msg.tenantId, r.id)) {
          const memberGroups = new Set(await groupsOf(msg.tenantId, member));
          if (expanding.some((e) => memberGroups.has(e.affectedGroupId))) out.mailbox.push(mailboxEntry(msg, member, 'inbox', s, via));
        }
      }
      const row = {
        _id: deliveryKey(key, r.address),
        tenantId: msg.tenantId,
        messageKey: key,
        kind: 'inbound' as const,
        mailFrom: msg.mailFrom,
        recipient: r.address,
        recipientId: r.id,
        queuedAt: msg.receivedAt,
      };
      const holding = await pausingFor(msg.tenantId, r.id, pausing);
      if (holding.length) out.held.push({ ...row, heldAt: now(), eventIds: holding });
      else out.queue.push({ ...row, nextAttemptAt: msg.receivedAt, attempts: [] });
    }
  }

  interface RouteItem {
    key: string;
    /** What the receiver just stored, or the journal entry read in recovery (saves reading it back). */
    record?: MailMessageRecord;
    raw?: Buffer;
    /** The record is only in the routing journal yet: copy it to the messages collection first. */
    inJournalOnly?: boolean;
  }

  /** The stored message for a key: the messages collection, else this process's journal entry. */
  async function findStored(key: string): Promise<{ record: MailMessageRecord; inJournalOnly: boolean } | null> {
    const record = await models.messages.findById(key).lean<MailMessageRecord>();
    if (record) return { record, inJournalOnly: false };
    const entry = await journal.lookup(key);
    return entry && carriesMessage(entry) ? { record: entry, inJournalOnly: true } : null;
  }

  /**
   * Routes stored messages: mailbox copies, queue or held rows, written for the whole batch at once
   * (inserts only), then their journal entries are done. Idempotent: every document has a
   * deterministic _id, so a crash half-way is healed by routing again (recovery reads the journal).
   */
  async function routeMany(items: RouteItem[]): Promise<void> {
    const out: Routed = { mailbox: [], bodies: new Map(), queue: [], held: [] };
    const copies: MailMessageRecord[] = [];
    const done: string[] = [];
    for (const item of items) {
      const found = item.record ? { record: item.record, inJournalOnly: item.inJournalOnly ?? false } : await findStored(item.key);
      const msg = found?.record;
      if (!msg) {
        // A marker whose message never committed (no 250 was given), or one still being written by
        // another process (which routes it itself).
        done.push(item.key);
        continue;
      }
      let raw: Buffer;
      try {
        raw = item.raw ?? (await readRaw(models, msg));
      } catch (err) {
        if (!(err instanceof MissingContentError) || now().getTime() - msg.receivedAt.getTime() < ABANDONED_MS) throw err;
        // Stored half-way by an older version that wrote chunks and document side by side: never answered 250.
        logger.warn({ message: item.key }, 'discarding a message whose storing was cut short (it was never accepted)');
        await models.messages.deleteOne({ _id: item.key });
        done.push(item.key);
        continue;
      }
      await plan(msg, raw, out);
      if (found.inJournalOnly) copies.push(msg);
      done.push(item.key);
    }
    // The messages first: the mailbox entries and delivery rows point to them.
    await insertIgnoringDuplicates(models.messages, copies);
    await Promise.all([
      insertIgnoringDuplicates(models.mailbox, out.mailbox),
      insertIgnoringDuplicates(models.queue, out.queue),
      insertIgnoringDuplicates(models.held, out.held),
    ]);
    // Before the journal lets go: a crash here routes again, and adding to the index is idempotent.
    await mailboxIndex.add(out.mailbox.map((entry) => ({ entry, body: out.bodies?.get(entry.messageKey) ?? '' })));
    journal.done(done);
    if (out.queue.length) worker.wake();
  }

  const route = (key: string) => routeMany([{ key }]);

  // Routing after the 250 runs in the background in batches, in arrival order, one batch at a time.
  // Accepting comes first: while the receiver is busy, routing waits for a pause (at most
  // ROUTE_YIELD_MS per batch, not at all once the backlog is large), so it does not slow the 250s
  // (measured: routing costs about 0.3-0.5 ms of CPU per message, the receive path about 2).
  // The backlog is safe in the database (the journal's entries; recovery routes them after a crash).
  const backlog: RouteItem[] = [];
  let pumping = false;
  let pumpTimer: NodeJS.Timeout | null = null;
  let lastRouted = 0;
  let lastAccepted = 0;
  function pump(): void {
    if (pumping || pumpTimer || !backlog.length) return;
    const receiving = storeInbound.busy() || Date.now() - lastAccepted < 20;
    if (receiving && backlog.length < ROUTE_FORCE_BACKLOG && Date.now() - lastRouted < ROUTE_YIELD_MS) {
      pumpTimer = setTimeout(() => {
        pumpTimer = null;
        pump();
      }, 10);
      pumpTimer.unref?.();
      return;
    }
    pumping = true;
    const batch = backlog.splice(0, ROUTE_BATCH);
    for (const item of batch) backlogBytes -= item.raw?.length ?? 0;
    routeMany(batch)
      .catch((err) => logger.error({ err, messages: batch.length }, 'routing failed; it is retried at the next recovery pass'))
      .finally(() => {
        for (const item of batch) routing.delete(item.key);
        pumping = false;
        lastRouted = Date.now();
        setImmediate(pump);
      });
  }
  let backlogBytes = 0;
  function routeSoon(item: RouteItem): void {
    if (routing.has(item.key)) return;
    routing.add(item.key);
    const size = item.raw?.length ?? 0;
    if (backlogBytes + size > routeMemoryBytes) backlog.push({ key: item.key });
    else {
      backlogBytes += size;
      backlog.push(item);
    }
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
      // No journal marker: the bounce's only routing is its queue row, written right here.
      const key = await storeMessage(models, {
        tenantId: row.tenantId,
        messageId: id,
        direction: 'outbound',
        mailFrom: '',
        recipients: [{ address: row.mailFrom, kind: 'user', id: '' }],
        raw,
        receivedAt: now(),
      });
      await insertOnce(models.queue, {
        _id: deliveryKey(key, row.mailFrom),
        tenantId: row.tenantId,
        messageKey: key,
        kind: 'bounce',
        mailFrom: '',
        recipient: row.mailFrom,
        recipientId: null,
        queuedAt: now(),
        nextAttemptAt: now(),
        attempts: [],
      } as DeliveryRecord);
      logger.info({ delivery: row._id }, 'bounced to sender');
    },
    /** An inbound row whose recipient a current pausing event covers is held instead of attempted. */
    async holdFor(row: DeliveryRecord): Promise<string[]> {
      if (row.kind !== 'inbound' || !row.recipientId) return [];
      return pausingFor(row.tenantId, row.recipientId, await pausingEvents(row.tenantId));
    },
  };

  const worker = createDeliveryWorker({ models, targets, logger, retry, hostname, now, pollMs: options.deliveryPollMs });

  /**
   * Moves queued (not yet delivered) inbound rows of recipients covered by a pausing event to held.
   * Each row is taken under the same lease the workers use: a row a worker is delivering right now is
   * left to finish (if that attempt is deferred, the worker holds it before its next attempt).
   */
  async function holdTenant(tenantId: string): Promise<void> {
    const pausing = await pausingEvents(tenantId);
    if (!pausing.length) return;
    const rows = await models.queue.find({ tenantId, kind: 'inbound' }, { _id: 1, recipientId: 1 }).lean();
    let held = 0;
    let busy = 0;
    for (const r of rows) {
      if (!r.recipientId) continue;
      const eventIds = await pausingFor(tenantId, r.recipientId, pausing);
      if (!eventIds.length) continue;
      const moved = await worker.withLease(r._id, async () => {
        const row = await models.queue.findById(r._id).lean<DeliveryRecord>();
        if (!row) return false; // delivered meanwhile
        await moveToHeld(row, eventIds);
        return true;
      });
      if (moved === null) busy++;
      else if (moved) held++;
    }
    if (held || busy) logger.info({ tenant: tenantId, held, beingDelivered: busy }, 'queued mail held: a pausing event started');
  }

  /** Held row first, then the queue row removed: a crash in between leaves both, which the next pass heals. */
  async function moveToHeld(row: DeliveryRecord, eventIds: string[]): Promise<void> {
    const { nextAttemptAt: _n, attempts: _a, ...rest } = row;
    await insertOnce(models.held, { ...rest, heldAt: now(), eventIds } as HeldRecord);
    await models.queue.deleteOne({ _id: row._id });
  }

  /** Moves held rows no longer covered by a pausing event into the queue, at most releasePerSecond a second. */
  async function releaseTenant(tenantId: string): Promise<void> {
    const rows = await models.held.find({ tenantId }).sort({ queuedAt: 1 }).lean<HeldRecord[]>();
    if (!rows.length) return;
    const pausing = await pausingEvents(tenantId);
    const free: HeldRecord[] = [];
    for (const row of rows) if (!row.recipientId || !(await pausingFor(tenantId, row.recipientId, pausing)).length) free.push(row);
    if (!free.length) return;
    const progress = {
      _id: tenantId,
      state: 'running' as const,
      startedAt: now(),
      finishedAt: null,
      total: free.length,
      released: 0,
      stillHeld: rows.length - free.length,
    };
    await upsert(models.releases, progress);
    logger.info({ tenant: tenantId, toRelease: free.length, stillHeld: progress.stillHeld }, 'releasing held mail');
    for (let i = 0; i < free.length; i += releasePerSecond) {
      const windowStart = Date.now();
      const slice = free.slice(i, i + releasePerSecond);
      // In slices of ≤100 (FerretDB bulk limit): queue rows first, then the held rows removed.
      for (let j = 0; j < slice.length; j += 100) {
        const part = slice.slice(j, j + 100);
        await insertIgnoringDuplicates(
          models.queue,
          part.map(({ heldAt: _h, eventIds: _e, ...rest }) => ({ ...rest, nextAttemptAt: now(), attempts: [] }) as DeliveryRecord),
        );
        // Which events held them, kept for the post-incident report once the held rows are gone.
        await insertIgnoringDuplicates(
          models.releasedHeld,
          part.map((r) => ({ _id: r._id, tenantId: r.tenantId, eventIds: r.eventIds, heldAt: r.heldAt, releasedAt: now() })),
        );
        await models.held.deleteMany({ tenantId, _id: { $in: part.map((r) => r._id) } });
      }
      progress.released += slice.length;
      worker.wake();
      if (i + releasePerSecond < free.length) {
        await upsert(models.releases, progress);
        const wait = 1000 - (Date.now() - windowStart);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
    await upsert(models.releases, { ...progress, state: 'done', finishedAt: now() });
    logger.info({ tenant: tenantId, released: progress.released, stillHeld: progress.stillHeld }, 'held mail released');
  }

  /** Brings a tenant's queue and held rows in line with its current pausing events; one pass per tenant at a time. */
  function reconcile(tenantId: string): Promise<void> {
    const previous = releasing.get(tenantId) ?? Promise.resolve();
    const p: Promise<void> = previous
      .then(() => holdTenant(tenantId))
      .then(() => releaseTenant(tenantId))
      .catch((err) => logger.error({ err, tenant: tenantId }, 'holding or releasing mail failed'))
      .finally(() => {
        if (releasing.get(tenantId) === p) releasing.delete(tenantId);
      });
    releasing.set(tenantId, p);
    return p;
  }
  async function entryFor(user: UserIdentity, id: string): Promise<MailboxEntryRecord> {
    if (!/^(inbox|sent):[A-Za-z0-9._-]{1,80}$/.test(id)) throw notFound('message');
    const entry = await models.mailbox.findById(`${user.tenantId}:${user.userId}:${id}`).lean<MailboxEntryRecord>();
    if (!entry || entry.tenantId !== user.tenantId || entry.userId !== user.userId) throw notFound('message');
    return entry;
  }

  /**
   * In-Reply-To and References for a reply to one of the user's messages (so Outlook threads it when
   * Exchange is back): taken from the original as stored, keeping only well-formed message ids.
   */
  async function threadOf(user: UserIdentity, id: string): Promise<{ inReplyTo?: string; references?: string[] }> {
    const entry = await entryFor(user, id).catch(() => {
      throw unprocessable([{ path: 'inReplyTo', message: 'the message you reply to is not in your mailbox (any more)' }]);
    });
    const original = await parsedOf(entry);
    const wellFormed = (ids: unknown): string[] =>
      (Array.isArray(ids) ? ids : typeof ids === 'string' ? ids.split(/\s+/) : []).filter(
        (x): x is string => typeof x === 'string' && /^<[^<>\s]{1,250}>$/.test(x),
      );
    const [messageId] = wellFormed(original.messageId);
    if (!messageId) return {};
    // The chain is kept short: the first and the last few ids (RFC 5322 suggests the whole chain; long ones get trimmed).
    const chain = [...wellFormed(original.references), messageId];
    return { inReplyTo: messageId, references: chain.length > 10 ? [chain[0]!, ...chain.slice(-9)] : chain };
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
        out.push({
          recipient,
          state: r.state === 'delivered' ? 'sent' : 'failed',
          attempts: r.attempts.length,
          lastReply: last?.reply ?? null,
          nextAttemptAt: null,
        });
      } else {
        out.push({ recipient, state: 'queued', attempts: 0, lastReply: null, nextAttemptAt: null });
      }
    }
    return out;
  }

  const rowView = (r: IndexRow & { folder: 'inbox' | 'sent' }) => ({
    id: `${r.folder}:${r.m}`,
    folder: r.folder,
    from: r.from,
    to: r.to,
    cc: r.cc,
    subject: r.subject,
    date: new Date(r.date ?? r.at).toISOString(),
    receivedAt: new Date(r.at).toISOString(),
    preview: r.preview,
    viaGroup: r.via,
    hasAttachments: r.att,
  });
  const pageOf = (rows: Array<IndexRow & { folder: 'inbox' | 'sent' }>) => {
    const page = rows.slice(0, PAGE);
    const last = page[page.length - 1];
    return { items: page.map(rowView), nextCursor: rows.length > PAGE && last ? encodeCursor(new Date(last.at), last.m) : null };
  };

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
      lastAccepted = Date.now();
      const stored = await storeInbound({ ...input, messageId, direction: 'inbound', receivedAt: now() });
      // Routing starts once the database has it (a spooled message is written there just after the 250).
      void stored.persisted.then(() => routeSoon(stored));
      return messageId;
    },

    route,

    /**
     * A clean stop (after the receiver closed): routing finishes what it has (up to waitMs), the
     * journal's open segment is closed, the worker stops. Whatever is left is routed at the next start.
     */
    async stop(waitMs = 10_000): Promise<void> {
      const until = Date.now() + waitMs;
      await Promise.race([storeInbound.drained(), new Promise((r) => setTimeout(r, waitMs).unref())]);
      while ((backlog.length || pumping) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      journal.close();
      // Its files stay if something in them is not in the database yet (replayed at the next start).
      spool?.close();
      spool = null;
      await worker.stop();
    },

    /**
     * Receives through a spool in this directory (see spool.ts): first writes to the database what a
     * process that died left in it, and routes it. Returns how many messages that was. Without a spool
     * (or when another live process holds the directory) messages are stored straight to the database.
     */
    async useSpool(dir: string): Promise<number> {
      const opened = openSpool({ dir, logger });
      if (!opened) return 0;
      const { leftovers } = opened;
      for (let i = 0; i < leftovers.length; i += 100) await journal.write(leftovers.slice(i, i + 100));
      opened.discardLeftovers();
      // Routing reads them back from the journal (leftovers may be many; memory holds only keys).
      for (const record of leftovers) routeSoon({ key: record._id });
      if (leftovers.length) logger.info({ messages: leftovers.length, dir }, 'messages accepted before a restart were replayed from the mail spool');
      spool = opened;
      return leftovers.length;
    },

    /** Messages this process accepted and has not routed yet. */
    unrouted(): number {
      return journal.outstanding() + storeInbound.unpersisted();
    },

    /**
     * Routes every message stored but not routed by a process that died (at start, then every few
     * minutes): reads the journal segments it left, never the messages collection.
     */
    async recover(): Promise<number> {
      let recovered = 0;
      const routeBatch = (batch: RouteItem[]) =>
        routeMany(batch).catch(async (err) => {
          logger.error({ err, messages: batch.length }, 'recovery routing of a batch failed; routing one by one');
          for (const item of batch) await routeMany([item]).catch((e) => logger.error({ err: e, message: item.key }, 'recovery routing failed'));
        });
      for (const segment of await journal.foreign()) {
        let batch: RouteItem[] = [];
        for await (const entry of journal.entries(segment.name)) {
          if (routing.has(entry._id)) continue;
          batch.push(carriesMessage(entry) ? { key: entry._id, record: entry, inJournalOnly: true } : { key: entry._id });
          if (batch.length < ROUTE_BATCH) continue;
          await routeBatch(batch);
          recovered += batch.length;
          batch = [];
        }
        if (batch.length) await routeBatch(batch);
        recovered += batch.length;
        await journal.dropIfAbandoned(segment.name, segment.ageMs, ABANDONED_MS);
      }
      return recovered;
    },

    /** Re-checks a tenant's queued and held mail against its current pausing events (hold, then release). */
    release: reconcile,
    /**
     * An event was created, edited, started or ended: queued mail of recipients a pausing event now
     * covers is held; held mail no longer covered is released.
     */
    onEventChange(event: Pick<EventRecord, 'tenantId'>): void {
      forget(`e:${event.tenantId}`);
      void reconcile(event.tenantId);
    },

    async getSettings(tenantId: string) {
      return settingsOf(tenantId);
    },

    async putSettings(by: AdminIdentity, input: { primaryServers: ServerAddress[]; relay: ServerAddress | null; retentionDays?: number }, context: Context) {
      const before = await settingsOf(by.tenantId);
      const after = { primaryServers: input.primaryServers, relay: input.relay, retentionDays: input.retentionDays ?? DEFAULT_RETENTION_DAYS };
      await models.settings.replaceOne({ _id: by.tenantId }, { _id: by.tenantId, ...after, updatedAt: now() }, { upsert: true });
      await audit.record({
        tenantId: by.tenantId,
        category: 'mail',
        action: 'mail.settings.updated',
        actor: adminActor(by),
        target: { type: 'mailSettings', id: by.tenantId, label: 'Mail settings' },
        before,
        after,
        ...context,
      });
      return after;
    },

    /** Queue, held and release figures for admins (scans: admin pages only). */
    async status(tenantId: string) {
      const [queued, deferred, held, delivered, failed, release] = await Promise.all([
        models.queue.countDocuments({ tenantId }),
        models.queue.countDocuments({ tenantId, 'attempts.0': { $exists: true } }),
        models.held.countDocuments({ tenantId }),
        models.results.countDocuments({ tenantId, state: 'delivered' }),
        models.results.countDocuments({ tenantId, state: 'failed' }),
        models.releases.findById(tenantId).lean(),
      ]);
      return {
        queued,
        /** Of the queued: tried at least once and waiting for a retry. */
        deferred,
        held,
        delivered,
        failed,
        release: release
          ? {
              state: release.state,
              startedAt: release.startedAt.toISOString(),
              finishedAt: release.finishedAt?.toISOString() ?? null,
              total: release.total,
              released: release.released,
              stillHeld: release.stillHeld,
            }
          : null,
      };
    },

    /**
     * Mail figures of one event for its post-incident report (scans: admin pages only): mailbox
     * copies received and messages sent by the covered users in the window, mail the event held
     * and how much of it has been released.
     */
    async eventFigures(tenantId: string, eventId: string, window: { from: Date; to: Date }, userIds: string[]) {
      const inWindow = { $gte: window.from, $lt: window.to };
      const users = { $in: userIds };
      const [received, sent, stillHeld, released] = await Promise.all([
        models.mailbox.countDocuments({ tenantId, folder: 'inbox', userId: users, receivedAt: inWindow }),
        models.mailbox.countDocuments({ tenantId, folder: 'sent', userId: users, receivedAt: inWindow }),
        models.held.countDocuments({ tenantId, eventIds: eventId }),
        models.releasedHeld.countDocuments({ tenantId, eventIds: eventId }),
      ]);
      return { received, sent, held: stillHeld + released, released, stillHeld };
    },

    /** Newest first. During an event the inbox shows everything since the (earliest) event's start. */
    async list(user: UserIdentity, folder: 'inbox' | 'sent', cursor: string | undefined) {
      let since: number | undefined;
      if (folder === 'inbox') {
        // Cached like routing's look-ups (dropped when the directory changes): no directory scan per page.
        const groups = new Set([user.userId, ...(await groupsOf(user.tenantId, user.userId))]);
        const mine = (await currentEvents(user.tenantId)).filter((e) => groups.has(e.affectedGroupId));
        if (mine.length) since = Math.min(...mine.map((e) => e.start.getTime()));
      }
      const rows = await mailboxIndex.page(user, folder, { after: rowCursor(cursor), since, limit: PAGE });
      return pageOf(rows.map((r) => ({ ...r, folder })));
    },

    /** Makes the tenant's list and search index equal to its mailbox entries again (repair; see mailbox-index.ts). */
    reindex: (tenantId: string) => mailboxIndex.reindexTenant(tenantId),

    /** Sender, recipients, subject and body text of both folders; every word must match (case-insensitive). */
    async search(user: UserIdentity, query: string, cursor: string | undefined) {
      const terms = [...new Set(query.toLowerCase().split(/\s+/).filter(Boolean))].slice(0, 8);
      const rows = await mailboxIndex.search(user, terms, { after: rowCursor(cursor), limit: PAGE });
      return pageOf(rows);
    },

    async read(user: UserIdentity, id: string) {
      const entry = await entryFor(user, id);
      const parsed = await parsedOf(entry);
      const html = parsed.html ? sanitizeHtml(parsed.html, SAFE_HTML) : null;
      return {
        ...view(entry),
        html,
        text: parsed.text ?? '',
        attachments: parsed.attachments.map((a, index) => ({
          index,
          filename: a.filename ?? `attachment-${index + 1}`,
          contentType: a.contentType,
          size: a.size,
        })),
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
      input: {
        to: string[];
        cc: string[];
        bcc: string[];
        subject: string;
        html: string;
        attachments: { filename: string; contentType: string; contentBase64: string }[];
        idempotencyKey?: string;
        inReplyTo?: string;
      },
    ) {
      if (!user.email) throw unprocessable([{ path: '(user)', message: 'your directory entry has no mail address to send from' }]);
      const thread = input.inReplyTo ? await threadOf(user, input.inReplyTo) : {};
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
          ...thread,
          attachments: input.attachments.map((a) => ({
            filename: cleanHeader(a.filename),
            contentType: cleanHeader(a.contentType),
            content: Buffer.from(a.contentBase64, 'base64'),
          })),
          disableFileAccess: true,
          disableUrlAccess: true,
        })
          .compile()
          .build();
        const all = [...new Set([...input.to, ...input.cc, ...input.bcc].map((a) => a.toLowerCase()))];
        await storeMessage(
          models,
          {
            tenantId: user.tenantId,
            messageId,
            direction: 'outbound',
            mailFrom: user.email,
            recipients: all.map((address) => ({ address, kind: 'user', id: '' })),
            raw,
            userId: user.userId,
            receivedAt: now(),
          },
          journal,
        );
      }
      await route(key);
      return this.read(user, `sent:${messageId}`);
    },

    /**
     * Removes mailbox copies, messages (with their chunks) and delivery results older than each
     * tenant's retention (messages still queued or held are kept), and the chunks of large messages
     * whose message document never committed (a crash before the 250) once the grace period is over.
     * Each removal is one filtered deleteMany (one scan) rather than a delete per document.
     */
    async sweep(): Promise<{ entries: number; messages: number; orphans: number }> {
      let entries = 0;
      let messages = 0;
      let orphans = 0;
      const uploads = await models.uploads.find({ createdAt: { $lt: new Date(now().getTime() - orphanGraceMs) } }).lean();
      if (uploads.length) {
        const orphaned: string[] = [];
        for (const u of uploads) if (!(await models.messages.findById(u._id, { _id: 1 }).lean())) orphaned.push(u._id);
        for (let i = 0; i < orphaned.length; i += 100) await models.chunks.deleteMany({ messageKey: { $in: orphaned.slice(i, i + 100) } });
        for (let i = 0; i < uploads.length; i += 100) await models.uploads.deleteMany({ _id: { $in: uploads.slice(i, i + 100).map((u) => u._id) } });
        orphans = orphaned.length;
        if (orphans) logger.info({ orphans }, 'removed chunks of messages whose storing never completed');
      }
      for (const tenant of await tenants.list()) {
        const { retentionDays } = await settingsOf(tenant.id);
        const cutoff = new Date(now().getTime() - retentionDays * 24 * 3600_000);
        const removed = (await models.mailbox.deleteMany({ tenantId: tenant.id, receivedAt: { $lt: cutoff } })).deletedCount;
        entries += removed;
        if (removed) await mailboxIndex.reindexTenant(tenant.id);
        await models.results.deleteMany({ tenantId: tenant.id, finishedAt: { $lt: cutoff } });
        const busy = [
          ...(await models.queue.find({ tenantId: tenant.id }, { messageKey: 1 }).lean()).map((r) => r.messageKey),
          ...(await models.held.find({ tenantId: tenant.id }, { messageKey: 1 }).lean()).map((r) => r.messageKey),
        ];
        // Chunks first: a crash in between leaves a message document that the next pass removes.
        await models.chunks.deleteMany({ tenantId: tenant.id, createdAt: { $lt: cutoff }, messageKey: { $nin: busy } });
        messages += (await models.messages.deleteMany({ tenantId: tenant.id, receivedAt: { $lt: cutoff }, _id: { $nin: busy } })).deletedCount;
      }
      if (entries || messages) logger.info({ entries, messages }, 'mail past retention removed');
      return { entries, messages, orphans };
    },
  };
}
export type MailService = ReturnType<typeof createMailService>;
