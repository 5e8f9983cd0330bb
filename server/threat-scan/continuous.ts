/**
 * Continuous protection after the Threat Scan: for a tenant where it runs (on by default in Monitor and
 * Protect, see continuous-state.ts), each mailbox's inbox is
 * followed with Graph delta queries (the fallback that always works; change notifications need a server
 * Microsoft can reach). A round per mailbox (claimed by inserting a lease, so one node does it) reads
 * what arrived since the stored deltaLink, judges each new message with the same pipeline and verdict
 * store as inbound mail, and applies the recipient's policy: Protect moves a quarantined message to the
 * mailbox's Lifeboat Quarantine folder with a quarantine entry (the same quarantine as SMTP mail),
 * Monitor only records; Disabled is not judged. Every threat is logged once in the detections log.
 * Mail already in the inbox when it was switched on is the Threat Scan's, not judged here.
 */
import type { Logger } from 'pino';
import type { AuditContext } from '../audit/context';
import { SYSTEM_CONTEXT } from '../audit/context';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import { insertIgnoringDuplicates } from '../db/claims';
import { GraphRequestError, type GraphApi } from '../directory/graph/client';
import { viaGraph } from '../directory/graph/index';
import type { DirectoryService } from '../directory/service';
import type { PolicyService } from '../protection/policies';
import type { QuarantineService } from '../protection/quarantine';
import type { ContinuousModels, DetectionOutcome, DetectionRecord, DeltaRecord } from './continuous-model';
import { quarantineFolders } from './folders';
import type { MessageJudge } from './judge';
import { IMMUTABLE_IDS } from './mailbox-scan';
import { createPollLoop } from '../loops/poll-loop';
import { requirePermission } from './permissions';
import type { ThreatScanRunner } from './service';
import { createContinuousState, type TenantMode } from './continuous-state';

export interface ContinuousOptions {
  /** How often each mailbox's inbox is asked for what is new. */
  roundMs?: number;
  /** The loop's sleep between looks for due mailboxes. */
  pollMs?: number;
  concurrentMailboxes?: number;
  /** How long a permission probe's answer is kept before Graph is asked again (a missing permission is not a retry storm). */
  permissionRecheckMs?: number;
}

interface DeltaEntry {
  id: string;
  '@removed'?: unknown;
  subject?: string;
  from?: { emailAddress?: { address?: string } };
  receivedDateTime?: string;
  parentFolderId?: string;
}

const SELECT = 'id,subject,from,receivedDateTime,parentFolderId';

