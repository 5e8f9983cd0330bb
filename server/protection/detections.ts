/**
 * The detections log: every verdict the pipeline stored and every message a user reported as phishing,
 * newest first in one keyset page (the two collections merged on (time, id)), as CSV (formula- and
 * `;`-safe, with a BOM), verdicts per hour over 24 h / 7 days, and the threat figures of an event's
 * window. Reads verdicts; writes only the users' phishing reports (audited).
 */
import type { AuditContext } from '../audit/context';
import type { AuditService } from '../audit/service';
import { csvHeader, csvRow } from '../audit/csv';
import { claimByInsert } from '../db/claims';
import { decodeCursor, encodeCursor, olderThan } from '../db/cursor';
import type { UserIdentity } from '../user-auth/identity';
import type { PhishingReportModel, PhishingReportRecord } from './detections-model';
import type { ProtectionModels, VerdictRecord } from './model';
import { VERDICTS, type VerdictKind } from './verdict';

export interface DetectionFilter {
  /** A verdict, or `threats` (every verdict but clean). */
  verdict?: VerdictKind | 'threats';
  /** Only judgements (`verdict`) or only the users' reports (`report`). */
  kind?: 'verdict' | 'report';
  from?: Date;
  to?: Date;
  cursor?: string;
  limit?: number;
}

export interface Detection {
  id: string;
  kind: 'verdict' | 'report';
  at: string;
  verdict: VerdictKind | null;
  /** What routing did with the copies (verdicts; empty until placed). */
  actions: string[];
  mailFrom: string;
  from: string;
  subject: string;
  recipients: string[];
  reasons: string[];
  score: number | null;
  auth: { spf: string; dkim: string; dmarc: string; arc: string } | null;
  /** For a report: who reported it and what they said. */
  reportedBy: string | null;
  comment: string;
  /** How the message reached the scanner: `smtp` (through Lifeboat), `graph` (read from a mailbox), `report`. */
  source: 'smtp' | 'graph' | 'report';
  /** When it was received: the mailbox's time for Graph verdicts, the judging time for SMTP ones. */
  receivedAt: string;
}

/** What the message a user reports looked like to them (the mailbox's read view). */
export interface ReportedMessage {
  id: string;
  from: string;
  to: string[];
  subject: string;
  security?: { verdict?: string | null } | null;
}

const MAX_PAGE = 200;
const EXPORT_LIMIT = 50_000;

const fromVerdict = (r: VerdictRecord): Detection => ({
  id: r._id,
  kind: 'verdict',
  at: r.judgedAt.toISOString(),
  verdict: r.verdict,
  actions: r.actions ?? [],
  mailFrom: r.mailFrom ?? '',
  from: r.from ?? '',
  subject: r.subject ?? '',
  recipients: r.recipients ?? [],
  reasons: r.reasons ?? [],
  score: r.evidence?.rspamd?.score ?? null,
  auth: r.evidence?.auth ? { spf: r.evidence.auth.spf, dkim: r.evidence.auth.dkim, dmarc: r.evidence.auth.dmarc, arc: r.evidence.auth.arc } : null,
  reportedBy: null,
  comment: '',
  source: r.source ?? 'smtp',
  receivedAt: (r.receivedAt ?? r.judgedAt).toISOString(),
});

const fromReport = (r: PhishingReportRecord): Detection => ({
  id: r._id,
  kind: 'report',
  at: r.at.toISOString(),
  verdict: (VERDICTS as readonly string[]).includes(r.verdict ?? '') ? (r.verdict as VerdictKind) : null,
  actions: [],
  mailFrom: '',
  from: r.from,
  subject: r.subject,
  recipients: r.recipients,
  reasons: ['reported as phishing by a user'],
  score: null,
  auth: null,
  reportedBy: r.email ?? r.userId,
  comment: r.comment,
  source: 'report',
  receivedAt: r.at.toISOString(),
});

function timeRange(field: string, f: DetectionFilter): Record<string, unknown>[] {
  const range: Record<string, Date> = {};
  if (f.from) range.$gte = f.from;
  if (f.to) range.$lt = f.to;
  return Object.keys(range).length ? [{ [field]: range }] : [];
}

