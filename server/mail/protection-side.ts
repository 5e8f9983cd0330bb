/**
 * The mail side of protection's interface (server/protection/mail-side.ts): the stored raw message by
 * id, and delivery of a released copy: the recipient's mailbox copy and the onward delivery, placed at
 * most once per release id (a claim by insert; the copy and the queue row have deterministic ids, so a
 * retry after a crash half-way places nothing twice, and the worker never sends a row that has a result).
 */
import { claimByInsert, insertIgnoringDuplicates } from '../db/claims';
import type { MailSide, ReleasedCopy } from '../protection/mail-side';
import type { DeliveryWorker } from './delivery';
import { plainText, type MailboxIndex } from './mailbox-index';
import { deliveryKey, mailboxEntry, parseForMailbox, summary } from './message';
import type { MailMessageRecord, MailModels, ReleasedCopyRecord } from './model';
import { messageKey, MissingContentError, readRaw } from './store';

export interface ReleaseDeps {
  models: MailModels;
  index: MailboxIndex;
  worker: DeliveryWorker;
  now: () => Date;
}

export function createMailProtectionSide(deps: ReleaseDeps, deliverReleased?: (copy: ReleasedCopy) => Promise<void>): MailSide {
  const { models, index, worker, now } = deps;

  async function place(copy: ReleasedCopy, msg: MailMessageRecord): Promise<void> {
    const raw = await readRaw(models, msg);
    const recipient = msg.recipients.find((r) => r.address.toLowerCase() === copy.recipient.toLowerCase());
    if (copy.userId) {
      const parsed = await parseForMailbox(raw);
      const entry = {
        ...mailboxEntry(msg, copy.userId, 'inbox', summary(parsed), null),
        security: {
          verdict: copy.rescan.verdict,
          action: 'deliver',
          policyId: null,
          auth: copy.rescan.evidence.auth
            ? {
                spf: copy.rescan.evidence.auth.spf,
                dkim: copy.rescan.evidence.auth.dkim,
                dmarc: copy.rescan.evidence.auth.dmarc,
                arc: copy.rescan.evidence.auth.arc,
              }
            : null,
          score: copy.rescan.evidence.rspamd?.score ?? null,
          reasons: copy.rescan.reasons,
          releasedBy: copy.releasedBy,
        },
      };
      await insertIgnoringDuplicates(models.mailbox, [entry]);
      await index.add([{ entry, body: plainText(parsed) }]);
    }
    const at = now();
    await insertIgnoringDuplicates(models.queue, [
      {
        _id: deliveryKey(msg._id, copy.recipient),
        tenantId: msg.tenantId,
        messageKey: msg._id,
        kind: 'inbound',
        mailFrom: msg.mailFrom,
        recipient: copy.recipient.toLowerCase(),
        recipientId: recipient?.id ?? copy.userId,
        queuedAt: at,
        nextAttemptAt: at,
        attempts: [],
      },
    ]);
    worker.wake();
  }

  return {
    async readRaw(tenantId, messageId) {
      const message = await models.messages.findById(messageKey(tenantId, messageId), { _id: 1, chunks: 1, raw: 1 }).lean();
      if (!message) return null;
      try {
        return await readRaw(models, message);
      } catch (err) {
        if (err instanceof MissingContentError) return null;
        throw err;
      }
    },

    deliverReleased:
      deliverReleased ??
      (async (copy) => {
        const key = messageKey(copy.tenantId, copy.messageId);
        const claim = { _id: copy.releaseId, tenantId: copy.tenantId, messageKey: key, recipient: copy.recipient, state: 'placing' as const, at: now() };
        if (!(await claimByInsert(models.releasedCopies, claim))) {
          const existing = await models.releasedCopies.findById(copy.releaseId).lean<ReleasedCopyRecord>();
          // Placed already: nothing to do. Still "placing": a crash half-way (or a call racing this one);
          // placing again is harmless (deterministic ids).
          if (existing?.state === 'placed') return;
        }
        const msg = await models.messages.findById(key).lean<MailMessageRecord>();
        if (!msg) throw new Error('the message is no longer stored');
        await place(copy, msg);
        await models.releasedCopies.updateOne({ _id: copy.releaseId }, { $set: { state: 'placed' } });
      }),
  };
}
