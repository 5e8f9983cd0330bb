/**
 * What the delivery worker asks of mail continuity for a row: where to send it (the tenant's primary
 * servers or relay), how to bounce it to its sender (never backscatter: an inbound message is bounced
 * only to a sender its verdict authenticated), and whether a pausing event holds it now.
 */
import { createHash } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Logger } from 'pino';
import { claimByInsert } from '../db/claims';
import type { TenantService } from '../tenants/service';
import type { DeliveryTargets } from './delivery';
import type { DeliveryRecord } from './model';
import type { MailLookups } from './lookups';
import { cleanHeader, deliveryKey } from './message';
import type { MailModels } from './model';
import type { OutboundAuth } from './outbound-auth';
import type { InboundProtection } from './protect';
import type { MailSettings } from './settings';
import { readRaw, storeMessage } from './store';

export function createDeliveryTargets(deps: {
  models: MailModels;
  tenants: TenantService;
  settings: MailSettings;
  lookups: MailLookups;
  logger: Logger;
  hostname: string;
  now: () => Date;
  /** ARC-seals onward delivery to the primary servers (absent: delivered as received). */
  outbound?: OutboundAuth | null;
  /** The stored verdict of an inbound message (its sender authentication decides whether it may be bounced). */
  senderVerdict?: InboundProtection['verdictOf'];
}): DeliveryTargets {
  const { models, tenants, settings, lookups, logger, hostname, now } = deps;

  /**
   * No backscatter: the sender of an inbound message gets a bounce only when SPF passed for MAIL FROM or a
   * DKIM signature aligned with the From domain passed; a forged sender would otherwise receive the
   * attacker's text. A message without a verdict (its recipients' policy is Disabled) bounces as before.
   */
  async function mayBounce(row: DeliveryRecord): Promise<boolean> {
    if (row.kind !== 'inbound' || !deps.senderVerdict) return true;
    const original = await models.messages.findById(row.messageKey, { tenantId: 1, messageId: 1 }).lean();
    const messageId = original?.messageId.replace(/\.tagged$/, '');
    if (!original || !messageId) return true;
    const verdict = await deps.senderVerdict(original.tenantId, messageId);
    if (!verdict) return true;
    const auth = verdict.evidence.auth;
    return Boolean(auth && (auth.spf === 'pass' || auth.alignedDkim.length > 0));
  }

  return {
    /** Inbound mail going onward to the primary server is ARC-sealed by the tenant's key (sealed per attempt: a new seal time each). */
    async prepare(row, message, raw) {
      if (row.kind !== 'inbound' || !deps.outbound) return raw;
      return deps.outbound.sealForward(row.tenantId, raw, message);
    },

    async targetsFor(row) {
      const s = await settings.settingsOf(row.tenantId);
      const servers = row.kind === 'inbound' ? s.primaryServers : s.relay ? [s.relay] : [];
      return servers.map((server) => ({ host: server.host, port: server.port, verifyTls: s.verifyTls }));
    },

    async bounce(row, reason) {
      if (row.kind === 'bounce' || !row.mailFrom) return; // never bounce a bounce or the null sender
      if (!(await mayBounce(row))) {
        logger.warn({ delivery: row._id, reason }, 'delivery failed; no bounce: the sender is not authenticated (SPF or aligned DKIM), so it may be forged');
        return;
      }
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
      // Already queued (a retry of this bounce): nothing more to do.
      await claimByInsert(models.queue, {
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
      });
      logger.info({ delivery: row._id }, 'bounced to sender');
    },

    /** An inbound row whose recipient a current pausing event covers is held instead of attempted. */
    async holdFor(row) {
      if (row.kind !== 'inbound' || !row.recipientId || row.releasedBy) return [];
      return lookups.holdingEvents(row.tenantId, row.recipientId, await lookups.pausingEvents(row.tenantId));
    },
  };
}
