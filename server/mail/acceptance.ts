/**
 * Inbound acceptance, the SMTP hot path: which recipients are accepted (accepted domains and known
 * users or groups only: never an open relay), storing a received message durably before the 250
 * (through the spool when there is one), hand-over to routing, and the addresses other capabilities
 * intercept (MailInterceptor). Never routes or delivers itself.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { domainOf, normalizeAddress } from '../http/addresses';
import type { RoutingJournal } from './journal';
import type { MailLookups } from './lookups';
import type { MailModels, StoredRecipient } from './model';
import type { RouteItem } from './routing';
import { openSpool, type Spool } from './spool';
import { createBatchedStore } from './store';

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
/** A burst: this many messages accepted within BURST_WINDOW_MS. */
const BURST_MESSAGES = 25;
const BURST_WINDOW_MS = 250;

export function createAcceptance(deps: {
  models: MailModels;
  journal: RoutingJournal;
  lookups: MailLookups;
  logger: Logger;
  now: () => Date;
  /** Hands a durably stored message to routing (in the background). */
  routeSoon: (item: RouteItem) => void;
}) {
  const { models, journal, lookups, logger, now, routeSoon } = deps;
  let spool: Spool | null = null;
  const storeInbound = createBatchedStore(models, journal, { spool: () => spool, logger });
  const interceptors: MailInterceptor[] = [];
  // When the last BURST_MESSAGES messages were accepted (a ring).
  const acceptedAt = new Array<number>(BURST_MESSAGES).fill(0);
  let nextSlot = 0;

  return {
    /** Lets another capability receive messages for its own addresses (see MailInterceptor). */
    intercept(interceptor: MailInterceptor): void {
      interceptors.push(interceptor);
    },

    /** RCPT TO: accepted domains only (never an open relay), known users or groups only. */
    async checkRecipient(address: string): Promise<RecipientCheck> {
      const lower = normalizeAddress(address);
      if (lower.lastIndexOf('@') < 1) return { ok: false, code: 550, message: '5.1.3 Bad recipient address syntax' };
      // The domain's tenant first: an interceptor's address in a tenant's accepted domain counts only
      // when it is that tenant's own, so no tenant can take another's mail by naming its address.
      const tenant = await lookups.tenantByDomain(domainOf(lower));
      for (const interceptor of interceptors) {
        const tenantId = await interceptor.claims(lower);
        if (tenantId && (!tenant || tenant.id === tenantId)) {
          return { ok: true, tenantId, recipient: { address: lower, kind: INTERCEPTED as StoredRecipient['kind'], id: '' } };
        }
      }
      if (!tenant) return { ok: false, code: 550, message: '5.7.1 Relaying denied: not an accepted domain' };
      const user = await lookups.userByAddress(tenant.id, lower);
      if (user) return { ok: true, tenantId: tenant.id, recipient: { address: lower, kind: 'user', id: user.id } };
      const group = await lookups.groupByAddress(tenant.id, lower);
      if (group) return { ok: true, tenantId: tenant.id, recipient: { address: lower, kind: 'group', id: group.id } };
      return { ok: false, code: 550, message: '5.1.1 Recipient address rejected: no such user here' };
    },

    /** Stores a received message durably (resolve = safe to answer 250), then routes it in the background. */
    async accept(input: {
      tenantId: string;
      /** The id the receiver named in its Received header (default: a new one). */
      messageId?: string;
      mailFrom: string;
      recipients: StoredRecipient[];
      raw: Buffer;
      remoteAddress: string | null;
      helo?: string | null;
    }): Promise<string> {
      const messageId = input.messageId ?? randomUUID();
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
      acceptedAt[nextSlot] = Date.now();
      nextSlot = (nextSlot + 1) % BURST_MESSAGES;
      const stored = await storeInbound({ ...input, messageId, direction: 'inbound', receivedAt: now() });
      // Routing starts once the database has it (a spooled message is written there just after the 250).
      void stored.persisted.then(() => routeSoon({ ...stored, fresh: true }));
      return messageId;
    },

    /**
     * True while a burst is coming in (routing then waits for a pause): the last BURST_MESSAGES messages
     * accepted within BURST_WINDOW_MS, 100 msgs/s or more (more than judging keeps up with on a small
     * machine). Mail arriving at a steadier pace is routed as it comes (the time from 250 to placement).
     */
    receiving: () => Date.now() - acceptedAt[nextSlot]! < BURST_WINDOW_MS,

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

    /** Accepted messages not yet written to the database (spooled only). */
    unpersisted: () => storeInbound.unpersisted(),

    /** Waits (at most waitMs) until the messages being stored are stored. */
    async drained(waitMs: number): Promise<void> {
      await Promise.race([storeInbound.drained(), new Promise((r) => setTimeout(r, waitMs).unref())]);
    },

    /** Its files stay if something in them is not in the database yet (replayed at the next start). */
    closeSpool(): void {
      spool?.close();
      spool = null;
    },
  };
}
