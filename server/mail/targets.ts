/**
 * What the delivery worker asks of mail continuity for a row: where to send it (the tenant's primary
 * servers or relay), how to bounce it to its sender, and whether a pausing event holds it now.
 */
import { createHash } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Logger } from 'pino';
import { claimByInsert } from '../db/claims';
import type { TenantService } from '../tenants/service';
import type { DeliveryTargets } from './delivery';
import type { MailLookups } from './lookups';
import { cleanHeader, deliveryKey } from './message';
import type { MailModels } from './model';
import type { OutboundAuth } from './outbound-auth';
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
}): DeliveryTargets {
  const { models, tenants, settings, lookups, logger, hostname, now } = deps;
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
