/**
 * Mail continuity as the rest of the server sees it: one facade over the parts, each a file with
 * one job: inbound acceptance (acceptance.ts), routing (routing.ts), delivery and its targets
 * (delivery.ts, targets.ts), hold and release (hold.ts), the user's mailbox and sending (mailbox.ts,
 * send.ts; list and search read mailbox-index.ts), settings (settings.ts), figures (figures.ts) and
 * retention sweeps (retention.ts).
 * This file only composes them and stops them in order.
 */
import type { Logger } from 'pino';
import type { AuditService } from '../audit/service';
import type { DirectoryService } from '../directory/service';
import type { EventCoverage, EventRecord } from '../events/coverage';
import type { TargetGuard } from '../http/private-target';
import type { DnsLookup } from '../protection/dns';
import type { SecretBox } from '../secrets/seal';
import type { TenantService } from '../tenants/service';
import { createAcceptance } from './acceptance';
import { DEFAULT_RETRY, createDeliveryWorker, type RetryPolicy } from './delivery';
import { createMailFigures } from './figures';
import { createHoldRelease } from './hold';
import { createRoutingJournal } from './journal';
import { createMailLookups } from './lookups';
import { createMailbox } from './mailbox';
import { createMailboxIndex } from './mailbox-index';
import type { MailModels } from './model';
import type { InboundProtection } from './protect';
import { createMailProtectionSide } from './protection-side';
import type { ReleasedCopy } from '../protection/mail-side';
import { ORPHAN_GRACE_MS, createRetention } from './retention';
import { ROUTE_MEMORY_BYTES, createRouting } from './routing';
import { createSender } from './send';
import { arcTrustLine, createOutboundAuth } from './outbound-auth';
import { createOwnListeners } from './own-listener';
import { createSigningKeys } from './signing-key';
import { createMailSettings } from './settings';
import { createDeliveryTargets } from './targets';

export type { MailInterceptor, RecipientCheck } from './acceptance';
export { ORPHAN_GRACE_MS } from './retention';

export interface MailOptions {
  models: MailModels;
  tenants: TenantService;
  directory: DirectoryService;
  /** Who events cover (the events capability's read interface): held mail, expanded lists, the inbox's range. */
  events: EventCoverage;
  audit: AuditService;
  logger: Logger;
  now?: () => Date;
  hostname?: string;
  retry?: Partial<RetryPolicy>;
  deliveryPollMs?: number;
  /** How long a worker's claim on a delivery lasts (another node takes it over after this when the worker died). */
  deliveryLeaseMs?: number;
  /** Held rows released per second per tenant. */
  releasePerSecond?: number;
  /** How long chunks may wait for their message document before the sweeper removes them. */
  orphanGraceMs?: number;
  /** Raw messages kept in memory for routing (default ROUTE_MEMORY_BYTES). */
  routeMemoryBytes?: number;
  /** The SSRF guard for primary servers and relays (at save time and at connect time). */
  targets?: TargetGuard;
  /** Outbound authentication (ARC seal onward, DKIM on sends): the box sealing tenants' keys, and DNS for authenticating before sealing. */
  signing?: { box: SecretBox; lookup: DnsLookup };
}

