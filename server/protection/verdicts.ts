/**
 * Exactly one verdict per message, also across crashes and several processes: the message is judged,
 * then the verdict is inserted under `_id = <tenant>:<messageId>`; whoever inserts first wins and every
 * other caller gets that stored verdict. A crash before the insert leaves no verdict, so the message is
 * judged again after the restart; a verdict once stored never changes (a rescan is recorded elsewhere).
 */
import { claimByInsert, insertIgnoringDuplicates, isDuplicateOnly } from '../db/claims';
import { headerSummary, type Judge, type JudgeEnvelope } from './judge';
import type { ProtectionModels, VerdictRecord, VerdictSource } from './model';
import type { Verdict } from './verdict';

export interface StoredVerdict extends Verdict {
  tenantId: string;
  messageId: string;
  judgedAt: string;
  source: VerdictSource;
}

/** The record without its undefined fields (the driver would store them as null; mongoose leaves them out). */
const withoutUndefined = (record: VerdictRecord): VerdictRecord =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as unknown as VerdictRecord;

export const verdictKey = (tenantId: string, messageId: string) => `${tenantId}:${messageId}`;

export const toStored = (r: VerdictRecord): StoredVerdict => ({
  tenantId: r.tenantId,
  messageId: r.messageId,
  verdict: r.verdict,
  reasons: r.reasons,
  evidence: r.evidence,
  judgedAt: r.judgedAt.toISOString(),
  source: r.source ?? 'smtp',
});

