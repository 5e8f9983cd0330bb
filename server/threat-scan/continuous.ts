/**
 * Continuous protection after the Threat Scan: for a tenant that switched it on, each mailbox's inbox is
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

export interface ContinuousOptions {
  /** How often each mailbox's inbox is asked for what is new. */
  roundMs?: number;
  /** The loop's sleep between looks for due mailboxes. */
  pollMs?: number;
  concurrentMailboxes?: number;
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
  policies: Pick<PolicyService, 'resolveFor'>;
  quarantine: Pick<QuarantineService, 'hold'>;
  judge: MessageJudge;
  audit: AuditService;
  logger: Logger;
  now: () => Date;
  options?: ContinuousOptions;
}) {
  const { models, runner, directory, logger, now } = deps;
  const o = { roundMs: 60_000, pollMs: 5_000, concurrentMailboxes: 8, ...deps.options };
  const quarantineFolder = quarantineFolders(runner.models, runner.limiter);
  const active = new Map<string, Promise<void>>();
  const loop = createPollLoop({ pass: () => tick(), pollMs: o.pollMs, logger, failure: 'continuous protection loop failed' });

  /** Judges one new inbox message and applies the policy; false when it was handled before. */
  async function handle(api: GraphApi, tenantId: string, userId: string, recipient: string, m: DeltaEntry): Promise<void> {
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
    const context = { tenantId, recipient, userId, messageId: m.id, source: 'graph' as const };
    const judgement = await deps.judge.judge(raw, context);
    await deps.judge.commit?.([{ context, judgement }]);
    if (judgement.verdict === 'clean') return;
    const { policy, action } = await deps.policies.resolveFor(tenantId, subject, judgement.verdict);
    const reasons = Array.isArray(judgement.evidence.reasons) ? (judgement.evidence.reasons as string[]) : [];
    let outcome: DetectionOutcome = 'recorded';
    let quarantineId: string | null = null;
    if (policy.mode === 'protect' && action === 'quarantine') {
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

  /** One mailbox round: from the stored link to the next deltaLink, the link saved after every page. */
  async function round(tenantId: string, userId: string, state: DeltaRecord | null, enabledAt: Date): Promise<void> {
    const key = `${tenantId}:${userId}`;
    try {
      const { api } = await runner.api(tenantId);
      const user = await directory.getUser(tenantId, userId);
      const recipient = (user?.mail ?? user?.userPrincipalName ?? userId).toLowerCase();
      let link: string = state?.link ?? `/users/${encodeURIComponent(userId)}/mailFolders/inbox/messages/delta?$select=${SELECT}`;
      const baseline = !state?.link;
      for (;;) {
        const current = link;
        const page = await runner.limiter.run(userId, () =>
          api.get<{ value?: DeltaEntry[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string }>(current, { headers: IMMUTABLE_IDS }),
        );
        const fresh = (page.value ?? []).filter(
          (m) => !m['@removed'] && (!baseline || (m.receivedDateTime !== undefined && Date.parse(m.receivedDateTime) >= enabledAt.getTime())),
        );
        await Promise.all(fresh.map((m) => handle(api, tenantId, userId, recipient, m)));
        const next = page['@odata.nextLink'] ?? page['@odata.deltaLink'];
        if (!next) throw new Error('Graph answered a delta page without a next or delta link');
        link = next;
        await models.deltas.updateOne({ _id: key }, { $set: { link, updatedAt: now() } });
        if (!page['@odata.nextLink']) break;
      }
      await models.deltas.updateOne({ _id: key }, { $set: { nextRoundAt: new Date(now().getTime() + o.roundMs), failures: 0, lastError: null } });
    } catch (err) {
      const failures = (state?.failures ?? 0) + 1;
      const backoff = Math.min(o.roundMs * 2 ** failures, 3_600_000);
      await models.deltas.updateOne(
        { _id: key },
        { $set: { failures, lastError: (err as Error).message, nextRoundAt: new Date(now().getTime() + backoff), updatedAt: now() } },
      );
      logger.warn({ tenantId, userId, failures, err: (err as Error).message }, 'continuous protection: a mailbox round failed');
    }
  }

  async function tick(): Promise<void> {
    const tenants = await models.settings.find({ enabled: true }).lean();
    for (const t of tenants) {
      for (const userId of await directory.allUserIds(t._id)) {
        if (!loop.running || active.size >= o.concurrentMailboxes) return;
        const key = `${t._id}:${userId}`;
        if (active.has(key)) continue;
        await insertIgnoringDuplicates(models.deltas, [
          { _id: key, tenantId: t._id, userId, link: null, nextRoundAt: now(), failures: 0, lastError: null, updatedAt: now() },
        ]);
        const state = await models.deltas.findById(key).lean<DeltaRecord>();
        if (!state || state.nextRoundAt > now()) continue;
        const lease = `delta:${key}`;
        if (!(await runner.claimLease(lease))) continue;
        const work = round(t._id, userId, state, t.enabledAt ?? now()).finally(() => {
          active.delete(key);
          return runner.releaseLease(lease);
        });
        active.set(key, work);
      }
    }
  }

  return {
    async settings(tenantId: string) {
      const s = await models.settings.findById(tenantId).lean();
      const mailboxes = await models.deltas.find({ tenantId }, { userId: 1, updatedAt: 1, failures: 1, lastError: 1, _id: 0 }).lean();
      return {
        enabled: s?.enabled ?? false,
        enabledAt: s?.enabledAt?.toISOString() ?? null,
        mailboxes: mailboxes.length,
        failing: mailboxes.filter((m) => m.failures > 0).map((m) => ({ userId: m.userId, error: m.lastError })),
      };
    },
    async setEnabled(by: AdminIdentity, enabled: boolean, context: AuditContext) {
      if (enabled) {
        const { api, clientId } = await runner.api(by.tenantId);
        await viaGraph(() => requirePermission(api, clientId, 'scan'));
      }
      const before = await models.settings.findById(by.tenantId).lean();
      // Switching on again starts from what is new then; switching off forgets the delta links.
      const enabledAt = enabled ? (before?.enabled ? before.enabledAt : now()) : null;
      await models.settings.updateOne({ _id: by.tenantId }, { $set: { enabled, enabledAt, updatedAt: now(), updatedBy: by.email } }, { upsert: true });
      if (!enabled || !before?.enabled) await models.deltas.deleteMany({ tenantId: by.tenantId });
      await deps.audit.record({
        tenantId: by.tenantId,
        category: 'protection',
        action: enabled ? 'continuous.enable' : 'continuous.disable',
        actor: adminActor(by),
        target: { type: 'tenant', id: by.tenantId, label: 'continuous protection' },
        before: { enabled: before?.enabled ?? false },
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
