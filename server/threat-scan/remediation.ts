/**
 * Remove Threats and its undo. A remediation is one record listing its messages; each message is done
 * once (its item `<remediation>:<message>` claimed by insert), through the per-mailbox limiter, and
 * audited per message. softDelete moves to the mailbox's "Lifeboat Quarantine" folder (created once),
 * junk to Junk Email, hardDelete is Graph's permanentDelete (not recoverable: needs confirm: true);
 * undo moves quarantined and junked messages back to the folder they were in. A running remediation a
 * stopped process left is finished by the next one (resumePending).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditContext } from '../audit/context';
import { SYSTEM_CONTEXT } from '../audit/context';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import { claimByInsert } from '../db/claims';
import type { GraphApi } from '../directory/graph/client';
import { viaGraph } from '../directory/graph/index';
import { conflict, unprocessable } from '../http/problem';
import type { Verdict } from './judge';
import { quarantineFolders } from './folders';
import { IMMUTABLE_IDS } from './mailbox-scan';
import type { Location, MessageRecord, RemediationAction, RemediationRecord } from './model';
import { requirePermission } from './permissions';
import type { ThreatScanRunner } from './service';

export interface RemediateInput {
  ids?: string[];
  verdicts?: Verdict[];
  action: 'softDelete' | 'junk' | 'hardDelete';
  confirm?: boolean;
}

export interface RemediationView {
  id: string;
  scanId: string;
  action: RemediationAction;
  state: 'running' | 'finished';
  total: number;
  done: number;
  failed: number;
  errors: { id: string; error: string }[];
  createdAt: string;
  finishedAt: string | null;
}

export function createRemediation(deps: {
  runner: ThreatScanRunner;
  audit: AuditService;
  logger: Logger;
  now: () => Date;
  onFinished: (view: RemediationView, tenantId: string) => Promise<void>;
}) {
  const { runner, audit, logger, now } = deps;
  const { models, limiter } = runner;
  const inFlight = new Set<Promise<void>>();
  const quarantineFolder = quarantineFolders(models, limiter);

  async function view(r: RemediationRecord): Promise<RemediationView> {
    const items = await models.items.find({ remediationId: r._id }).lean();
    return {
      id: r._id,
      scanId: r.scanId,
      action: r.action,
      state: r.state,
      total: r.messageIds.length,
      done: items.filter((i) => i.ok === true).length,
      failed: items.filter((i) => i.ok === false).length,
      errors: items.filter((i) => i.ok === false).map((i) => ({ id: i._id.slice(r._id.length + 1), error: i.error ?? '' })),
      createdAt: r.createdAt.toISOString(),
      finishedAt: r.finishedAt?.toISOString() ?? null,
    };
  }

  async function one(api: GraphApi, r: RemediationRecord, m: MessageRecord): Promise<void> {
    const user = encodeURIComponent(m.userId);
    const path = `/users/${user}/messages/${encodeURIComponent(m.messageId)}`;
    const move = async (destinationId: string) =>
      (await limiter.run(m.userId, () => api.post<{ parentFolderId?: string }>(`${path}/move`, { destinationId }, { headers: IMMUTABLE_IDS })))
        .parentFolderId ?? destinationId;
    let location: Location;
    let parentFolderId: string | null = m.parentFolderId;
    let folderBefore = m.folderBefore;
    if (r.action === 'hardDelete') {
      await limiter.run(m.userId, () => api.post(`${path}/permanentDelete`, {}));
      location = 'purged';
    } else if (r.action === 'undo') {
      parentFolderId = await move(m.folderBefore ?? 'inbox');
      location = 'mailbox';
      folderBefore = null;
    } else {
      const destination = r.action === 'junk' ? 'junkemail' : await quarantineFolder(api, r.tenantId, m.userId);
      if (m.location === 'mailbox') folderBefore = m.parentFolderId;
      parentFolderId = await move(destination);
      location = r.action === 'junk' ? 'junk' : 'quarantine';
    }
    const lastAction = { action: r.action, at: now(), by: r.createdBy.email };
    await models.messages.updateOne({ _id: m._id }, { $set: { location, parentFolderId, folderBefore, lastAction } });
  }

  async function run(r: RemediationRecord): Promise<void> {
    const creds = await runner.api(r.tenantId);
    const actor = r.createdBy.id
      ? ({ type: 'admin', id: r.createdBy.id, email: r.createdBy.email } as const)
      : { type: 'system' as const, id: null, email: null };
    const messages = await models.messages.find({ scanId: r.scanId, messageId: { $in: r.messageIds } }).lean<MessageRecord[]>();
    await Promise.all(
      messages.map(async (m) => {
        const itemId = `${r._id}:${m.messageId}`;
        const existing = await models.items.findById(itemId).lean();
        if (existing?.ok !== null && existing?.ok !== undefined) return;
        if (!existing) await claimByInsert(models.items, { _id: itemId, remediationId: r._id, ok: null, error: null });
        let error: string | null = null;
        try {
          await one(creds.api, r, m);
        } catch (err) {
          error = (err as Error).message;
        }
        await models.items.updateOne({ _id: itemId }, { $set: { ok: error === null, error } });
        await audit.record({
          tenantId: r.tenantId,
          category: 'protection',
          action: `remediate.${r.action}`,
          actor,
          target: { type: 'message', id: m.messageId, label: `${m.recipient}: ${m.subject}` },
          before: { location: m.location, verdict: m.verdict },
          after: error === null ? { ok: true } : { ok: false, error },
          ...SYSTEM_CONTEXT,
        });
        runner.emit({ tenantId: r.tenantId, kind: 'remediation', body: await view(r) });
      }),
    );
    await models.remediations.updateOne({ _id: r._id }, { $set: { state: 'finished', finishedAt: now() } });
    const finished = await view({ ...r, state: 'finished', finishedAt: now() });
    runner.emit({ tenantId: r.tenantId, kind: 'remediation', body: finished });
    if (await claimByInsert(models.markers, { _id: `${r._id}:notified`, at: now() })) await deps.onFinished(finished, r.tenantId);
  }

  function launch(r: RemediationRecord): void {
    const p = run(r)
      .catch((err) => logger.error({ err, remediationId: r._id }, 'threat scan: a remediation failed'))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  async function create(by: AdminIdentity, scanId: string, action: RemediationAction, messageIds: string[], context: AuditContext): Promise<RemediationView> {
    const r: RemediationRecord = {
      _id: randomUUID(),
      tenantId: by.tenantId,
      scanId,
      action,
      messageIds,
      state: 'running',
      createdAt: now(),
      createdBy: { id: by.adminId, email: by.email },
      finishedAt: null,
    };
    await models.remediations.create(r);
    await audit.record({
      tenantId: by.tenantId,
      category: 'protection',
      action: action === 'undo' ? 'undo' : 'remediate',
      actor: adminActor(by),
      target: { type: 'threatScan', id: scanId, label: null },
      after: { remediationId: r._id, action, messages: messageIds.length },
      ...context,
    });
    launch(r);
    return view(r);
  }

  async function requireWrite(tenantId: string): Promise<void> {
    const { api, clientId } = await runner.api(tenantId);
    await viaGraph(() => requirePermission(api, clientId, 'remediate'));
  }

  return {
    async remediate(by: AdminIdentity, scanId: string, input: RemediateInput, context: AuditContext): Promise<RemediationView> {
      await runner.getScan(by.tenantId, scanId);
      if (input.action === 'hardDelete' && input.confirm !== true)
        throw unprocessable([{ path: 'confirm', message: 'must be true: a hard delete (permanentDelete) cannot be undone and users cannot recover the mail' }]);
      await requireWrite(by.tenantId);
      const filter: Record<string, unknown> = { scanId, location: { $ne: 'purged' } };
      if (input.ids) filter.messageId = { $in: input.ids };
      else filter.verdict = { $in: input.verdicts ?? ['spam', 'phishing', 'malware', 'spoof', 'impersonation'] };
      const messages = await models.messages.find(filter, { messageId: 1, verdict: 1 }).lean<MessageRecord[]>();
      if (input.ids) {
        const found = new Set(messages.map((m) => m.messageId));
        const missing = input.ids.map((id, i) => ({ id, i })).filter(({ id }) => !found.has(id));
        if (missing.length)
          throw unprocessable(missing.map(({ i }) => ({ path: `ids.${i}`, message: 'is not a message of this scan that can still be remediated' })));
      }
      if (!messages.length) throw conflict('No message of this scan matches: nothing to remove.');
      return create(
        by,
        scanId,
        input.action,
        messages.map((m) => m.messageId),
        context,
      );
    },

    async undo(by: AdminIdentity, scanId: string, ids: string[] | undefined, context: AuditContext): Promise<RemediationView> {
      await runner.getScan(by.tenantId, scanId);
      await requireWrite(by.tenantId);
      const filter: Record<string, unknown> = { scanId, location: { $in: ['quarantine', 'junk'] } };
      if (ids) filter.messageId = { $in: ids };
      const messages = await models.messages.find(filter, { messageId: 1 }).lean<MessageRecord[]>();
      if (!messages.length) throw conflict('No message of this scan is in quarantine or junk: nothing to undo.');
      return create(
        by,
        scanId,
        'undo',
        messages.map((m) => m.messageId),
        context,
      );
    },

    async get(tenantId: string, scanId: string, id: string): Promise<RemediationView> {
      const r = await models.remediations.findById(id).lean<RemediationRecord>();
      if (!r || r.tenantId !== tenantId || r.scanId !== scanId) throw unprocessable([{ path: 'remediationId', message: 'is not a remediation of this scan' }]);
      return view(r);
    },

    async list(tenantId: string, scanId: string): Promise<RemediationView[]> {
      const rs = await models.remediations.find({ tenantId, scanId }).sort({ createdAt: -1 }).lean<RemediationRecord[]>();
      return Promise.all(rs.map(view));
    },

    /** Remediations a stopped process left running are finished now (done items are not redone). */
    async resumePending(): Promise<void> {
      for (const r of await models.remediations.find({ state: 'running' }).lean<RemediationRecord[]>()) launch(r);
    },

    async settled(): Promise<void> {
      await Promise.all([...inFlight]);
    },
  };
}
export type Remediation = ReturnType<typeof createRemediation>;