export function createVerdictStore(deps: { models: ProtectionModels; judge: Judge; now?: () => Date }) {
  const { verdicts } = deps.models;
  const now = deps.now ?? (() => new Date());

  async function get(tenantId: string, messageId: string): Promise<StoredVerdict | null> {
    const found = await verdicts.findById(verdictKey(tenantId, messageId)).lean<VerdictRecord>();
    return found ? toStored(found) : null;
  }

  /** A new judgement of the message as the record to store (not stored: storeJudged or judgeOnce does that). */
  async function judgeNew(
    tenantId: string,
    messageId: string,
    message: Buffer,
    envelope: JudgeEnvelope,
    source: VerdictSource = 'smtp',
  ): Promise<VerdictRecord> {
    const [verdict, head] = await Promise.all([
      deps.judge({ tenantId, raw: message }, envelope),
      headerSummary(message).catch(() => ({ from: null, subject: '' })),
    ]);
    return {
      _id: verdictKey(tenantId, messageId),
      tenantId,
      messageId,
      ...verdict,
      judgedAt: now(),
      source,
      // Who and what, so the detections log needs no read of the message.
      mailFrom: envelope.mailFrom,
      from: head.from ? `${head.from.displayName ? `${head.from.displayName} ` : ''}<${head.from.address}>` : '',
      subject: head.subject.slice(0, 998),
      recipients: envelope.rcptTo.slice(0, 100),
    };
  }

  return {
    get,
    judgeNew,
    /**
     * Retention: a tenant's verdicts judged before `before` go (they name senders, subjects and recipients),
     * except those of `keep` (messages still queued, held or quarantined). One scan, as every delete here.
     */
    async forget(tenantId: string, before: Date, keep: string[]): Promise<number> {
      return (await verdicts.deleteMany({ tenantId, judgedAt: { $lt: before }, messageId: { $nin: keep } })).deletedCount;
    },
    /**
     * Stores judged records (each already carrying the placement `actions`) in one insert, and returns
     * per record the message's one verdict: ours (`fresh`), or the one another caller stored first.
     * FerretDB v1 scans the collection for every update, even by _id, so nothing is updated afterwards.
     */
    async storeJudged(records: VerdictRecord[]): Promise<(StoredVerdict & { fresh: boolean; stored: true })[]> {
      if (!records.length) return [];
      let lost: Set<number> | null = new Set();
      try {
        // Through the driver: the records are complete (judgeNew sets every required field), and mongoose's
        // casting of a batch cost more than the insert. Absent fields are left out, not stored as null.
        await verdicts.collection.insertMany(records.map(withoutUndefined) as never[], { ordered: false });
      } catch (err) {
        if (!isDuplicateOnly(err)) throw err;
        const errors = (err as { writeErrors?: { index?: number }[] }).writeErrors;
        // Which ones lost: from the bulk error, or (a driver that does not say) every record is read back.
        lost = Array.isArray(errors) && errors.every((e) => typeof e.index === 'number') ? new Set(errors.map((e) => e.index!)) : null;
      }
      return Promise.all(
        records.map(async (record, i) => {
          if (lost && !lost.has(i)) return { ...toStored(record), fresh: true, stored: true as const };
          const winner = await get(record.tenantId, record.messageId);
          if (!winner) throw new Error(`the verdict of ${record.messageId} was claimed but cannot be read`);
          const ours = lost === null && winner.judgedAt === record.judgedAt.toISOString() && winner.verdict === record.verdict;
          return { ...winner, fresh: ours, stored: true as const };
        }),
      );
    },
    /**
     * Verdicts judged elsewhere (the Threat Scan judges a page, then stores it in one write). The first
     * stored verdict of a message stays; `unscanned` is not stored (the next look judges again).
     */
    async storeMany(
      judged: ({ tenantId: string; messageId: string; verdict: Verdict; source: VerdictSource } & Pick<
        VerdictRecord,
        'mailFrom' | 'from' | 'subject' | 'recipients' | 'receivedAt'
      >)[],
    ): Promise<void> {
      const records: VerdictRecord[] = judged
        .filter((j) => j.verdict.verdict !== 'unscanned')
        .map((j) => ({
          _id: verdictKey(j.tenantId, j.messageId),
          tenantId: j.tenantId,
          messageId: j.messageId,
          ...j.verdict,
          judgedAt: now(),
          source: j.source,
          // Who and what (the detections log), when the caller knows them.
          ...(j.mailFrom !== undefined ? { mailFrom: j.mailFrom } : {}),
          ...(j.from !== undefined ? { from: j.from } : {}),
          ...(j.subject !== undefined ? { subject: j.subject } : {}),
          ...(j.recipients ? { recipients: j.recipients.slice(0, 100) } : {}),
          ...(j.receivedAt ? { receivedAt: j.receivedAt } : {}),
        }));
      await insertIgnoringDuplicates(verdicts, records as never[]);
    },
    /**
     * The message's one verdict: the stored one, or a new judgement stored now. `raw` is read only when
     * the message has no verdict yet. `fresh` tells the caller whether this call made it. An `unscanned`
     * judgement is provisional (not stored, `stored: false`) so a held message is judged again when the
     * engines return; `final: true` (the hold has run out) stores it as the verdict.
     */
    async judgeOnce(
      tenantId: string,
      messageId: string,
      raw: () => Promise<Buffer> | Buffer,
      envelope: JudgeEnvelope,
      options: { final?: boolean; source?: VerdictSource } = {},
    ): Promise<StoredVerdict & { fresh: boolean; stored: boolean }> {
      const existing = await get(tenantId, messageId);
      if (existing) return { ...existing, fresh: false, stored: true };
      const record = await judgeNew(tenantId, messageId, await raw(), envelope, options.source);
      if (record.verdict === 'unscanned' && !options.final) return { ...toStored(record), fresh: true, stored: false };
      if (await claimByInsert(verdicts, record as never)) return { ...toStored(record), fresh: true, stored: true };
      const winner = await get(tenantId, messageId);
      if (!winner) throw new Error(`the verdict of ${messageId} was claimed but cannot be read`);
      return { ...winner, fresh: false, stored: true };
    },
  };
}
export type VerdictStore = ReturnType<typeof createVerdictStore>;
