/**
 * The Threat Scan's judge backed by server/protection: the same verdict pipeline as inbound mail
 * (mail authentication, rspamd, clamd, impersonation) and the same verdict store, with `source: graph`.
 * The envelope comes from the message's own headers (Return-Path, the Received trace): Lifeboat did not
 * see the connection, so when the trace names no outside server SPF is not evaluated and says so.
 * A scan judges what it reads (a scan is a fresh look) and stores the page's verdicts in one write
 * (commit); the first verdict stored for a mailbox message (`graph:<user>:<immutable id>`) stays, as for
 * SMTP mail. An `unscanned` judgement (an engine down) is not stored, so the next look judges it again.
 * Each verdict carries the detections log's fields (sender, From, subject, recipient, received time), as an
 * SMTP verdict does, so the admin's detections log, CSV and chart show Graph detections too.
 */
import { headerSummary, type Judge } from '../protection/judge';
import { envelopeFromHeaders } from '../protection/received';
import type { Verdict as ProtectionVerdict } from '../protection/verdict';
import type { VerdictStore } from '../protection/verdicts';
import type { Judgement, MessageJudge } from './judge';

/** The verdict-store key of a message read from a mailbox through Graph. */
export const graphMessageKey = (userId: string, immutableId: string) => `graph:${userId}:${immutableId}`;

/** What judge() keeps for commit(): the verdict and who and what for the detections log. */
interface Kept {
  verdict: ProtectionVerdict;
  mailFrom: string;
  from: string;
  subject: string;
}

export function createProtectionJudge(protection: { judge: Judge; verdicts: Pick<VerdictStore, 'storeMany'> }): MessageJudge {
  return {
    async judge(raw, context): Promise<Judgement> {
      const headers = envelopeFromHeaders(raw);
      const envelope = { mailFrom: headers.mailFrom, clientIp: headers.clientIp, helo: headers.helo, rcptTo: [context.recipient] };
      const [v, head] = await Promise.all([
        protection.judge({ tenantId: context.tenantId, raw }, envelope),
        headerSummary(raw).catch(() => ({ from: null, subject: '' })),
      ]);
      const e = v.evidence;
      const from = head.from ? `${head.from.displayName ? `${head.from.displayName} ` : ''}<${head.from.address}>` : '';
      const kept: Kept = { verdict: v, mailFrom: headers.mailFrom, from, subject: head.subject.slice(0, 998) };
      return {
        verdict: v.verdict,
        keep: kept,
        evidence: {
          reasons: v.reasons,
          client: headers.clientFrom,
          auth: e.auth
            ? {
                spf: e.auth.spf,
                dkim: e.auth.dkim,
                dmarc: e.auth.dmarc,
                arc: e.auth.arc,
                fromDomain: e.auth.fromDomain,
                ...(e.auth.spfSkipped ? { spfSkipped: e.auth.spfSkipped } : {}),
              }
            : null,
          rspamd: e.rspamd
            ? {
                score: e.rspamd.score,
                requiredScore: e.rspamd.requiredScore,
                action: e.rspamd.action,
                symbols: e.rspamd.symbols.filter((s) => s.score !== 0).map((s) => s.name),
              }
            : null,
          clamd: e.clamd,
          impersonation: e.impersonation,
          engines: e.engines,
        },
      };
    },
    async commit(judged) {
      await protection.verdicts.storeMany(
        judged
          .filter((j) => j.judgement.keep)
          .map((j) => {
            const kept = j.judgement.keep as Kept;
            return {
              tenantId: j.context.tenantId,
              messageId: graphMessageKey(j.context.userId, j.context.messageId),
              verdict: kept.verdict,
              source: 'graph' as const,
              mailFrom: kept.mailFrom,
              from: kept.from,
              subject: kept.subject,
              recipients: [j.context.recipient],
              receivedAt: j.context.receivedAt ? new Date(j.context.receivedAt) : null,
            };
          }),
      );
    },
  };
}
