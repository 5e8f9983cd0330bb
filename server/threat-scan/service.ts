/**
 * The Threat Scan: start (targets resolved to mailboxes, one work item each), the loop that claims
 * mailboxes by inserting a lease and scans them (mailbox-scan.ts), End Scan, resume, progress, and
 * the report once a run finishes or is ended (report.ts). Everything lives in the database, so a
 * restarted server goes on where it was (leases of a dead process expire; claimed messages are not
 * judged twice). Remediation is remediation.ts.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditContext } from '../audit/context';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import { claimByInsert, insertIgnoringDuplicates } from '../db/claims';
import { GraphRequestError, type GraphApi } from '../directory/graph/client';
import { viaGraph, type Entra } from '../directory/graph/index';
import type { DirectoryService } from '../directory/service';
import { conflict, notFound, unprocessable, type FieldError } from '../http/problem';
import type { MessageJudge } from './judge';
import { createGraphBatcher } from './graph-batch';
import { createMailboxLimiter } from './limiter';
import { scanMailbox } from './mailbox-scan';
import type { MailboxRecord, ScanRecord, ThreatScanModels } from './model';
import { createPollLoop } from '../loops/poll-loop';
import { requirePermission } from './permissions';
import { scanView, type ScanView } from './progress';

export interface ThreatScanOptions {
  /** The loop's sleep between looks for work. */
  pollMs?: number;
  /** A mailbox lease not renewed for this long belongs to a dead process and is taken over. */
  leaseMs?: number;
  /** Mailboxes scanned at once by one process. */
  concurrentMailboxes?: number;
  /** Graph requests in flight per mailbox (Exchange Online allows 4). */
  perMailbox?: number;
  /** Failed attempts after which a mailbox is skipped with the reason. */
  maxFailures?: number;
  /** First back-off after a failed attempt (doubles each time, at most 10 minutes). */
  backoffMs?: number;
  pageSize?: number;
  /** The Graph SDK's retries of one throttled request (each waits Retry-After). */
  graphRetries?: number;
  /** Messages judged at once by this process, across mailboxes (the engines' and the database's pace). */
  judgeConcurrency?: number;
}

export interface ThreatScanDeps {
  models: ThreatScanModels;
  entra: Entra;
  directory: DirectoryService;
  audit: AuditService;
  logger: Logger;
  judge: MessageJudge;
  now?: () => Date;
  options?: ThreatScanOptions;
}

export type ScanChange = { tenantId: string; kind: 'progress' | 'remediation'; body: unknown };

export interface StartInput {
  days: number;
  targets?: { groupIds: string[]; userIds: string[] };
}

