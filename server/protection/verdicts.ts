/**
 * Exactly one verdict per message, also across crashes and several processes: the message is judged,
 * then the verdict is inserted under `_id = <tenant>:<messageId>`; whoever inserts first wins and every
 * other caller gets that stored verdict. A crash before the insert leaves no verdict, so the message is
 * judged again after the restart; a verdict once stored never changes (a rescan is recorded elsewhere).
 */
import { claimByInsert, insertIgnoringDuplicates } from '../db/claims';
import { headerSummary, type Judge, type JudgeEnvelope } from './judge';
import type { ProtectionModels, VerdictRecord, VerdictSource } from './model';
import type { Verdict } from './verdict';

export interface StoredVerdict extends Verdict {
  tenantId: string;
  messageId: string;
  judgedAt: string;
  source: VerdictSource;
}

export const verdictKey = (tenantId: string, messageId: string) => `${tenantId}:${messageId}`;

const toStored = (r: VerdictRecord): StoredVerdict => ({
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

  return {
    get,
    /** What routing did with the message's copies (for the detections log and the event report); re-runnable. */
    async notePlacements(tenantId: string, messageId: string, actions: string[]): Promise<void> {
      await verdicts.updateOne({ _id: verdictKey(tenantId, messageId) }, { $set: { actions: [...new Set(actions)].sort() } });
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
      const message = await raw();
      const [verdict, head] = await Promise.all([
        deps.judge({ tenantId, raw: message }, envelope),
        headerSummary(message).catch(() => ({ from: null, subject: '' })),
      ]);
      const record: VerdictRecord = {
        _id: verdictKey(tenantId, messageId),
        tenantId,
        messageId,
        ...verdict,
        judgedAt: now(),
        source: options.source ?? 'smtp',
        // Who and what, so the detections log needs no read of the message.
        mailFrom: envelope.mailFrom,
        from: head.from ? `${head.from.displayName ? `${head.from.displayName} ` : ''}<${head.from.address}>` : '',
        subject: head.subject.slice(0, 998),
        recipients: envelope.rcptTo.slice(0, 100),
      };
      if (verdict.verdict === 'unscanned' && !options.final) return { ...toStored(record), fresh: true, stored: false };
      if (await claimByInsert(verdicts, record as never)) return { ...toStored(record), fresh: true, stored: true };
      const winner = await get(tenantId, messageId);
      if (!winner) throw new Error(`the verdict of ${messageId} was claimed but cannot be read`);
      return { ...winner, fresh: false, stored: true };
    },
  };
}
export type VerdictStore = ReturnType<typeof createVerdictStore>;
