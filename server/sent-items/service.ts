/**
 * Sent Items write-back: when Exchange is back, what each user sent through Lifeboat is created in
 * their Exchange Sent Items (graph-message.ts says how it is made a sent item, not a draft). A run goes
 * over the tenant's continuity Sent folders; each message is claimed by insert before Graph is asked
 * (never copied twice, by any run or node), a failed copy gives its claim back so the next run tries
 * again. Progress is kept per tenant for the admin page, a count per user for the inbox. Tenants on
 * the directory file have no Graph connection: the run records that it cannot copy, and says why.
 */
import { simpleParser } from 'mailparser';
import type { Logger } from 'pino';
import { adminActor, type AdminIdentity } from '../auth/identity';
import type { AuditContext } from '../audit/context';
import type { AuditService } from '../audit/service';
import { SYSTEM_CONTEXT } from '../audit/context';
import { claimByInsert } from '../db/claims';
import { GraphRequestError, type GraphApi } from '../directory/graph/client';
import { conflict } from '../http/problem';
import type { MailboxEntryRecord, MailModels } from '../mail/model';
import { readRaw } from '../mail/store';
import { sentItemOf } from './graph-message';
import type { RunRecord, RunTrigger, SentItemsModels, UserCountRecord } from './model';

/** Progress is written after this many messages (and at the end): one write by _id each time. */
const PROGRESS_EVERY = 20;
export const NO_GRAPH_REASON =
  'This organisation has no Microsoft Graph connection, so Lifeboat cannot put the mail users sent through it into their Exchange Sent Items. ' +
  'Connect Entra ID (Directory page) with the Mail.ReadWrite application permission, then start the copy again.';

export interface SentItemsDeps {
  models: SentItemsModels;
  mail: MailModels;
  /** A Graph client for the tenant, or null when it has no Graph connection. */
  graph: (tenantId: string) => Promise<GraphApi | null>;
  /** Whether the tenant has a Graph connection (cached by the connection service). */
  connected: (tenantId: string) => Promise<boolean>;
  audit: AuditService;
  logger: Logger;
  now?: () => Date;
}

class MissingPermission extends Error {}
const PERMISSION_REASON =
  'Microsoft Graph refused to create messages: Lifeboat’s app registration needs the Mail.ReadWrite application permission ' +
  '(grant it with admin consent in Entra ID), then start the copy again.';

const runView = (r: RunRecord | null) =>
  r
    ? {
        state: r.state,
        trigger: r.trigger ?? 'admin',
        total: r.total,
        copied: r.copied,
        skipped: r.skipped,
        failed: r.failed,
        withoutAttachments: r.withoutAttachments,
        lastError: r.lastError,
        reason: r.reason,
        startedAt: r.startedAt.toISOString(),
        finishedAt: r.finishedAt ? r.finishedAt.toISOString() : null,
      }
    : { state: 'never' as const };

