/**
 * Routing of stored messages: each inbound message is first judged by protection (protect.ts: one
 * verdict per message; per recipient deliver, tag, quarantine or hold for the scanner), then placed:
 * the mailbox copies (the recipient's, and "via <group>" copies for members of a distribution list an
 * expanding event covers) with their rows in the mailbox index, and onward delivery, queued or held
 * when a pausing event covers the recipient. Runs after the 250, in the background, in batches;
 * recovery routes (and so judges) what a process that died left in its routing journal (journal.ts),
 * and the scan-hold pass places recipients that waited for the scanner.
 */
import type { ParsedMail } from 'mailparser';
import type { Logger } from 'pino';
import { insertIgnoringDuplicates } from '../db/claims';
import type { DeliveryWorker } from './delivery';
import { carriesMessage, type RoutingJournal } from './journal';
import type { MailLookups } from './lookups';
import { plainText, type MailboxIndex } from './mailbox-index';
import { deliveryKey, mailboxEntry, parseForMailbox, summary } from './message';
import type { DeliveryRecord, HeldRecord, MailboxEntryRecord, MailMessageRecord, MailModels, ScanHoldRecord } from './model';
import { judgeInbound, SCAN_HOLD_RETRY_MS, taggedRaw, taggedSubject, type InboundProtection, type Judged } from './protect';
import { createRoutePump } from './route-pump';
import { MissingContentError, readRaw, storeMessage } from './store';

/** A message or marker this old whose storing never completed was surely abandoned (no 250 was given). */
export const ABANDONED_MS = 10 * 60_000;
/** Messages routed together (one insertMany each of mailbox copies, queue rows and held rows). */
const ROUTE_BATCH = 50;
/** While the receiver is busy, a routing batch waits at most this long for a pause... */
const ROUTE_YIELD_MS = 5_000;
/** ...unless this many messages wait to be routed. */
const ROUTE_FORCE_BACKLOG = 2_000;
/** Batches routed at once when no burst is coming in (see route-pump.ts). */
const ROUTE_IN_FLIGHT = 3;
/** Raw messages kept in memory for routing (beyond this, routing reads them back from the database). */
export const ROUTE_MEMORY_BYTES = 64 * 1024 * 1024;

export interface RouteItem {
  key: string;
  /** What the receiver just stored, or the journal entry read in recovery (saves reading it back). */
  record?: MailMessageRecord;
  raw?: Buffer;
  /** The record is only in the routing journal yet: copy it to the messages collection first. */
  inJournalOnly?: boolean;
  /** Just received by this process (so it has no verdict yet: judged without looking for one first). */
  fresh?: boolean;
  /** From the scan-hold pass: only these recipients are still to be placed; `final` when their hold ran out. */
  scanHold?: { recipients: string[]; final: boolean };
}

interface Routed {
  mailbox: MailboxEntryRecord[];
  /** Each routed message's body text (for the search index), by message key. */
  bodies: Map<string, string>;
  queue: DeliveryRecord[];
  held: HeldRecord[];
  /** Messages with recipients waiting for the scanner (new ones, and scan-hold rows still waiting). */
  scanHolds: ScanHoldRecord[];
  stillHeld: ScanHoldRecord[];
  /** Scan-hold rows whose recipients are all placed now. */
  holdsDone: string[];
}

