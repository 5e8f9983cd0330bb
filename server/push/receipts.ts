/**
 * Banner receipts: a task pane that shows an active continuity event acknowledges it
 * (`continuity:seen` over the socket, or `POST /api/me/status/seen`), and the first acknowledgement
 * per tenant + event + user is recorded. The post-incident report counts them ("users whose pane
 * received the start banner").
 *
 * Who acknowledges comes only from the verified token; the event ids of the payload count only if
 * the status service says those events cover that user now (anything else is ignored, silently).
 *
 * Receipts are best-effort. Acknowledgements are queued in memory and written every `flushMs`
 * (insertMany, at most 100 per batch, duplicates ignored), so 10,000 panes acknowledging at once
 * cost a hundred inserts, not ten thousand round trips. A receipt can be lost (the process stops
 * before a flush, the database is briefly down, the queue overflows): the report then counts one
 * user too few; no continuity behaviour depends on it. The pane acknowledges again on its next
 * mount, so a lost receipt is usually recorded later.
 */
import { insertIgnoringDuplicates } from '../db/claims';
import type { Logger } from 'pino';
import { CLIENT_KINDS } from '../clients/model';
import type { UserIdentity } from '../user-auth/identity';
import type { BannerReceiptModel, BannerReceiptRecord } from './model';
import type { StatusService } from './status';

export const RECEIPT_BATCH = 100;
export const RECEIPT_FLUSH_MS = 250;
/** Beyond this many queued receipts new ones are dropped (best-effort; see above). */
export const RECEIPT_QUEUE_MAX = 50_000;
/** Receipts this process already wrote or queued are not checked or queued again (bounded memory). */
const SEEN_MAX = 200_000;

export interface SeenPayload {
  seq?: unknown;
  eventIds?: unknown;
  client?: unknown;
}

export const receiptId = (tenantId: string, eventId: string, userId: string) => `${tenantId}:${eventId}:${userId}`;

export function createReceiptService(deps: { receipts: BannerReceiptModel; status: StatusService; logger?: Logger; now?: () => Date; flushMs?: number }) {
  const { receipts, status } = deps;
  const now = deps.now ?? (() => new Date());
  const flushMs = deps.flushMs ?? RECEIPT_FLUSH_MS;
  const log = deps.logger?.child({ component: 'receipts' });
  let queue: BannerReceiptRecord[] = [];
  const seen = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();
  let dropped = 0;

  async function write(batch: BannerReceiptRecord[]): Promise<void> {
    for (let i = 0; i < batch.length; i += RECEIPT_BATCH) {
      const part = batch.slice(i, i + RECEIPT_BATCH);
      try {
        await insertIgnoringDuplicates(receipts, part);
      } catch (err) {
        // Best-effort: forget them so a later acknowledgement can try again.
        for (const r of part) seen.delete(r._id);
        log?.warn({ err, receipts: part.length }, 'banner receipts not recorded');
      }
    }
  }

  function flushNow(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = queue;
    queue = [];
    flushing = flushing.then(() => (batch.length ? write(batch) : undefined));
    return flushing;
  }

  function schedule(): void {
    if (timer) return;
    timer = setTimeout(() => void flushNow(), flushMs);
    timer.unref();
  }

  return {
    /**
     * A pane says it shows `eventIds` as active. Returns the event ids accepted (covering this user
     * now); they are written within `flushMs`.
     */
    async acknowledge(user: UserIdentity, payload: SeenPayload, via: 'socket' | 'rest'): Promise<string[]> {
      const ids = Array.isArray(payload?.eventIds)
        ? payload.eventIds.filter((id): id is string => typeof id === 'string' && id.length > 0 && id.length <= 64).slice(0, 20)
        : [];
      if (!ids.length) return [];
      const fresh = ids.filter((id) => !seen.has(receiptId(user.tenantId, id, user.userId)));
      if (!fresh.length) return ids.filter((id) => seen.has(receiptId(user.tenantId, id, user.userId)));
      const current = await status.forUser(user.tenantId, user.userId);
      if (!current.active) return [];
      const covering = new Set(current.events.map((e) => e.id));
      const accepted = fresh.filter((id) => covering.has(id));
      const client = typeof payload.client === 'string' && (CLIENT_KINDS as readonly string[]).includes(payload.client) ? payload.client : null;
      const seq = typeof payload.seq === 'number' && Number.isFinite(payload.seq) ? payload.seq : current.seq;
      const at = now();
      for (const eventId of accepted) {
        const _id = receiptId(user.tenantId, eventId, user.userId);
        if (seen.has(_id)) continue;
        if (queue.length >= RECEIPT_QUEUE_MAX) {
          if (dropped++ % 1000 === 0) log?.warn({ dropped }, 'banner receipt queue full; receipts dropped');
          break;
        }
        if (seen.size >= SEEN_MAX) seen.clear();
        seen.add(_id);
        queue.push({ _id, tenantId: user.tenantId, eventId, userId: user.userId, client, via, seq, at });
      }
      if (queue.length) schedule();
      return accepted;
    },

    /** Writes what is queued now (the report calls it so a fresh receipt is counted; shutdown too). */
    flush: flushNow,

    /** How many users' panes showed the event active (first receipts recorded). */
    async count(tenantId: string, eventId: string): Promise<number> {
      await flushNow();
      return receipts.countDocuments({ tenantId, eventId });
    },

    stop(): Promise<void> {
      return flushNow();
    },
  };
}
export type ReceiptService = ReturnType<typeof createReceiptService>;
