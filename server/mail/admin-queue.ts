/**
 * The admins' view of mail not yet delivered: what is queued, deferred, held and failed (recipient,
 * sender, subject, attempts, last SMTP reply, next attempt) with filters, "retry now" for a queued
 * row and "release" for one held row (audited). It reads the queue, held and result collections and
 * moves one row at a time; it never delivers (the worker does) and never reads message bodies.
 */
import { simpleParser } from 'mailparser';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import { conflict, notFound } from '../http/problem';
import type { DeliveryRecord, DeliveryResultRecord, HeldRecord, MailModels } from './model';
import { readRaw } from './store';
import { claimByInsert } from '../db/claims';

export const QUEUE_STATES = ['queued', 'deferred', 'held', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

export interface QueueFilter {
  state?: QueueState;
  /** Substring of the recipient or sender address (case-insensitive). */
  recipient?: string;
  sender?: string;
  limit?: number;
}

export interface QueueItem {
  id: string;
  state: QueueState;
  kind: string;
  recipient: string;
  sender: string;
  subject: string;
  attempts: number;
  lastReply: string | null;
  nextAttemptAt: string | null;
  queuedAt: string;
  heldAt: string | null;
  finishedAt: string | null;
}

interface Context {
  ip: string | null;
  requestId: string | null;
}

const HEADER_BYTES = 16 * 1024;
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createMailQueueAdmin(deps: { models: MailModels; audit: AuditService; now: () => Date; wake: () => void }) {
  const { models, audit, now } = deps;

  /** The subject as the continuity mailbox stored it, else from the message's own header block. */
  async function subjectOf(messageKey: string): Promise<string> {
    const copy = await models.mailbox.findOne({ messageKey }).select({ subject: 1 }).lean();
    if (copy) return copy.subject;
    const message = await models.messages.findById(messageKey).lean();
    if (!message) return '';
    try {
      const raw = await readRaw(models, message);
      const end = raw.indexOf('\r\n\r\n');
      const head = raw.subarray(0, end > 0 ? Math.min(end + 4, HEADER_BYTES) : HEADER_BYTES);
      return (await simpleParser(head, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true })).subject ?? '';
    } catch {
      return '';
    }
  }

  const match = (filter: QueueFilter) => {
    const out: Record<string, unknown> = {};
    if (filter.recipient) out.recipient = { $regex: escapeRegex(filter.recipient.toLowerCase()), $options: 'i' };
    if (filter.sender) out.mailFrom = { $regex: escapeRegex(filter.sender), $options: 'i' };
    return out;
  };

  async function view(state: QueueState, r: DeliveryRecord | HeldRecord | DeliveryResultRecord, sender: string): Promise<QueueItem> {
    const attempts = 'attempts' in r ? r.attempts : [];
    const last = attempts[attempts.length - 1];
    return {
      id: r._id,
      state,
      kind: r.kind,
      recipient: r.recipient,
      sender,
      subject: await subjectOf(r.messageKey),
      attempts: attempts.length,
      lastReply: last?.reply ?? null,
      nextAttemptAt: 'nextAttemptAt' in r ? r.nextAttemptAt.toISOString() : null,
      queuedAt: 'queuedAt' in r ? r.queuedAt.toISOString() : r.finishedAt.toISOString(),
      heldAt: 'heldAt' in r ? r.heldAt.toISOString() : null,
      finishedAt: 'finishedAt' in r ? r.finishedAt.toISOString() : null,
    };
  }

  async function auditAction(by: AdminIdentity, action: string, item: { _id: string; recipient: string }, context: Context, after: Record<string, unknown>) {
    await audit.record({
      tenantId: by.tenantId,
      category: 'mail',
      action,
      actor: adminActor(by),
      target: { type: 'delivery', id: item._id, label: item.recipient },
      after,
      ...context,
    });
  }

  return {
    /** Newest first within each state; without a state, every state (queued, deferred, held, failed). */
    async list(tenantId: string, filter: QueueFilter): Promise<QueueItem[]> {
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 500);
      const states = filter.state ? [filter.state] : QUEUE_STATES;
      const items: QueueItem[] = [];
      for (const state of states) {
        const base = { tenantId, ...match(filter) };
        if (state === 'queued' || state === 'deferred') {
          const tried = state === 'deferred' ? { 'attempts.0': { $exists: true } } : { 'attempts.0': { $exists: false } };
          const rows = await models.queue
            .find({ ...base, ...tried })
            .sort({ queuedAt: -1 })
            .limit(limit)
            .lean<DeliveryRecord[]>();
          for (const r of rows) items.push(await view(state, r, r.mailFrom));
        } else if (state === 'held') {
          const rows = await models.held.find(base).sort({ heldAt: -1 }).limit(limit).lean<HeldRecord[]>();
          for (const r of rows) items.push(await view(state, r, r.mailFrom));
        } else {
          const { mailFrom: senderFilter, ...rest } = base as Record<string, unknown>;
          const rows = await models.results
            .find({ ...rest, state: 'failed' })
            .sort({ finishedAt: -1 })
            .limit(limit)
            .lean<DeliveryResultRecord[]>();
          for (const r of rows) {
            // Results do not keep the sender; it comes from the stored message.
            const message = await models.messages.findById(r.messageKey).select({ mailFrom: 1 }).lean();
            const sender = message?.mailFrom ?? '';
            if (senderFilter && !new RegExp(escapeRegex(filter.sender!), 'i').test(sender)) continue;
            items.push(await view(state, r, sender));
          }
        }
      }
      return items.slice(0, limit);
    },

    /** A queued or deferred row is attempted at once (the worker is woken). */
    async retryNow(by: AdminIdentity, id: string, context: Context): Promise<void> {
      const row = await models.queue.findById(id).lean<DeliveryRecord>();
      if (!row || row.tenantId !== by.tenantId) {
        if (await models.held.exists({ _id: id, tenantId: by.tenantId })) throw conflict('This message is held; release it instead.');
        throw notFound('queued message');
      }
      await models.queue.updateOne({ _id: id }, { $set: { nextAttemptAt: now() } });
      await auditAction(by, 'mail.retryNow', row, context, { attempts: row.attempts.length });
      deps.wake();
    },

    /**
     * One held message goes to the queue now, even while its pausing event still covers the recipient
     * (releasedBy keeps the hold checks from taking it back).
     */
    async releaseOne(by: AdminIdentity, id: string, context: Context): Promise<void> {
      const row = await models.held.findById(id).lean<HeldRecord>();
      if (!row || row.tenantId !== by.tenantId) throw notFound('held message');
      const { heldAt, eventIds, ...rest } = row;
      // Released once: a second click (or process) finds the queue row already there.
      await claimByInsert(models.queue, { ...rest, nextAttemptAt: now(), attempts: [], releasedBy: by.email });
      await models.releasedHeld.create({ _id: row._id, tenantId: row.tenantId, eventIds, heldAt, releasedAt: now() }).catch(() => {});
      await models.held.deleteOne({ _id: row._id, tenantId: by.tenantId });
      await auditAction(by, 'mail.heldReleased', row, context, { eventIds, heldAt: heldAt.toISOString() });
      deps.wake();
    },
  };
}
export type MailQueueAdmin = ReturnType<typeof createMailQueueAdmin>;