export function createContinuousProtection(deps: {
  models: ContinuousModels;
  runner: ThreatScanRunner;
  directory: DirectoryService;
  policies: Pick<PolicyService, 'resolveFor' | 'tenantMode'>;
  quarantine: Pick<QuarantineService, 'hold'>;
  /** The Graph-connected tenants (continuous protection is automatic for them). */
  connections: { listConnected(): Promise<Array<{ tenantId: string }>>; isConnected(tenantId: string): Promise<boolean> };
  judge: MessageJudge;
  audit: AuditService;
  logger: Logger;
  now: () => Date;
  options?: ContinuousOptions;
}) {
  const { models, runner, directory, logger, now } = deps;
  const o = { roundMs: 60_000, pollMs: 5_000, concurrentMailboxes: 8, permissionRecheckMs: 15 * 60_000, ...deps.options };
  const state = createContinuousState({
    models,
    connected: (tenantId) => deps.connections.isConnected(tenantId),
    tenantMode: async (tenantId) => (await deps.policies.tenantMode(tenantId)) as TenantMode,
    api: (tenantId) => runner.api(tenantId),
    now,
    recheckMs: o.permissionRecheckMs,
  });
  const quarantineFolder = quarantineFolders(runner.models, runner.limiter);
  const active = new Map<string, Promise<void>>();
  const loop = createPollLoop({ pass: () => tick(), pollMs: o.pollMs, logger, failure: 'continuous protection loop failed' });

  /** Judges one new inbox message and applies the policy; false when it was handled before. */
  async function handle(api: GraphApi, tenantId: string, userId: string, recipient: string, m: DeltaEntry, canMove: boolean): Promise<void> {
    const _id = `${tenantId}:${userId}:${m.id}`;
    if (await models.detections.exists({ _id })) return;
    const sender = m.from?.emailAddress?.address?.toLowerCase() ?? '';
    const subject = { mailFrom: sender, headerFrom: sender || null, recipient };
    if (!(await deps.policies.resolveFor(tenantId, subject, 'clean')).scan) return; // Disabled: not judged
    const path = `/users/${encodeURIComponent(userId)}/messages/${encodeURIComponent(m.id)}`;
    let raw: Buffer;
    try {
      raw = await runner.limiter.run(userId, () => api.getBytes(`${path}/$value`, { headers: IMMUTABLE_IDS }));
    } catch (err) {
      if (err instanceof GraphRequestError && err.status === 404) return; // gone before we looked
      throw err;
    }
    const context = { tenantId, recipient, userId, messageId: m.id, source: 'graph' as const, receivedAt: m.receivedDateTime };
    const judgement = await deps.judge.judge(raw, context);
    await deps.judge.commit?.([{ context, judgement }]);
    if (judgement.verdict === 'clean') return;
    const { policy, action } = await deps.policies.resolveFor(tenantId, subject, judgement.verdict);
    const reasons = Array.isArray(judgement.evidence.reasons) ? (judgement.evidence.reasons as string[]) : [];
    let outcome: DetectionOutcome = 'recorded';
    let quarantineId: string | null = null;
    // Without Mail.ReadWrite Protect cannot move it: recorded, and the admin page names the permission.
    if (policy.mode === 'protect' && action === 'quarantine' && canMove) {
      const folder = await quarantineFolder(api, tenantId, userId);
      await runner.limiter.run(userId, () => api.post(`${path}/move`, { destinationId: folder }, { headers: IMMUTABLE_IDS }));
      quarantineId = await deps.quarantine.hold({
        tenantId,
        messageId: `graph:${userId}:${m.id}`,
        recipient,
        userId,
        mailFrom: sender,
        from: sender,
        subject: (m.subject ?? '').slice(0, 998),
        verdict: judgement.verdict,
        reasons,
        policyId: policy.id,
        clientIp: '',
        helo: '',
      });
      outcome = 'quarantined';
    } else if (policy.mode === 'protect' && action === 'deliver') outcome = 'delivered';
    // `tag` and `hold` are recorded: Graph cannot rewrite a received message's subject.
    const record: DetectionRecord = {
      _id,
      tenantId,
      userId,
      recipient,
      messageId: m.id,
      sender,
      subject: m.subject ?? '',
      receivedAt: m.receivedDateTime ? new Date(m.receivedDateTime) : null,
      verdict: judgement.verdict,
      reasons,
      mode: policy.mode === 'protect' ? 'protect' : 'monitor',
      policyId: policy.id,
      outcome,
      quarantineId,
      fromFolderId: m.parentFolderId ?? null,
      at: now(),
    };
    await insertIgnoringDuplicates(models.detections, [record]);
    if (outcome === 'quarantined')
      await deps.audit.record({
        tenantId,
        category: 'protection',
        action: 'protect.quarantine',
        actor: { type: 'system', id: null, email: null },
        target: { type: 'message', id: m.id, label: `${recipient}: ${m.subject ?? ''}` },
        after: { verdict: judgement.verdict, policyId: policy.id, quarantineId },
        ...SYSTEM_CONTEXT,
      });
  }

  /**
   * Ends a mailbox round: its next one at `next`, unless one was asked for while it ran (`dueNow` moved the time
   * the round started from): that one stays due instead of waiting a whole round (or a back-off) more.
   */
  async function finish(key: string, started: DeltaRecord | null, next: Date, fields: Partial<DeltaRecord>): Promise<void> {
    const pushed = await models.deltas.updateOne(started ? { _id: key, nextRoundAt: started.nextRoundAt } : { _id: key }, {
      $set: { ...fields, nextRoundAt: next },
    });
    // Asked for meanwhile: keep it due. (Switched off and forgotten: nothing matches, nothing is written back.)
    if (!pushed.matchedCount) await models.deltas.updateOne({ _id: key }, { $set: fields });
  }

  /** One mailbox round: from the stored link to the next deltaLink, the link saved after every page. */
  async function round(tenantId: string, userId: string, delta: DeltaRecord | null, enabledAt: Date, canMove: boolean): Promise<void> {
    const key = `${tenantId}:${userId}`;
    try {
      const { api } = await runner.api(tenantId);
      const user = await directory.getUser(tenantId, userId);
      const recipient = (user?.mail ?? user?.userPrincipalName ?? userId).toLowerCase();
      let link: string = delta?.link ?? `/users/${encodeURIComponent(userId)}/mailFolders/inbox/messages/delta?$select=${SELECT}`;
      for (;;) {
        const current = link;
        const page = await runner.limiter.run(userId, () =>
          api.get<{ value?: DeltaEntry[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string }>(current, { headers: IMMUTABLE_IDS }),
        );
        const fresh = (page.value ?? []).filter(
          // Mail received before it started is the Threat Scan's: filtered on every page, not only in the first
          // round, because a round killed mid-baseline resumes from a saved nextLink of that baseline.
          (m) => !m['@removed'] && m.receivedDateTime !== undefined && Date.parse(m.receivedDateTime) >= enabledAt.getTime(),
        );
        await Promise.all(fresh.map((m) => handle(api, tenantId, userId, recipient, m, canMove)));
        const next = page['@odata.nextLink'] ?? page['@odata.deltaLink'];
        if (!next) throw new Error('Graph answered a delta page without a next or delta link');
        link = next;
        await models.deltas.updateOne({ _id: key }, { $set: { link, updatedAt: now() } });
        if (!page['@odata.nextLink']) break;
      }
      await finish(key, delta, new Date(now().getTime() + o.roundMs), { failures: 0, lastError: null, lastRoundAt: now() });
    } catch (err) {
      const failures = (delta?.failures ?? 0) + 1;
      const backoff = Math.min(o.roundMs * 2 ** failures, 3_600_000);
      await finish(key, delta, new Date(now().getTime() + backoff), { failures, lastError: (err as Error).message, updatedAt: now() });
      logger.warn({ tenantId, userId, failures, err: (err as Error).message }, 'continuous protection: a mailbox round failed');
    }
  }

  /** Starts or stops following a tenant's mailboxes as its state says; the since-when resets when it stops. */
  async function activeSince(tenantId: string): Promise<{ since: Date; canMove: boolean } | null> {
    const s = await state.status(tenantId);
    if (!s.enabled) {
      if (s.settings?.enabledAt) {
        await models.settings.updateOne({ _id: tenantId }, { $set: { enabledAt: null } });
        await models.deltas.deleteMany({ tenantId });
      }
      return null;
    }
    if (s.settings?.enabledAt) return { since: s.settings.enabledAt, canMove: s.canRemediate };
    const since = now();
    await models.settings.updateOne({ _id: tenantId }, { $set: { enabledAt: since } }, { upsert: true });
    return { since, canMove: s.canRemediate };
  }

  async function tick(): Promise<void> {
    for (const { tenantId } of await deps.connections.listConnected()) {
      const on = await activeSince(tenantId);
      if (!on) continue;
      for (const userId of await directory.allUserIds(tenantId)) {
        if (!loop.running || active.size >= o.concurrentMailboxes) return;
        const key = `${tenantId}:${userId}`;
        if (active.has(key)) continue;
        await insertIgnoringDuplicates(models.deltas, [
          { _id: key, tenantId, userId, link: null, nextRoundAt: now(), failures: 0, lastError: null, updatedAt: now() },
        ]);
        const delta = await models.deltas.findById(key).lean<DeltaRecord>();
        if (!delta || delta.nextRoundAt > now()) continue;
        const lease = `delta:${key}`;
        if (!(await runner.claimLease(lease))) continue;
        // Read before the lease was taken: another node may have run this round and released its lease since.
        // Read again under the lease, or the round runs twice from the old link and judges its mail again.
        const current = await models.deltas.findById(key).lean<DeltaRecord>();
        if (!current || current.nextRoundAt > now()) {
          await runner.releaseLease(lease);
          continue;
        }
        const work = round(tenantId, userId, current, on.since, on.canMove).finally(() => {
          active.delete(key);
          return runner.releaseLease(lease);
        });
        active.set(key, work);
      }
    }
  }

  return {
    /** On or off and why, the missing permission if any, the last finished round and the mailboxes followed. */
    async settings(tenantId: string) {
      const { settings: s, ...status } = await state.status(tenantId);
      const mailboxes = await models.deltas.find({ tenantId }, { userId: 1, lastRoundAt: 1, failures: 1, lastError: 1, _id: 0 }).lean<DeltaRecord[]>();
      const last = Math.max(0, ...mailboxes.map((m) => m.lastRoundAt?.getTime() ?? 0));
      return {
        ...status,
        enabledAt: status.enabled ? (s?.enabledAt?.toISOString() ?? null) : null,
        lastPassAt: last ? new Date(last).toISOString() : null,
        // Off follows nothing: a pass that was already running when it was switched off may still write a
        // mailbox's record back (the next switch-on starts it from a fresh baseline).
        mailboxes: status.enabled ? mailboxes.length : 0,
        failing: status.enabled ? mailboxes.filter((m) => m.failures > 0).map((m) => ({ userId: m.userId, error: m.lastError })) : [],
      };
    },
    /** An administrator's explicit choice: on (needs Mail.Read now), or off (opted out; forgets the delta links). */
    async setEnabled(by: AdminIdentity, enabled: boolean, context: AuditContext) {
      if (enabled) {
        const { api, clientId } = await runner.api(by.tenantId);
        await viaGraph(() => requirePermission(api, clientId, 'scan'));
      }
      const before = await models.settings.findById(by.tenantId).lean();
      await models.settings.updateOne({ _id: by.tenantId }, { $set: { enabled, updatedAt: now(), updatedBy: by.email } }, { upsert: true });
      if (!enabled) {
        await models.settings.updateOne({ _id: by.tenantId }, { $set: { enabledAt: null } });
        await models.deltas.deleteMany({ tenantId: by.tenantId });
      } else await state.checkPermissions(by.tenantId, true);
      await deps.audit.record({
        tenantId: by.tenantId,
        category: 'protection',
        action: enabled ? 'continuous.enable' : 'continuous.disable',
        actor: adminActor(by),
        target: { type: 'tenant', id: by.tenantId, label: 'continuous protection' },
        before: { enabled: before?.enabled ?? null },
        after: { enabled },
        ...context,
      });
      if (enabled) loop.wake();
      return this.settings(by.tenantId);
    },
    async detections(tenantId: string, limit = 100) {
      const rows = await models.detections.find({ tenantId }).sort({ at: -1 }).limit(limit).lean<DetectionRecord[]>();
      return rows.map(({ _id, ...r }) => ({ ...r, id: _id, receivedAt: r.receivedAt?.toISOString() ?? null, at: r.at.toISOString() }));
    },
    start: () => loop.start(),
    async stop(): Promise<void> {
      await loop.stop();
      await Promise.all(active.values());
    },
    /** Looks for due mailboxes now (tests, and after switching on). */
    wake: () => loop.wake(),
    /** Makes every mailbox of the tenant due now (tests: "shortly after delivery" without waiting a round). */
    async dueNow(tenantId: string) {
      await models.deltas.updateMany({ tenantId }, { $set: { nextRoundAt: now() } });
      loop.wake();
    },
  };
}
export type ContinuousProtection = ReturnType<typeof createContinuousProtection>;
