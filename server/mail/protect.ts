/**
 * Protection on the mail path, as routing sees it: between the 250 and placement, each routing batch of
 * stored inbound messages is put to protection's pipeline (server/protection/pipeline.ts: one verdict
 * per message, claimed by insert) and the answer becomes, per recipient, what routing writes: deliver, tag (subject
 * prefix, marks, flagged copy), quarantine (nothing placed) or hold for the scanner (judged again by
 * the scan-hold pass). Owns the per-copy security summary users see and the tagged raw for onward
 * delivery. Never decides a verdict or a policy itself.
 */
import type { InboundItem, Placement, ProtectionOutcome } from '../protection/pipeline';
import type { StoredVerdict } from '../protection/verdicts';
import type { MailMessageRecord, MailSecurity, StoredRecipient } from './model';

/** What mail needs of protection (services.ts passes protection's pipeline and verdict store). */
export interface InboundProtection {
  /** Judges a batch of messages (see server/protection/pipeline.ts: InboundItem). */
  protectMany: (items: InboundItem[]) => Promise<ProtectionOutcome[]>;
  /** The message's stored verdict (null: none, e.g. every recipient's policy is Disabled). */
  verdictOf: (tenantId: string, messageId: string) => Promise<StoredVerdict | null>;
  /** Ids of a tenant's messages with a copy held in the quarantine (kept past the mail retention). */
  quarantinedMessages: (tenantId: string) => Promise<string[]>;
  /** Removes a tenant's verdicts judged before `before`, except those of the messages in `keep` (retention). */
  forgetVerdicts: (tenantId: string, before: Date, keep: string[]) => Promise<number>;
}

/** A judged message: per recipient address, the placement and the security summary of its copies. */
export interface Judged {
  placements: Map<string, { placement: Placement; security: MailSecurity }>;
  marks: ProtectionOutcome['marks'];
  /** When a held recipient's hold runs out (the earliest of their policies' holdMinutes). */
  holdUntil: Date | null;
}

/** How often a message held for the scanner is judged again. */
export const SCAN_HOLD_RETRY_MS = 60_000;

/** The connecting IP as SPF wants it (an IPv4-mapped IPv6 address as plain IPv4). */
export const clientIpOf = (remoteAddress: string | null) => (remoteAddress ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1') || '0.0.0.0';

export function securityOf(verdict: ProtectionOutcome['verdict'], placement: Placement): MailSecurity {
  const auth = verdict?.evidence.auth;
  return {
    verdict: verdict?.verdict ?? null,
    action: placement.action,
    policyId: placement.policyId,
    auth: auth ? { spf: auth.spf, dkim: auth.dkim, dmarc: auth.dmarc, arc: auth.arc } : null,
    score: verdict?.evidence.rspamd?.score ?? null,
    reasons: verdict?.reasons ?? [],
  };
}

/** A stored inbound message to judge, for the given recipients. */
export interface ToJudge {
  msg: MailMessageRecord;
  raw: Buffer;
  recipients: StoredRecipient[];
  /** The scan-hold has run out: an `unscanned` judgement is settled (stored, delivered tagged). */
  final: boolean;
  /** Just received by this process (nobody can have judged it yet): no look for a stored verdict first. */
  fresh: boolean;
}

/**
 * Judges stored inbound messages, a routing batch at once. An `unscanned` judgement that no recipient
 * holds for (or whose holds have all run out already) is settled at once (stored, as `final`), so every
 * message placed has its one stored verdict; the settled outcome is the one acted on.
 */
export async function judgeInbound(protection: InboundProtection, items: ToJudge[], now: Date): Promise<Judged[]> {
  const outcomes = await protection.protectMany(
    items.map(({ msg, raw, recipients, final, fresh }) => ({
      message: {
        tenantId: msg.tenantId,
        messageId: msg.messageId,
        raw: () => raw,
        envelope: { mailFrom: msg.mailFrom, clientIp: clientIpOf(msg.remoteAddress), helo: msg.helo ?? '' },
        recipients: recipients.map((r) => ({ address: r.address, userId: r.kind === 'user' ? r.id : null })),
      },
      final,
      settle: { receivedAt: msg.receivedAt, now },
      lookFirst: !fresh,
    })),
  );
  return outcomes.map((outcome, i) => {
    const { msg } = items[i]!;
    const placements = new Map<string, { placement: Placement; security: MailSecurity }>();
    let holdUntil: number | null = null;
    for (const p of outcome.placements) {
      placements.set(p.recipient.toLowerCase(), { placement: p, security: securityOf(outcome.verdict, p) });
      if (p.action === 'hold') {
        const until = msg.receivedAt.getTime() + (p.holdMinutes ?? 0) * 60_000;
        holdUntil = holdUntil === null ? until : Math.min(holdUntil, until);
      }
    }
    return { placements, marks: outcome.marks, holdUntil: holdUntil === null ? null : new Date(holdUntil) };
  });
}

/**
 * The raw message as a tagged copy goes onward: the marks' headers on top and the subject prefixed
 * (once). Only the header section is touched; the body and any signatures over it stay as they were.
 */
export function taggedRaw(raw: Buffer, marks: ProtectionOutcome['marks']): Buffer {
  const end = raw.indexOf('\r\n\r\n');
  const split = end >= 0 ? end + 2 : raw.length;
  let head = raw.subarray(0, split).toString('latin1');
  const body = raw.subarray(split);
  if (marks.subjectPrefix) {
    const prefix = marks.subjectPrefix;
    const subject = /^Subject:[ \t]?/im;
    if (subject.test(head)) {
      head = head.replace(/^(Subject:[ \t]?)(.*)$/im, (line, name: string, value: string) => (value.startsWith(prefix) ? line : `${name}${prefix} ${value}`));
    } else head = `Subject: ${prefix}\r\n${head}`;
  }
  const added = marks.headers.map((h) => `${h.replace(/[\r\n]+/g, ' ')}\r\n`).join('');
  return Buffer.concat([Buffer.from(added + head, 'latin1'), body]);
}

/** The subject a tagged mailbox copy shows. */
export const taggedSubject = (subject: string, prefix: string | null) => (prefix && !subject.startsWith(prefix) ? `${prefix} ${subject}` : subject);
