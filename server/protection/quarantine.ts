/**
 * The quarantine: copies held by a policy, per message and recipient. Admins list, preview, release
 * (rescanned first; released once, by a claim insert; delivered by the mail side) and delete; users see
 * their own held copies and ask for a release, which an admin approves. Every decision is audited.
 * A copy continuous protection moved to a mailbox's quarantine folder (`graph:` message ids) is read and
 * released through the mailbox source the Threat Scan plugs in: released = moved back to its folder.
 */
import type { AuditContext } from '../audit/context';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import { claimByInsert, insertIgnoringDuplicates } from '../db/claims';
import { decodeCursor, keysetPage, olderThan } from '../db/cursor';
import { conflict, HttpProblem, notFound } from '../http/problem';
import type { UserIdentity } from '../user-auth/identity';
import type { Judge } from './judge';
import type { MailSide } from './mail-side';
import type { ProtectionModels, QuarantineRecord } from './model';
import { previewOf } from './preview';
import type { VerdictStore } from './verdicts';
import type { VerdictKind } from './verdict';

export interface QuarantineHold {
  tenantId: string;
  messageId: string;
  recipient: string;
  userId: string | null;
  mailFrom: string;
  from: string;
  subject: string;
  verdict: VerdictKind;
  reasons: string[];
  policyId: string;
  /** The connection the message came from, kept for the rescan's SPF check. */
  clientIp: string;
  helo: string;
}

export interface QuarantineFilter {
  verdict?: VerdictKind;
  recipient?: string;
  cursor?: string;
  limit?: number;
}

/** Quarantined copies are kept this long (longer than the mailbox's retention), then swept. */
export const QUARANTINE_RETENTION_DAYS = 30;

export const quarantineId = (tenantId: string, messageId: string, recipient: string) => `${tenantId}:${messageId}:${recipient.toLowerCase()}`;

type Row = QuarantineRecord;

const toEntry = (r: Row) => ({
  id: r._id,
  messageId: r.messageId,
  recipient: r.recipient,
  mailFrom: r.mailFrom,
  from: r.from,
  subject: r.subject,
  verdict: r.verdict,
  reasons: r.reasons,
  policyId: r.policyId,
  at: r.at.toISOString(),
  status: r.status,
  releaseRequests: (r.releaseRequests ?? []).map((q) => ({ userId: q.userId, email: q.email, reason: q.reason, at: q.at.toISOString() })),
  decidedAt: r.decidedAt?.toISOString() ?? null,
  decidedBy: r.decidedBy ?? null,
  decisionReason: r.decisionReason ?? null,
});
export type QuarantineEntry = ReturnType<typeof toEntry>;

export interface QuarantineDeps {
  models: ProtectionModels;
  verdicts: VerdictStore;
  judge: Judge;
  mail: MailSide;
  audit: AuditService;
  now?: () => Date;
  /** Days quarantined copies are kept (default QUARANTINE_RETENTION_DAYS). */
  retentionDays?: number;
}

/** Messages held in a user's mailbox through Graph (server/threat-scan/release.ts), plugged in after composition. */
export interface MailboxSource {
  readRaw(tenantId: string, messageId: string): Promise<Buffer | null>;
  moveBack(tenantId: string, messageId: string): Promise<{ moved: boolean; folderId: string }>;
}

const inMailbox = (messageId: string) => messageId.startsWith('graph:');

