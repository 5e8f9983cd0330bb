/**
 * Retention sweeps: mail past each tenant's retention is removed, with its verdicts (mail still queued or
 * held, or held in the quarantine, is kept; the reports of events in that time keep their figures first;
 * the folders that lost entries drop them from their index, and once a day the tenant's index is re-derived
 * from the entries left),
 * and so are the chunks of large messages whose storing never completed. Each removal is one
 * filtered deleteMany (one scan on FerretDB) rather than a delete per document.
 */
import type { Logger } from 'pino';
import type { TenantService } from '../tenants/service';
import type { MailboxIndex } from './mailbox-index';
import type { MailModels } from './model';
import type { InboundProtection } from './protect';
import type { MailSettings } from './settings';
import { messageKey } from './store';

/**
 * How often a sweep that removed mailbox entries reindexes the tenant whole rather than only the folders
 * that lost entries: a whole reindex reads every entry and rewrites every folder's chunks (bench:sweep, 2,000
 * mailboxes: 12.5 s against 0.4 s), and mail past retention leaves at every 10-minute sweep.
 */
export const FULL_REINDEX_MS = 24 * 3600_000;

/** Chunks whose message document has not committed after this long are orphans (the sweeper removes them). */
export const ORPHAN_GRACE_MS = 60 * 60_000;

export function createRetention(deps: {
  models: MailModels;
  /** Re-derived for a tenant whose mailbox entries were removed (list and search must not show them). */
  index: MailboxIndex;
  tenants: TenantService;
  settings: MailSettings;
  logger: Logger;
  now: () => Date;
  orphanGraceMs: number;
  /** Protection (bound after composition): its quarantine keeps the raw messages it holds. */
  protection?: () => InboundProtection | null;
  /**
   * Reports (bound after composition) write down the figures of events that started before the cutoff,
   * before the mail and verdicts they count are removed. Returns how many events were written down.
   */
  keepReportFigures?: () => ((tenantId: string, cutoff: Date) => Promise<number>) | null;
}) {
  const { models, index, tenants, settings, logger, now, orphanGraceMs } = deps;
  /** When this process last reindexed each tenant whole. */
  const lastReindex = new Map<string, number>();

  /** Chunks of messages whose document never committed (a crash before the 250), once the grace period is over. */
  async function sweepOrphans(): Promise<number> {
    const uploads = await models.uploads.find({ createdAt: { $lt: new Date(now().getTime() - orphanGraceMs) } }).lean();
    if (!uploads.length) return 0;
    const orphaned: string[] = [];
    for (const u of uploads) if (!(await models.messages.findById(u._id, { _id: 1 }).lean())) orphaned.push(u._id);
    for (let i = 0; i < orphaned.length; i += 100) await models.chunks.deleteMany({ messageKey: { $in: orphaned.slice(i, i + 100) } });
    for (let i = 0; i < uploads.length; i += 100) await models.uploads.deleteMany({ _id: { $in: uploads.slice(i, i + 100).map((u) => u._id) } });
    if (orphaned.length) logger.info({ orphans: orphaned.length }, 'removed chunks of messages whose storing never completed');
    return orphaned.length;
  }

  /** Mailbox copies, delivery results and messages (with their chunks) of one tenant older than its retention. */
  async function sweepTenant(tenantId: string): Promise<{ entries: number; messages: number }> {
    const { retentionDays } = await settings.settingsOf(tenantId);
    const cutoff = new Date(now().getTime() - retentionDays * 24 * 3600_000);
    const reported = (await deps.keepReportFigures?.()?.(tenantId, cutoff)) ?? 0;
    if (reported) logger.info({ tenant: tenantId, events: reported }, 'report figures of events kept before their mail is swept');
    const expired = { tenantId, receivedAt: { $lt: cutoff } };
    const removed = await models.mailbox.find(expired, { _id: 1, tenantId: 1, userId: 1, folder: 1 }).lean();
    const entries = removed.length ? (await models.mailbox.deleteMany(expired)).deletedCount : 0;
    if (entries) {
      // The folders that lost entries drop their rows; once a day the whole tenant is reindexed instead (keeping
      // the body text already indexed), which also repairs what a crash or two nodes' race left in the index.
      const at = now().getTime();
      if (at - (lastReindex.get(tenantId) ?? -Infinity) >= FULL_REINDEX_MS) {
        await index.reindexTenant(tenantId);
        lastReindex.set(tenantId, at);
      } else await index.remove(removed);
    }
    await models.results.deleteMany({ tenantId, finishedAt: { $lt: cutoff } });
    const protection = deps.protection?.() ?? null;
    const busy = [
      ...(await models.queue.find({ tenantId }, { messageKey: 1 }).lean()).map((r) => r.messageKey),
      ...(await models.held.find({ tenantId }, { messageKey: 1 }).lean()).map((r) => r.messageKey),
      // Quarantined copies follow the quarantine's own retention (the quarantine sweep lets them go).
      ...((await protection?.quarantinedMessages(tenantId)) ?? []).map((id) => messageKey(tenantId, id)),
    ];
    // Chunks first: a crash in between leaves a message document that the next pass removes.
    await models.chunks.deleteMany({ tenantId, createdAt: { $lt: cutoff }, messageKey: { $nin: busy } });
    const messages = (await models.messages.deleteMany({ tenantId, receivedAt: { $lt: cutoff }, _id: { $nin: busy } })).deletedCount;
    // The verdicts go with the mail (the detections log and reports then count from the retention on).
    const verdicts =
      (await protection?.forgetVerdicts(
        tenantId,
        cutoff,
        busy.map((key) => key.slice(tenantId.length + 1)),
      )) ?? 0;
    if (verdicts) logger.info({ tenant: tenantId, verdicts }, 'verdicts past retention removed');
    return { entries, messages };
  }

  return {
    async sweep(): Promise<{ entries: number; messages: number; orphans: number }> {
      const orphans = await sweepOrphans();
      let entries = 0;
      let messages = 0;
      for (const tenant of await tenants.list()) {
        const swept = await sweepTenant(tenant.id);
        entries += swept.entries;
        messages += swept.messages;
      }
      if (entries || messages) logger.info({ entries, messages }, 'mail past retention removed');
      return { entries, messages, orphans };
    },
  };
}