export function createThreatScanRunner(deps: ThreatScanDeps) {
  const { models, entra, directory, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const o = {
    pollMs: 1000,
    leaseMs: 60_000,
    concurrentMailboxes: 8,
    perMailbox: 4,
    maxFailures: 5,
    backoffMs: 5_000,
    pageSize: 50,
    graphRetries: 3,
    judgeConcurrency: 16,
    ...deps.options,
  };
  const limiter = createMailboxLimiter(o.perMailbox);
  const judgeSlots = createMailboxLimiter(o.judgeConcurrency);
  const batch = createGraphBatcher({ maxRetries: o.graphRetries });
  const owner = randomUUID();
  const active = new Map<string, Promise<void>>();
  const changeListeners: ((change: ScanChange) => void)[] = [];
  const finishedListeners: ((scan: ScanRecord) => Promise<void>)[] = [];
  const lastPush = new Map<string, number>();
  const loop = createPollLoop({ pass: () => tick(), pollMs: o.pollMs, logger, failure: 'threat scan loop failed' });

  const emit = (change: ScanChange) => changeListeners.forEach((l) => l(change));

  async function pushProgress(scanId: string, force = false): Promise<void> {
    // At most four pushes a second per scan; state changes always go.
    const at = Date.now();
    if (!force && at - (lastPush.get(scanId) ?? 0) < 250) return;
    lastPush.set(scanId, at);
    const scan = await models.scans.findById(scanId).lean<ScanRecord>();
    if (scan) emit({ tenantId: scan.tenantId, kind: 'progress', body: await scanView(models, scan, now()) });
  }

  async function api(tenantId: string, onThrottled?: () => void): Promise<{ api: GraphApi; clientId: string }> {
    const creds = await entra.connections.credentials(tenantId);
    if (!creds) throw conflict('This tenant is not connected to Microsoft Graph: set the Entra connection first (Directory settings).');
    return { api: entra.graph.client(creds, { onThrottled, maxRetries: o.graphRetries }), clientId: creds.clientId };
  }

  async function resolveTargets(tenantId: string, targets: StartInput['targets']): Promise<string[]> {
    if (!targets) return directory.allUserIds(tenantId);
    const errors: FieldError[] = [];
    const ids = new Set<string>();
    for (const [i, id] of targets.userIds.entries()) {
      if (await directory.getUser(tenantId, id)) ids.add(id);
      else errors.push({ path: `targets.userIds.${i}`, message: 'is not a user of this directory' });
    }
    for (const [i, id] of targets.groupIds.entries()) {
      if (!(await directory.getGroup(tenantId, id))) errors.push({ path: `targets.groupIds.${i}`, message: 'is not a group of this directory' });
      else for (const userId of await directory.transitiveUserIds(tenantId, id)) ids.add(userId);
    }
    if (errors.length) throw unprocessable(errors);
    return [...ids].sort();
  }

  async function getScan(tenantId: string, id: string): Promise<ScanRecord> {
    const scan = await models.scans.findById(id).lean<ScanRecord>();
    if (!scan || scan.tenantId !== tenantId) throw notFound('threat scan');
    return scan;
  }

  /** Takes a mailbox's lease: inserted under its _id; an expired one is removed by its exact owner and expiry first. */
  async function claimLease(id: string): Promise<boolean> {
    const lease = { _id: id, owner, expiresAt: new Date(now().getTime() + o.leaseMs) };
    if (await claimByInsert(models.leases, lease)) return true;
    const held = await models.leases.findById(id).lean();
    if (!held || held.expiresAt > now()) return false;
    await models.leases.deleteOne({ _id: id, owner: held.owner, expiresAt: held.expiresAt });
    return claimByInsert(models.leases, lease);
  }

  async function runMailbox(scan: ScanRecord, item: MailboxRecord): Promise<void> {
    let throttled = 0;
    const stopped = async () => !loop.running || (await models.scans.findById(scan._id, { state: 1 }).lean())?.state !== 'running';
    try {
      const { api: graph } = await api(scan.tenantId, () => throttled++);
      const result = await scanMailbox(
        { models, judge: deps.judge, limiter, judgeSlots, now, pageSize: o.pageSize, batch, onThrottled: () => throttled++ },
        graph,
        item,
        scan.since,
        stopped,
        async () => {
          if (throttled) await models.mailboxes.updateOne({ _id: item._id }, { $inc: { throttled } });
          throttled = 0;
          await models.leases.updateOne({ _id: item._id, owner }, { $set: { expiresAt: new Date(now().getTime() + o.leaseMs) } });
          await pushProgress(scan._id);
        },
      );
      // The counters are exact (a page whose progress a crash lost is counted when it is listed again),
      // so a finished mailbox is not recounted from its records: on FerretDB that read scans every record of the scan.
      if (result === 'done') await models.mailboxes.updateOne({ _id: item._id }, { $set: { state: 'done', updatedAt: now() } });
    } catch (err) {
      await recordFailure(item, err, throttled);
    } finally {
      await models.leases.deleteOne({ _id: item._id, owner }).catch(() => {});
      await pushProgress(scan._id, true).catch(() => {});
    }
  }

  /** A refusal that waiting will not fix skips the mailbox now; anything else backs off, then skips after maxFailures. */
  async function recordFailure(item: MailboxRecord, err: unknown, throttled: number): Promise<void> {
    const e = err instanceof GraphRequestError ? err : null;
    const permanent = e !== null && e.status !== null && e.status < 500 && e.status !== 429 && e.status !== 408;
    const failures = item.failures + 1;
    const reason = `${e?.message ?? (err as Error).message}`;
    const skip = permanent || failures >= o.maxFailures;
    const set: Partial<MailboxRecord> = skip
      ? { state: 'skipped', reason: permanent ? reason : `Graph kept failing (${failures} attempts): ${reason}`, failures, updatedAt: now() }
      : { failures, nextAttemptAt: new Date(now().getTime() + Math.min(o.backoffMs * 2 ** (failures - 1), 600_000)), updatedAt: now() };
    await models.mailboxes.updateOne({ _id: item._id }, { $set: set, $inc: { throttled } });
    logger.warn({ scanId: item.scanId, mailbox: item.address, failures, skipped: skip, err: reason }, 'threat scan: a mailbox attempt failed');
  }

  async function finishIfDone(scan: ScanRecord): Promise<void> {
    if (active.size && [...active.keys()].some((k) => k.startsWith(`${scan._id}:`))) return;
    const pending = await models.mailboxes.countDocuments({ scanId: scan._id, state: 'pending' });
    if (pending > 0) return;
    if (!(await claimByInsert(models.markers, { _id: `${scan._id}:finished:${scan.run}`, at: now() }))) return;
    await models.scans.updateOne({ _id: scan._id, state: 'running' }, { $set: { state: 'finished', finishedAt: now() } });
    await pushProgress(scan._id, true);
    const finished = await models.scans.findById(scan._id).lean<ScanRecord>();
    if (finished?.state === 'finished') for (const l of finishedListeners) await l(finished);
  }

  async function tick(): Promise<void> {
    const scans = await models.scans.find({ state: 'running' }).lean<ScanRecord[]>();
    for (const scan of scans) {
      const items = await models.mailboxes.find({ scanId: scan._id, state: 'pending' }).lean<MailboxRecord[]>();
      for (const item of items) {
        if (!loop.running || active.size >= o.concurrentMailboxes) break;
        if (active.has(item._id) || item.nextAttemptAt > now()) continue;
        if (!(await claimLease(item._id))) continue;
        // The list was read before the lease was taken: another node may have finished this mailbox (or moved
        // its saved page on) and released its lease since. Read it again under the lease, or it is scanned twice.
        const current = await models.mailboxes.findById(item._id).lean<MailboxRecord>();
        if (!current || current.state !== 'pending' || current.nextAttemptAt > now()) {
          await models.leases.deleteOne({ _id: item._id, owner });
          continue;
        }
        const run = runMailbox(scan, current).finally(() => active.delete(item._id));
        active.set(item._id, run);
        void run.then(() => wake());
      }
      await finishIfDone(scan);
    }
  }

  const wake = () => loop.wake();

  return {
    models,
    limiter,
    api,
    getScan,
    /** Leases for other per-mailbox work (continuous protection's rounds), under the same rules. */
    claimLease,
    releaseLease: async (id: string) => void (await models.leases.deleteOne({ _id: id, owner })),
    /** Told of progress and remediation changes (pushed to the tenant's admins). */
    onChange(listener: (change: ScanChange) => void): void {
      changeListeners.push(listener);
    },
    /** Told once per run that finished or was ended (the report email). */
    onFinished(listener: (scan: ScanRecord) => Promise<void>): void {
      finishedListeners.push(listener);
    },
    emit,

    async startScan(by: AdminIdentity, input: StartInput, context: AuditContext): Promise<ScanView> {
      const { api: graph, clientId } = await api(by.tenantId);
      await viaGraph(() => requirePermission(graph, clientId, 'scan'));
      if (await models.scans.exists({ tenantId: by.tenantId, state: 'running' }))
        throw conflict('A threat scan is already running in this tenant: end it first.');
      const userIds = await resolveTargets(by.tenantId, input.targets);
      const at = now();
      const scan: ScanRecord = {
        _id: randomUUID(),
        tenantId: by.tenantId,
        days: input.days,
        since: new Date(at.getTime() - input.days * 86_400_000),
        targets: input.targets ?? null,
        state: 'running',
        run: 1,
        createdAt: at,
        createdBy: { id: by.adminId, email: by.email },
        runStartedAt: at,
        endedAt: null,
        finishedAt: null,
        mailboxesTotal: userIds.length,
      };
      const items: MailboxRecord[] = [];
      for (const userId of userIds) {
        const user = await directory.getUser(by.tenantId, userId);
        const address = user?.mail ?? user?.userPrincipalName ?? userId;
        items.push({
          _id: `${scan._id}:${userId}`,
          scanId: scan._id,
          tenantId: by.tenantId,
          userId,
          address,
          state: 'pending',
          nextLink: null,
          failures: 0,
          reason: null,
          scanned: 0,
          threats: 0,
          throttled: 0,
          nextAttemptAt: at,
          updatedAt: at,
        });
      }
      // Work items first, then the scan that makes the loop look at them: a crash between leaves no half scan.
      await insertIgnoringDuplicates(models.mailboxes, items);
      await models.scans.create(scan);
      await deps.audit.record({
        tenantId: by.tenantId,
        category: 'protection',
        action: 'start',
        actor: adminActor(by),
        target: { type: 'threatScan', id: scan._id, label: null },
        after: { days: input.days, targets: input.targets ?? null, mailboxes: userIds.length },
        ...context,
      });
      wake();
      return scanView(models, scan, now());
    },

    async end(by: AdminIdentity, id: string, context: AuditContext): Promise<ScanView> {
      const scan = await getScan(by.tenantId, id);
      if (scan.state !== 'running') throw conflict(`This scan is ${scan.state}, not running.`);
      await models.scans.updateOne({ _id: id, state: 'running' }, { $set: { state: 'ended', endedAt: now() } });
      // The mailboxes this process is scanning stop at their next page; the report covers what was judged.
      await Promise.all([...active.entries()].filter(([k]) => k.startsWith(`${id}:`)).map(([, p]) => p));
      await deps.audit.record({
        tenantId: by.tenantId,
        category: 'protection',
        action: 'end',
        actor: adminActor(by),
        target: { type: 'threatScan', id, label: null },
        ...context,
      });
      const ended = await getScan(by.tenantId, id);
      await pushProgress(id, true);
      if (await claimByInsert(models.markers, { _id: `${id}:finished:${ended.run}`, at: now() })) for (const l of finishedListeners) await l(ended);
      return scanView(models, ended, now());
    },

    async resume(by: AdminIdentity, id: string, context: AuditContext): Promise<ScanView> {
      const scan = await getScan(by.tenantId, id);
      if (scan.state !== 'ended') throw conflict(`Only an ended scan can be resumed; this one is ${scan.state}. Start a new scan to run it again.`);
      if (await models.scans.exists({ tenantId: by.tenantId, state: 'running' }))
        throw conflict('A threat scan is already running in this tenant: end it first.');
      const { api: graph, clientId } = await api(by.tenantId);
      await viaGraph(() => requirePermission(graph, clientId, 'scan'));
      await models.scans.updateOne({ _id: id, state: 'ended' }, { $set: { state: 'running', endedAt: null, runStartedAt: now() }, $inc: { run: 1 } });
      await models.mailboxes.updateMany({ scanId: id, state: 'pending' }, { $set: { nextAttemptAt: now() } });
      await deps.audit.record({
        tenantId: by.tenantId,
        category: 'protection',
        action: 'resume',
        actor: adminActor(by),
        target: { type: 'threatScan', id, label: null },
        ...context,
      });
      wake();
      return scanView(models, await getScan(by.tenantId, id), now());
    },

    async view(tenantId: string, id: string): Promise<ScanView> {
      return scanView(models, await getScan(tenantId, id), now());
    },

    async list(tenantId: string): Promise<ScanView[]> {
      const scans = await models.scans.find({ tenantId }).sort({ createdAt: -1 }).limit(20).lean<ScanRecord[]>();
      return Promise.all(scans.map((s) => scanView(models, s, now())));
    },

    /** Starts the loop: running scans (also those a stopped or crashed process left) go on. */
    start: () => loop.start(),
    async stop(): Promise<void> {
      await loop.stop();
      await Promise.all(active.values());
    },
    /** Waits until nothing is in flight (tests). */
    wake,
  };
}
export type ThreatScanRunner = ReturnType<typeof createThreatScanRunner>;