export function createQuarantineService(deps: QuarantineDeps) {
  const { quarantine, releases } = deps.models;
  const now = deps.now ?? (() => new Date());
  let mailbox: MailboxSource | null = null;
  const readRaw = (tenantId: string, messageId: string) =>
    inMailbox(messageId) ? (mailbox?.readRaw(tenantId, messageId) ?? Promise.resolve(null)) : deps.mail.readRaw(tenantId, messageId);

  async function row(tenantId: string, id: string): Promise<Row> {
    const found = await quarantine.findById(id).lean<Row>();
    if (!found || found.tenantId !== tenantId || found.status === 'deleted') throw notFound('quarantined message');
    return found;
  }

  async function page(filter: Record<string, unknown>, options: QuarantineFilter) {
    const limit = Math.min(options.limit ?? 50, 200);
    const conditions: Record<string, unknown>[] = [filter];
    if (options.cursor) conditions.push(olderThan('at', decodeCursor(options.cursor, 'string')));
    const rows = await quarantine
      .find({ $and: conditions })
      .sort({ at: -1, _id: -1 })
      .limit(limit + 1)
      .lean<Row[]>();
    const { page: items, nextCursor } = keysetPage(rows, limit, (r) => [r.at, r._id]);
    return { items: items.map(toEntry), nextCursor };
  }

  /** Holds copies in one insert (idempotent: an entry already held stays as it is). Returns their ids, in order. */
  async function holdMany(holds: QuarantineHold[]): Promise<string[]> {
    const at = now();
    const rows = holds.map((h) => ({
      _id: quarantineId(h.tenantId, h.messageId, h.recipient),
      ...h,
      recipient: h.recipient.toLowerCase(),
      at,
      status: 'held' as const,
      releaseRequests: [],
      decidedAt: null,
      decidedBy: null,
      decisionReason: null,
    }));
    await insertIgnoringDuplicates(quarantine, rows);
    return rows.map((r) => r._id);
  }

  const audited = (tenantId: string, actor: ReturnType<typeof adminActor>, action: string, entry: Row, ctx: AuditContext, after: unknown = null) =>
    deps.audit.record({
      tenantId,
      category: 'protection',
      action,
      actor,
      target: { type: 'quarantine', id: entry._id, label: entry.subject || entry.messageId },
      after,
      ...ctx,
    });

  return {
    useMailboxSource(source: MailboxSource): void {
      mailbox = source;
    },
    /** Holds one recipient's copy (idempotent: the mail path may call it again after a crash). */
    async hold(h: QuarantineHold): Promise<string> {
      return (await holdMany([h]))[0]!;
    },
    holdMany,

    list(tenantId: string, options: QuarantineFilter) {
      const filter: Record<string, unknown> = { tenantId, status: 'held' };
      if (options.verdict) filter.verdict = options.verdict;
      if (options.recipient) filter.recipient = options.recipient.toLowerCase();
      return page(filter, options);
    },

    async get(tenantId: string, id: string) {
      const entry = await row(tenantId, id);
      const [raw, verdict] = await Promise.all([readRaw(tenantId, entry.messageId).catch(() => null), deps.verdicts.get(tenantId, entry.messageId)]);
      return { ...toEntry(entry), evidence: verdict?.evidence ?? null, preview: raw ? await previewOf(raw) : null };
    },

    /** Rescans, then releases once: a second release (or a race) finds the claim and gets 409. */
    async release(admin: AdminIdentity, id: string, input: { reason: string; force?: boolean }, ctx: AuditContext) {
      const entry = await row(admin.tenantId, id);
      if (entry.status !== 'held') throw conflict('This message has already been released.');
      const raw = await readRaw(admin.tenantId, entry.messageId);
      if (!raw) throw conflict('The message is no longer stored (retention); it cannot be released.');
      const rescan = await deps.judge(
        { tenantId: admin.tenantId, raw },
        { mailFrom: entry.mailFrom, rcptTo: [entry.recipient], clientIp: entry.clientIp || '0.0.0.0', helo: entry.helo },
      );
      if (rescan.verdict === 'malware' && !input.force) {
        throw new HttpProblem(409, 'Conflict', `The rescan still finds malware (${rescan.reasons[0]}). Release with force to deliver it anyway.`, { rescan });
      }
      const by = admin.email;
      // The first releaser is recorded once; a retry after a failed delivery (or a concurrent release) calls
      // deliverReleased again with the same releaseId, which the mail side delivers at most once.
      await claimByInsert(releases, { _id: id, tenantId: admin.tenantId, by, at: now() });
      let movedBack: { moved: boolean; folderId: string } | null = null;
      // In a mailbox: moved back to its folder (not moved again when already there; deleted by the user → 410).
      if (inMailbox(entry.messageId)) {
        if (!mailbox) throw new HttpProblem(503, 'Service Unavailable', 'Mailbox releases are not composed in this server.');
        movedBack = await mailbox.moveBack(admin.tenantId, entry.messageId);
      } else
        try {
          await deps.mail.deliverReleased({
            releaseId: id,
            tenantId: admin.tenantId,
            messageId: entry.messageId,
            recipient: entry.recipient,
            userId: entry.userId,
            releasedBy: by,
            rescan,
          });
        } catch (err) {
          throw new HttpProblem(503, 'Service Unavailable', `The release is recorded but could not be delivered yet: ${(err as Error).message}. Try again.`);
        }
      await quarantine.updateOne({ _id: id }, { $set: { status: 'released', decidedAt: now(), decidedBy: by, decisionReason: input.reason } });
      await audited(admin.tenantId, adminActor(admin), 'quarantine.release', entry, ctx, {
        reason: input.reason,
        rescan: rescan.verdict,
        force: Boolean(input.force),
        ...(movedBack ? { movedBack: movedBack.moved, folderId: movedBack.folderId } : {}),
      });
      return { ...toEntry(await row(admin.tenantId, id)), rescan };
    },

    async remove(admin: AdminIdentity, id: string, ctx: AuditContext): Promise<void> {
      const entry = await row(admin.tenantId, id);
      await quarantine.updateOne({ _id: id }, { $set: { status: 'deleted', decidedAt: now(), decidedBy: admin.email } });
      await audited(admin.tenantId, adminActor(admin), 'quarantine.delete', entry, ctx);
    },

    /**
     * Removes entries (and their release claims) older than the quarantine retention. The raw message is the
     * mail side's: its retention keeps a message while a held entry names it (heldMessageIds), so a
     * quarantined message lives as long as the longer of the tenant's mail retention and this one.
     */
    async sweep(retentionDays = deps.retentionDays ?? QUARANTINE_RETENTION_DAYS): Promise<number> {
      const cutoff = new Date(now().getTime() - retentionDays * 24 * 60 * 60 * 1000);
      const old = await quarantine.find({ at: { $lt: cutoff } }, { _id: 1 }).lean<{ _id: string }[]>();
      if (!old.length) return 0;
      const ids = old.map((r) => r._id);
      await quarantine.deleteMany({ _id: { $in: ids } });
      await releases.deleteMany({ _id: { $in: ids } });
      return ids.length;
    },

    /** The messages with a held copy in a tenant's quarantine (mail retention keeps them; a sweep's scan). */
    async heldMessageIds(tenantId: string): Promise<string[]> {
      const rows = await quarantine.find({ tenantId, status: 'held' }, { messageId: 1 }).lean<{ messageId: string }[]>();
      return [...new Set(rows.map((r) => r.messageId))];
    },

    /** A user's own held copies. */
    listMine(user: UserIdentity, options: QuarantineFilter) {
      const mine: Record<string, unknown>[] = [{ userId: user.userId }];
      if (user.email) mine.push({ recipient: user.email.toLowerCase() });
      return page({ tenantId: user.tenantId, status: 'held', $or: mine }, options);
    },

    async requestRelease(user: UserIdentity, id: string, reason: string, ctx: AuditContext) {
      const entry = await row(user.tenantId, id);
      const own = entry.userId === user.userId || (user.email !== null && entry.recipient === user.email.toLowerCase());
      if (!own) throw notFound('quarantined message');
      if (entry.status !== 'held') throw conflict('This message has already been released.');
      if (!(entry.releaseRequests ?? []).some((r) => r.userId === user.userId)) {
        await quarantine.updateOne({ _id: id }, { $push: { releaseRequests: { userId: user.userId, email: user.email, reason, at: now() } } });
        await deps.audit.record({
          tenantId: user.tenantId,
          category: 'protection',
          action: 'quarantine.releaseRequest',
          actor: { type: 'user', id: user.userId, email: user.email },
          target: { type: 'quarantine', id, label: entry.subject || entry.messageId },
          after: { reason },
          ...ctx,
        });
      }
      return toEntry(await row(user.tenantId, id));
    },
  };
}
export type QuarantineService = ReturnType<typeof createQuarantineService>;
