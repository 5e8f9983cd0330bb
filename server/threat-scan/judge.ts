/**
 * What the Threat Scan needs from the protection pipeline: one verdict for one raw message. The scan
 * only knows this interface; the pipeline of server/protection (mail authentication, rspamd, clamd,
 * impersonation) implements it, composed in server/services.ts (`threatScan.judge`). Until it is
 * plugged in, a tenant's scan answers every message `unscanned` (NO_JUDGE), saying why.
 */
export const VERDICTS = ['clean', 'spam', 'phishing', 'malware', 'spoof', 'impersonation', 'unscanned'] as const;
export type Verdict = (typeof VERDICTS)[number];
/** Everything but clean is reported as a threat (unscanned too: it was not cleared). */
export const THREAT_VERDICTS: readonly Verdict[] = ['spam', 'phishing', 'malware', 'spoof', 'impersonation'];

export interface JudgeContext {
  tenantId: string;
  /** The mailbox the message was found in: its address and directory user. */
  recipient: string;
  userId: string;
  /** The message's immutable Graph id in that mailbox. */
  messageId: string;
  source: 'graph';
  /** When Exchange delivered it (Graph's receivedDateTime), for the detections log. */
  receivedAt?: string;
}

export interface Judgement {
  verdict: Verdict;
  /** The engines' evidence (scores, symbols, signatures, authentication results, matched rules). */
  evidence: Record<string, unknown>;
  /** What the judge keeps for commit() (its own record); never stored by the scan. */
  keep?: unknown;
}

export interface MessageJudge {
  judge(raw: Buffer, context: JudgeContext): Promise<Judgement>;
  /**
   * Called once per page with what was judged, after the scan stored its own records: the judge
   * stores its verdicts in one write instead of one per message (a database round trip per message
   * under a few hundred concurrent judgements is what made the scan slower than the scanner alone).
   */
  commit?(judged: { context: JudgeContext; judgement: Judgement }[]): Promise<void>;
}

/** No engines composed: every message is `unscanned`, never silently `clean`. */
export const NO_JUDGE: MessageJudge = {
  async judge() {
    return { verdict: 'unscanned', evidence: { reason: 'no scanning pipeline is configured' } };
  },
};