export function createDetections(deps: { models: ProtectionModels; reports: PhishingReportModel; audit: AuditService; now?: () => Date }) {
  const { verdicts } = deps.models;
  const now = deps.now ?? (() => new Date());

  async function verdictRows(tenantId: string, f: DetectionFilter, limit: number): Promise<Detection[]> {
    if (f.kind === 'report') return [];
    const and: Record<string, unknown>[] = [{ tenantId }, ...timeRange('judgedAt', f)];
    if (f.verdict === 'threats') and.push({ verdict: { $ne: 'clean' } });
    else if (f.verdict) and.push({ verdict: f.verdict });
    if (f.cursor) and.push(olderThan('judgedAt', decodeCursor(f.cursor, 'string')));
    const rows = await verdicts
      .find(
        { $and: and },
        {
          evidence: 1,
          tenantId: 1,
          messageId: 1,
          verdict: 1,
          reasons: 1,
          judgedAt: 1,
          mailFrom: 1,
          from: 1,
          subject: 1,
          recipients: 1,
          actions: 1,
          source: 1,
          receivedAt: 1,
        },
      )
      .sort({ judgedAt: -1, _id: -1 })
      .limit(limit)
      .lean<VerdictRecord[]>();
    return rows.map(fromVerdict);
  }

  async function reportRows(tenantId: string, f: DetectionFilter, limit: number): Promise<Detection[]> {
    if (f.kind === 'verdict') return [];
    // A report carries the verdict the message had when reported; `threats` keeps every report (a user thought it one).
    const and: Record<string, unknown>[] = [{ tenantId }, ...timeRange('at', f)];
    if (f.verdict && f.verdict !== 'threats') and.push({ verdict: f.verdict });
    if (f.cursor) and.push(olderThan('at', decodeCursor(f.cursor, 'string')));
    const rows = await deps.reports.find({ $and: and }).sort({ at: -1, _id: -1 }).limit(limit).lean<PhishingReportRecord[]>();
    return rows.map(fromReport);
  }

  /** Newest first over both sources: each gives up to limit + 1 rows after the cursor, merged on (time, id). */
  async function list(tenantId: string, f: DetectionFilter): Promise<{ items: Detection[]; nextCursor: string | null }> {
    const limit = Math.min(f.limit ?? 50, MAX_PAGE);
    const [a, b] = await Promise.all([verdictRows(tenantId, f, limit + 1), reportRows(tenantId, f, limit + 1)]);
    const merged = [...a, ...b].sort((x, y) => y.at.localeCompare(x.at) || (y.id < x.id ? -1 : y.id > x.id ? 1 : 0));
    const items = merged.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: merged.length > limit && last ? encodeCursor(new Date(last.at), last.id) : null };
  }

  return {
    list,

    /** The filtered log as CSV rows, newest first (capped, the last row says so). */
    async *csv(tenantId: string, f: DetectionFilter): AsyncGenerator<string> {
      yield csvHeader([
        'time (UTC)',
        'kind',
        'verdict',
        'actions',
        'envelope sender',
        'from',
        'subject',
        'recipients',
        'score',
        'spf',
        'dkim',
        'dmarc',
        'arc',
        'reasons',
        'reported by',
        'comment',
        'source',
        'received (UTC)',
      ]);
      let cursor: string | undefined;
      let written = 0;
      do {
        const page = await list(tenantId, { ...f, cursor, limit: MAX_PAGE });
        for (const d of page.items) {
          yield csvRow([
            d.at,
            d.kind,
            d.verdict ?? '',
            d.actions.join(' '),
            d.mailFrom,
            d.from,
            d.subject,
            d.recipients.join(' '),
            d.score ?? '',
            d.auth?.spf ?? '',
            d.auth?.dkim ?? '',
            d.auth?.dmarc ?? '',
            d.auth?.arc ?? '',
            d.reasons.join(' | '),
            d.reportedBy ?? '',
            d.comment,
            d.source,
            d.receivedAt,
          ]);
        }
        written += page.items.length;
        cursor = page.nextCursor ?? undefined;
      } while (cursor && written < EXPORT_LIMIT);
      if (cursor) yield csvRow([`(only the newest ${EXPORT_LIMIT} rows: narrow the filters for the rest)`]);
    },

    /**
     * Verdicts per hour (24 h) or per 6 hours (7 days), oldest first, every bucket present (zero when
     * quiet). FerretDB v1 cannot group by a computed hour, so the times are read and bucketed here.
     */
    async series(tenantId: string, range: '24h' | '7d') {
      const bucketHours = range === '24h' ? 1 : 6;
      const bucketMs = bucketHours * 3_600_000;
      const end = Math.ceil(now().getTime() / bucketMs) * bucketMs;
      const count = range === '24h' ? 24 : 28;
      const start = end - count * bucketMs;
      const rows = await verdicts
        .find({ tenantId, judgedAt: { $gte: new Date(start) } }, { judgedAt: 1, verdict: 1 })
        .lean<Pick<VerdictRecord, 'judgedAt' | 'verdict'>[]>();
      const zero = () => Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<VerdictKind, number>;
      const points = Array.from({ length: count }, (_, i) => ({ at: new Date(start + i * bucketMs).toISOString(), counts: zero() }));
      for (const r of rows) {
        const i = Math.floor((r.judgedAt.getTime() - start) / bucketMs);
        const point = points[i];
        if (point && (VERDICTS as readonly string[]).includes(r.verdict)) point.counts[r.verdict] += 1;
      }
      return { range, bucketHours, points };
    },

    /** The threats judged in a window (an event's report): quarantined and tagged messages, and by verdict. */
    async threatFigures(tenantId: string, window: { from: Date; to: Date }) {
      const rows = await verdicts
        .find({ tenantId, judgedAt: { $gte: window.from, $lt: window.to }, verdict: { $ne: 'clean' } }, { verdict: 1, actions: 1 })
        .lean<Pick<VerdictRecord, 'verdict' | 'actions'>[]>();
      const byVerdict: Partial<Record<VerdictKind, number>> = {};
      let quarantined = 0;
      let tagged = 0;
      for (const r of rows) {
        byVerdict[r.verdict] = (byVerdict[r.verdict] ?? 0) + 1;
        if (r.actions?.includes('quarantine')) quarantined += 1;
        if (r.actions?.includes('tag')) tagged += 1;
      }
      const reported = await deps.reports.countDocuments({ tenantId, at: { $gte: window.from, $lt: window.to } });
      return { threats: rows.length, quarantined, tagged, byVerdict, reportedByUsers: reported };
    },

    /** A user says a message in their mailbox is phishing: recorded once per user and message, audited. */
    async reportPhishing(user: UserIdentity, message: ReportedMessage, comment: string, ctx: AuditContext) {
      const _id = `${user.tenantId}:${user.userId}:${message.id}`;
      const record: PhishingReportRecord = {
        _id,
        tenantId: user.tenantId,
        userId: user.userId,
        email: user.email,
        mailboxId: message.id,
        from: message.from,
        subject: message.subject.slice(0, 998),
        recipients: message.to.slice(0, 100),
        verdict: message.security?.verdict ?? null,
        comment,
        at: now(),
      };
      // The _id is per user and message, so a double click (or two tabs) records one report.
      if (!(await claimByInsert(deps.reports, record as never))) {
        const first = await deps.reports.findById(_id).lean<PhishingReportRecord>();
        return { id: _id, at: (first?.at ?? record.at).toISOString(), alreadyReported: true };
      }
      await deps.audit.record({
        tenantId: user.tenantId,
        category: 'protection',
        action: 'phishing.report',
        actor: { type: 'user', id: user.userId, email: user.email },
        target: { type: 'message', id: message.id, label: message.subject || message.id },
        after: { from: message.from, verdict: record.verdict, comment },
        ...ctx,
      });
      return { id: _id, at: record.at.toISOString(), alreadyReported: false };
    },
  };
}
export type Detections = ReturnType<typeof createDetections>;