export function createRouting(deps: {
  models: MailModels;
  journal: RoutingJournal;
  lookups: MailLookups;
  /** What users list and search: every mailbox copy written here is added to it too. */
  index: MailboxIndex;
  worker: DeliveryWorker;
  logger: Logger;
  now: () => Date;
  routeMemoryBytes: number;
  /** True while a burst of mail is coming in (routing then waits for a pause). */
  receiving: () => boolean;
  /** Protection's pipeline (bound after composition); null: inbound mail is placed unjudged. */
  protection: () => InboundProtection | null;
}) {
  const { models, journal, lookups, index, worker, logger, now, routeMemoryBytes, receiving } = deps;
  const routing = new Set<string>();

  /** The copy a tagged recipient's onward delivery sends: the marks added (stored once, beside the original). */
  async function storeTagged(msg: MailMessageRecord, raw: Buffer, judged: Judged): Promise<string> {
    return storeMessage(models, {
      tenantId: msg.tenantId,
      messageId: `${msg.messageId}.tagged`,
      direction: 'inbound',
      mailFrom: msg.mailFrom,
      recipients: msg.recipients,
      raw: taggedRaw(raw, judged.marks),
      remoteAddress: msg.remoteAddress,
      helo: msg.helo ?? null,
      receivedAt: msg.receivedAt,
    });
  }

  /**
   * The documents routing writes for one message (deterministic _ids: writing them again is harmless).
   * Inbound: only the recipients protection lets through now (`judged`; null = not judged); returns the
   * recipients held for the scanner.
   */
  async function plan(
    msg: MailMessageRecord,
    raw: Buffer,
    out: Routed,
    judged: Judged | null,
    only?: string[],
    parsing?: Promise<ParsedMail>,
  ): Promise<string[]> {
    const key = msg._id;
    const parsed = await (parsing ?? parseForMailbox(raw));
    const s = summary(parsed);
    out.bodies.set(key, plainText(parsed));
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
      return [];
    }
    const current = await lookups.currentEvents(msg.tenantId);
    const pausing = current.filter((e) => e.pauseInboundDelivery);
    const expanding = current.filter((e) => e.expandDistributionLists);
    const wanted = only && new Set(only.map((a) => a.toLowerCase()));
    const heldForScanner: string[] = [];
    let tagged: string | null = null;
    for (const r of msg.recipients) {
      if (wanted && !wanted.has(r.address.toLowerCase())) continue;
      const decided = judged?.placements.get(r.address.toLowerCase());
      const action = decided?.placement.action ?? 'deliver';
      if (action === 'quarantine') continue; // held in the quarantine: no copy, no onward delivery
      if (action === 'hold') {
        heldForScanner.push(r.address);
        continue;
      }
      const security = decided?.security ?? null;
      const shown = action === 'tag' ? { ...s, subject: taggedSubject(s.subject, judged!.marks.subjectPrefix) } : s;
      const copy = (userId: string, via: string | null) => ({ ...mailboxEntry(msg, userId, 'inbox', shown, via), security });
      if (r.kind === 'user') out.mailbox.push(copy(r.id, null));
      if (r.kind === 'group' && expanding.length) {
        const group = await lookups.group(msg.tenantId, r.id);
        const via = group ? `${group.displayName} <${r.address}>` : r.address;
        for (const member of await lookups.membersOf(msg.tenantId, r.id)) {
          const memberGroups = new Set(await lookups.groupsOf(msg.tenantId, member));
          if (expanding.some((e) => memberGroups.has(e.affectedGroupId))) out.mailbox.push(copy(member, via));
        }
      }
      if (action === 'tag') tagged ??= await storeTagged(msg, raw, judged!);
      const row = {
        _id: deliveryKey(key, r.address),
        tenantId: msg.tenantId,
        messageKey: action === 'tag' ? tagged! : key,
        kind: 'inbound' as const,
        mailFrom: msg.mailFrom,
        recipient: r.address,
        recipientId: r.id,
        queuedAt: msg.receivedAt,
      };
      const holding = await lookups.holdingEvents(msg.tenantId, r.id, pausing);
      if (holding.length) out.held.push({ ...row, heldAt: now(), eventIds: holding });
      else out.queue.push({ ...row, nextAttemptAt: msg.receivedAt, attempts: [] });
    }
    return heldForScanner;
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
  const routedListeners: Array<(keys: string[]) => void> = [];
  async function routeMany(items: RouteItem[]): Promise<void> {
    const out: Routed = { mailbox: [], bodies: new Map(), queue: [], held: [], scanHolds: [], stillHeld: [], holdsDone: [] };
    const copies: MailMessageRecord[] = [];
    const done: string[] = [];
    const ready: { item: RouteItem; msg: MailMessageRecord; raw: Buffer }[] = [];
    for (const item of items) {
      const found = item.record ? { record: item.record, inJournalOnly: item.inJournalOnly ?? false } : await findStored(item.key);
      const msg = found?.record;
      if (!msg) {
        // A marker whose message never committed (no 250 was given), or one still being written by
        // another process (which routes it itself); or a scan-hold whose message is gone (retention).
        done.push(item.key);
        if (item.scanHold) out.holdsDone.push(item.key);
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
        if (item.scanHold) out.holdsDone.push(item.key);
        continue;
      }
      if (found.inJournalOnly) copies.push(msg);
      ready.push({ item, msg, raw });
    }
    // Judged before anything is placed (and before the journal lets go: a crash re-judges, and the
    // verdict is claimed once). The messages of a batch are judged side by side.
    // Parsed (for the summaries and search text) while the engines judge: it fills their waits.
    const parsing = ready.map(({ raw }) => parseForMailbox(raw));
    for (const p of parsing) p.catch(() => {});
    const protection = deps.protection();
    const toJudge = protection
      ? ready.flatMap(({ item, msg, raw }, i) => {
          if (msg.direction !== 'inbound') return [];
          const recipients = item.scanHold ? msg.recipients.filter((r) => item.scanHold!.recipients.includes(r.address)) : msg.recipients;
          return recipients.length ? [{ i, msg, raw, recipients, final: item.scanHold?.final ?? false, fresh: item.fresh ?? false }] : [];
        })
      : [];
    const judged = new Array<Judged | null>(ready.length).fill(null);
    if (protection && toJudge.length) (await judgeInbound(protection, toJudge, now())).forEach((j, n) => (judged[toJudge[n]!.i] = j));
    for (const [i, { item, msg, raw }] of ready.entries()) {
      const judgement = judged[i] ?? null;
      const waiting = await plan(msg, raw, out, judgement, item.scanHold?.recipients, parsing[i]);
      if (waiting.length) {
        const row = {
          _id: msg._id,
          tenantId: msg.tenantId,
          recipients: waiting,
          until: judgement?.holdUntil ?? now(),
          nextAt: new Date(now().getTime() + SCAN_HOLD_RETRY_MS),
        };
        (item.scanHold ? out.stillHeld : out.scanHolds).push(row);
      } else if (item.scanHold) out.holdsDone.push(msg._id);
      done.push(item.key);
    }
    // The messages first: the mailbox entries and delivery rows point to them.
    await insertIgnoringDuplicates(models.messages, copies);
    await Promise.all([
      insertIgnoringDuplicates(models.mailbox, out.mailbox),
      insertIgnoringDuplicates(models.queue, out.queue),
      insertIgnoringDuplicates(models.held, out.held),
      insertIgnoringDuplicates(models.scanHolds, out.scanHolds),
    ]);
    // Before the journal lets go: a crash here routes again, and adding to the index is idempotent.
    await index.add(out.mailbox.map((entry) => ({ entry, body: out.bodies.get(entry.messageKey) ?? '' })));
    for (const row of out.stillHeld) await models.scanHolds.updateOne({ _id: row._id }, { $set: { recipients: row.recipients, nextAt: row.nextAt } });
    if (out.holdsDone.length) await models.scanHolds.deleteMany({ _id: { $in: out.holdsDone } });
    if (out.scanHolds.length) logger.info({ messages: out.scanHolds.length }, 'mail held for the scanner (an engine is down); judged again shortly');
    journal.done(done);
    for (const listener of routedListeners) listener(done);
    if (out.queue.length) worker.wake();
  }

  const pump = createRoutePump<RouteItem>({
    batchSize: ROUTE_BATCH,
    inFlight: ROUTE_IN_FLIGHT,
    yieldMs: ROUTE_YIELD_MS,
    forceBacklog: ROUTE_FORCE_BACKLOG,
    sizeOf: (item) => item.raw?.length ?? 0,
    receiving,
    route: (batch) => routeMany(batch).catch((err) => logger.error({ err, messages: batch.length }, 'routing failed; it is retried at the next recovery pass')),
    settled: (batch) => {
      for (const item of batch) routing.delete(item.key);
    },
  });

  return {
    /** Called with the keys of each routed batch once they are placed (measurement: bench:protect's latency). */
    onRouted(listener: (keys: string[]) => void): void {
      routedListeners.push(listener);
    },

    /** Routes one stored message now (the user's own sends: their Sent copy is there when the call returns). */
    route: (key: string) => routeMany([{ key }]),

    /** Queues a stored message for background routing (raw kept in memory up to routeMemoryBytes). */
    routeSoon(item: RouteItem): void {
      if (routing.has(item.key)) return;
      routing.add(item.key);
      pump.push(pump.bytes() + (item.raw?.length ?? 0) > routeMemoryBytes ? { key: item.key } : item);
    },

    /**
     * Judges again the messages held for the scanner whose next look is due, and places the recipients
     * whose verdict is now known (or whose hold ran out: delivered tagged `unscanned`). Several
     * processes may run it at once: judging and placing are idempotent. Returns how many were due.
     */
    async rejudgeHeld(): Promise<number> {
      const due = await models.scanHolds
        .find({ nextAt: { $lte: now() } })
        .sort({ nextAt: 1 })
        .limit(200)
        .lean<ScanHoldRecord[]>();
      for (let i = 0; i < due.length; i += ROUTE_BATCH) {
        const batch = due.slice(i, i + ROUTE_BATCH).filter((h) => !routing.has(h._id));
        await routeMany(batch.map((h) => ({ key: h._id, scanHold: { recipients: h.recipients, final: now() >= h.until } })));
      }
      return due.length;
    },

    /** True while messages wait to be routed or a batch is being routed. */
    busy: () => pump.busy(),

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
  };
}
export type MailRouting = ReturnType<typeof createRouting>;