export function createMailService(options: MailOptions) {
  const { models, tenants, directory, audit, logger } = options;
  const now = options.now ?? (() => new Date());
  const hostname = options.hostname ?? 'lifeboat.local';
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };

  // Bound after composition (protection is composed after mail: it needs mail's side of its interface).
  let protection: InboundProtection | null = null;
  let keepReportFigures: ((tenantId: string, cutoff: Date) => Promise<number>) | null = null;
  const journal = createRoutingJournal(models.messages.db.db!, logger);
  // What users list and search (FerretDB scans every filter but {_id}: see mailbox-index.ts).
  const index = createMailboxIndex(models.mailbox.db, { mailbox: models.mailbox });
  const lookups = createMailLookups({ tenants, directory, events: options.events, now });
  const own = createOwnListeners({ hostname });
  const settings = createMailSettings({ models, audit, now, targets: options.targets, own });
  const signingKeys = options.signing ? createSigningKeys({ conn: models.messages.db, box: options.signing.box, now }) : null;
  const outbound = signingKeys && options.signing ? createOutboundAuth({ keys: signingKeys, tenants, lookup: options.signing.lookup, hostname, logger }) : null;
  const targets = createDeliveryTargets({
    models,
    tenants,
    settings,
    lookups,
    logger,
    hostname,
    now,
    outbound,
    senderVerdict: (tenantId, messageId) => protection?.verdictOf(tenantId, messageId) ?? Promise.resolve(null),
  });
  const worker = createDeliveryWorker({
    models,
    targets,
    logger,
    retry,
    hostname,
    now,
    pollMs: options.deliveryPollMs,
    guard: options.targets,
    isOwnListener: own.isOwnAddress,
    leaseMs: options.deliveryLeaseMs,
  });
  const routing = createRouting({
    models,
    journal,
    lookups,
    index,
    worker,
    logger,
    now,
    routeMemoryBytes: options.routeMemoryBytes ?? ROUTE_MEMORY_BYTES,
    receiving: () => acceptance.receiving(),
    protection: () => protection,
  });
  const acceptance = createAcceptance({ models, journal, lookups, logger, now, routeSoon: routing.routeSoon });
  const holds = createHoldRelease({ models, lookups, worker, logger, now, releasePerSecond: options.releasePerSecond ?? 20 });
  const mailbox = createMailbox({ models, index, lookups });
  const send = createSender({ models, journal, mailbox, route: routing.route, now, sign: outbound?.signSent });
  const figures = createMailFigures(models);
  const retention = createRetention({
    models,
    index,
    tenants,
    settings,
    logger,
    now,
    orphanGraceMs: options.orphanGraceMs ?? ORPHAN_GRACE_MS,
    protection: () => protection,
    keepReportFigures: () => keepReportFigures,
  });

  return {
    models,
    worker,

    /** Puts every inbound message to protection between the 250 and placement (services.ts binds it). */
    useProtection(p: InboundProtection): void {
      protection = p;
    },
    /** Reports keep the figures of events whose mail the retention sweep is about to remove (services.ts binds it). */
    useReportFigures(keep: (tenantId: string, cutoff: Date) => Promise<number>): void {
      keepReportFigures = keep;
    },
    /** Protection's view of mail: raw messages, and placing released copies (at most once per release). */
    protectionSide: (deliverReleased?: (copy: ReleasedCopy) => Promise<void>) => createMailProtectionSide({ models, index, worker, now }, deliverReleased),
    /** Judges again the mail held for the scanner that is due (lifecycle runs it every minute). */
    rejudgeHeld: routing.rejudgeHeld,

    intercept: acceptance.intercept,
    checkRecipient: acceptance.checkRecipient,
    accept: acceptance.accept,
    useSpool: acceptance.useSpool,
    route: routing.route,
    recover: routing.recover,
    onRouted: routing.onRouted,

    /**
     * A clean stop (after the receiver closed): routing finishes what it has (up to waitMs), the
     * journal's open segment is closed, the worker stops. Whatever is left is routed at the next start.
     */
    async stop(waitMs = 10_000): Promise<void> {
      const until = Date.now() + waitMs;
      await acceptance.drained(waitMs);
      while (routing.busy() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await index.dropUnlisted().catch(() => {}); // else the retention sweeper's reindex drops them
      await journal.close();
      acceptance.closeSpool();
      await worker.stop();
    },

    /** Messages this process accepted and has not routed yet. */
    unrouted(): number {
      return journal.outstanding() + acceptance.unpersisted();
    },

    /** Re-checks a tenant's queued and held mail against its current pausing events (hold, then release). */
    release: holds.reconcile,
    /**
     * An event was created, edited, started or ended: queued mail of recipients a pausing event now
     * covers is held; held mail no longer covered is released.
     */
    onEventChange(event: Pick<EventRecord, 'tenantId'>): void {
      lookups.forgetEvents(event.tenantId);
      void holds.reconcile(event.tenantId);
    },
    /** A tenant's events changed (here or on another node): the next look reads them again. */
    forgetEvents(tenantId: string): void {
      lookups.forgetEvents(tenantId);
    },
    /** A directory changed: a user or group added to (or removed from) it is seen at once. */
    onDirectoryChange(): void {
      lookups.forgetAll();
    },

    /** The receiver listens here: mail settings and delivery refuse it as a primary server or relay (a loop). */
    listeningAt: own.add,
    /** Whether an address (already resolved) on a port is one of the receiver's listeners (the monitor's probe refuses it). */
    isOwnListener: own.isOwnAddress,
    /**
     * The DNS records the tenant must publish for Lifeboat's signatures (one per domain, same key) and
     * Exchange Online's line that trusts the ARC sealer; null when outbound signing is not configured.
     */
    async signingRecords(tenantId: string) {
      if (!signingKeys || !outbound) return null;
      const [key, tenant, sealer] = await Promise.all([signingKeys.keyOf(tenantId), tenants.get(tenantId), outbound.sealerOf(tenantId)]);
      return {
        selector: key.selector,
        sealerDomain: sealer,
        /** The TXT value every domain publishes (one key): readiness checks Lifeboat's ARC seal with it. */
        keyRecord: key.record,
        records: (tenant?.domains ?? []).map((d) => ({
          domain: d.toLowerCase(),
          name: `${key.selector}._domainkey.${d.toLowerCase()}`,
          type: 'TXT' as const,
          value: key.record,
        })),
        exchangeOnline: sealer ? arcTrustLine(sealer) : null,
      };
    },
    getSettings: settings.settingsOf,
    putSettings: settings.putSettings,
    status: figures.status,
    eventFigures: figures.eventFigures,

    list: mailbox.list,
    search: mailbox.search,
    /** Makes the tenant's list and search index equal to its mailbox entries again (repair; see mailbox-index.ts). */
    reindex: (tenantId: string) => index.reindexTenant(tenantId),
    read: mailbox.read,
    attachment: mailbox.attachment,
    send,

    sweep: retention.sweep,
  };
}
export type MailService = ReturnType<typeof createMailService>;