export function createSentItemsWriteBack(deps: SentItemsDeps) {
  const { models, mail, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const log = logger.child({ component: 'sent-items' });
  const running = new Map<string, Promise<void>>();
  let stopping = false;

  async function save(run: RunRecord) {
    await models.runs.replaceOne({ _id: run._id }, run, { upsert: true });
  }

  async function copyOne(api: GraphApi, entry: MailboxEntryRecord, run: RunRecord, counts: Map<string, number>) {
    const id = `${entry.tenantId}:${entry.userId}:${entry._id.slice(entry._id.lastIndexOf(':') + 1)}`;
    if (!(await claimByInsert(models.claims, { _id: id, tenantId: entry.tenantId, state: 'claimed', graphId: null, at: now() }))) {
      run.skipped++;
      return;
    }
    try {
      const msg = await mail.messages.findById(entry.messageKey, { chunks: 1, raw: 1, tenantId: 1 }).lean();
      if (!msg) throw new Error('the message is no longer stored (past retention)');
      const { body, attachmentsLeftOut } = sentItemOf(await simpleParser(await readRaw(mail, msg), { skipImageLinks: true }), entry.receivedAt);
      const created = await api.post<{ id?: string }>(`/users/${encodeURIComponent(entry.userId)}/mailFolders/sentitems/messages`, body);
      await models.claims.replaceOne({ _id: id }, { _id: id, tenantId: entry.tenantId, state: 'copied', graphId: created?.id ?? null, at: now() });
      run.copied++;
      if (attachmentsLeftOut) run.withoutAttachments++;
      counts.set(entry.userId, (counts.get(entry.userId) ?? 0) + 1);
    } catch (err) {
      // The claim goes back: the next run tries this message again.
      await models.claims.deleteOne({ _id: id });
      run.failed++;
      run.lastError = (err as Error).message;
      // Refused (not failing): every other message would be refused too. Stop and say what to grant.
      if (err instanceof GraphRequestError && err.status === 403) throw new MissingPermission(err.message);
      log.warn({ err, tenantId: entry.tenantId, userId: entry.userId }, 'sent item not copied to Exchange');
    }
  }

  async function addCounts(tenantId: string, counts: Map<string, number>) {
    for (const [userId, n] of counts) {
      const _id = `${tenantId}:${userId}`;
      const before = await models.users.findById(_id).lean<UserCountRecord>();
      await models.users.replaceOne({ _id }, { _id, tenantId, copied: (before?.copied ?? 0) + n, lastAt: now() }, { upsert: true });
    }
  }

  async function execute(tenantId: string, run: RunRecord): Promise<void> {
    const api = await deps.graph(tenantId).catch(() => null);
    if (!api) {
      Object.assign(run, { state: 'unavailable', reason: NO_GRAPH_REASON, finishedAt: now() });
      return save(run);
    }
    // An admin job: one scan of the tenant's sent copies is acceptable here (never on a user's request).
    const entries = await mail.mailbox.find({ tenantId, folder: 'sent' }).lean<MailboxEntryRecord[]>();
    run.total = entries.length;
    await save(run);
    const counts = new Map<string, number>();
    try {
      for (let i = 0; i < entries.length; i++) {
        if (stopping) {
          Object.assign(run, {
            state: 'failed',
            lastError: 'The server stopped during the copy: start it again (nothing is copied twice).',
            finishedAt: now(),
          });
          return await save(run);
        }
        await copyOne(api, entries[i]!, run, counts);
        if ((i + 1) % PROGRESS_EVERY === 0) await save(run);
      }
    } finally {
      await addCounts(tenantId, counts);
    }
    Object.assign(run, { state: run.failed && !run.copied && run.total ? 'failed' : 'done', finishedAt: now() });
    await save(run);
    log.info({ tenantId, copied: run.copied, failed: run.failed, skipped: run.skipped }, 'sent items written back to Exchange');
  }

  /** Starts a run for the tenant (one at a time in this process); resolves when it has started. */
  async function start(tenantId: string, by: AdminIdentity | null, context: AuditContext, trigger: RunTrigger = 'admin'): Promise<ReturnType<typeof runView>> {
    if (running.has(tenantId)) throw conflict('The copy to Exchange Sent Items is already running: its progress is on this page.');
    const run: RunRecord = {
      _id: tenantId,
      state: 'running',
      trigger,
      total: 0,
      copied: 0,
      skipped: 0,
      failed: 0,
      withoutAttachments: 0,
      lastError: null,
      reason: null,
      startedAt: now(),
      finishedAt: null,
    };
    await save(run);
    await deps.audit.record({
      tenantId,
      category: 'mail',
      action: 'sentItems.writeBack.started',
      actor: by ? adminActor(by) : { type: 'system', id: null, email: null },
      target: { type: 'tenant', id: tenantId, label: 'Exchange Sent Items' },
      ...(trigger === 'eventEnded' ? { after: { trigger } } : {}),
      ...context,
    });
    const work = execute(tenantId, run)
      .catch(async (err) => {
        const refused = err instanceof MissingPermission;
        if (!refused) log.error({ err, tenantId }, 'sent items write-back failed');
        Object.assign(run, { state: 'failed', lastError: (err as Error).message, reason: refused ? PERMISSION_REASON : null, finishedAt: now() });
        await save(run).catch(() => {});
      })
      .finally(() => running.delete(tenantId));
    running.set(tenantId, work);
    return runView(run);
  }

  return {
    models,

    start,

    /**
     * A continuity event ended (the `event:ended` reaction, which may be dispatched again after a crash,
     * on any node): the copy starts by itself, once per event. The claim is inserted first, so a second
     * dispatch of the same end, here or on another node, starts nothing. A tenant without a Graph
     * connection gets a run that records why it cannot (the admin's card says so). Answers whether this
     * call started it.
     */
    async startAfterEvent(tenantId: string, eventId: string): Promise<boolean> {
      if (!(await claimByInsert(models.eventStarts, { _id: eventId, tenantId, at: now() }))) return false;
      const under = running.get(tenantId);
      if (!under) {
        await start(tenantId, null, SYSTEM_CONTEXT, 'eventEnded');
        return true;
      }
      // A run under way listed the sent copies when it began: go again after it (not holding up the
      // other reactions to the end), for what it did not see. Already copied messages are skipped.
      void under
        .then(() => start(tenantId, null, SYSTEM_CONTEXT, 'eventEnded'))
        .catch((err) => log.error({ err, tenantId, eventId }, 'sent items write-back after an event did not start'));
      return true;
    },

    /** The tenant's last run as the admin page shows it. */
    async progress(tenantId: string) {
      return runView(await models.runs.findById(tenantId).lean<RunRecord>());
    },

    /** What the inbox tells a user: how many of their sent messages are in Exchange, or why not. */
    async forUser(tenantId: string, userId: string) {
      const [mine, run, connected] = await Promise.all([
        models.users.findById(`${tenantId}:${userId}`).lean<UserCountRecord>(),
        models.runs.findById(tenantId).lean<RunRecord>(),
        deps.connected(tenantId).catch(() => true),
      ]);
      // Without a Graph connection it cannot happen: users are told before anyone tries.
      const unavailable = !connected || run?.state === 'unavailable';
      return {
        copied: mine?.copied ?? 0,
        lastCopiedAt: mine ? mine.lastAt.toISOString() : null,
        state: unavailable ? 'unavailable' : (run?.state ?? 'never'),
        unavailableReason: unavailable ? NO_GRAPH_REASON : null,
      };
    },

    /** Ends the runs of this process after the message in hand (shutdown). */
    async stop(): Promise<void> {
      stopping = true;
      await Promise.all(running.values());
    },

    /** Waits for the tenant's run in this process (tests). */
    async settled(tenantId?: string): Promise<void> {
      await Promise.all(tenantId ? [running.get(tenantId)] : [...running.values()]);
    },
  };
}
export type SentItemsWriteBack = ReturnType<typeof createSentItemsWriteBack>;
