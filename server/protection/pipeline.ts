/**
 * The one call routing makes for a stored inbound message, between the 250 and placement:
 * protectInbound() resolves each recipient's policy, judges the message once (unless every recipient's
 * policy is Disabled), holds quarantined copies, and says per recipient what to do: deliver, tag (with
 * the marks to add), quarantine (already held) or hold for the scanner. Re-runnable after a crash: the
 * verdict is stored once and quarantine holds are idempotent.
 */
import { headerSummary, type JudgeEnvelope } from './judge';
import { actionFor, type PlacementAction } from './policy-rules';
import type { PolicyService } from './policies';
import type { QuarantineService } from './quarantine';
import type { StoredVerdict, VerdictStore } from './verdicts';

export interface InboundMessage {
  tenantId: string;
  messageId: string;
  /** The stored raw MIME; read once, only when needed. */
  raw: () => Promise<Buffer> | Buffer;
  envelope: { mailFrom: string; clientIp: string; helo: string };
  recipients: { address: string; userId: string | null }[];
}

export interface Placement {
  recipient: string;
  userId: string | null;
  action: PlacementAction;
  policyId: string;
  holdMinutes?: number;
  quarantineId?: string;
}

export interface ProtectionOutcome {
  /** null when no recipient's policy scans (all Disabled); `stored: false` for a provisional `unscanned`. */
  verdict: (StoredVerdict & { stored: boolean }) | null;
  placements: Placement[];
  /** Marks for a `tag` placement (and the trace every copy may carry). */
  marks: { subjectPrefix: string | null; headers: string[] };
}

const PREFIX: Record<string, string> = {
  spam: '[SPAM]',
  phishing: '[PHISHING]',
  malware: '[MALWARE]',
  spoof: '[SPOOFED]',
  impersonation: '[IMPERSONATION]',
  unscanned: '[UNSCANNED]',
};

/** The subject prefix and headers a tagged copy carries (Authentication-Results on every judged copy). */
export function marksFor(verdict: StoredVerdict | null): ProtectionOutcome['marks'] {
  if (!verdict) return { subjectPrefix: null, headers: [] };
  const headers = [`X-Lifeboat-Verdict: ${verdict.verdict}${verdict.evidence.rspamd ? `; score=${verdict.evidence.rspamd.score}` : ''}`];
  if (verdict.evidence.auth?.header) headers.unshift(`Authentication-Results: ${verdict.evidence.auth.header}`);
  return { subjectPrefix: PREFIX[verdict.verdict] ?? null, headers };
}

export function createPipeline(deps: { policies: PolicyService; verdicts: VerdictStore; quarantine: QuarantineService }) {
  return {
    /**
     * `final`: the hold has run out (or the caller cannot wait): an `unscanned` judgement becomes the stored
     * verdict and a `hold` placement becomes `tag` (deliver tagged unscanned).
     */
    async protectInbound(m: InboundMessage, options: { final?: boolean } = {}): Promise<ProtectionOutcome> {
      let raw: Buffer | null = null;
      const read = async () => (raw ??= await m.raw());
      const { from, subject } = await headerSummary(await read()).catch(() => ({ from: null, subject: '' }));
      const subjectOf = (recipient: string) => ({ mailFrom: m.envelope.mailFrom, headerFrom: from?.address ?? null, recipient });

      const first = await Promise.all(m.recipients.map((r) => deps.policies.resolveFor(m.tenantId, subjectOf(r.address), 'clean')));
      const envelope: JudgeEnvelope = { ...m.envelope, rcptTo: m.recipients.map((r) => r.address) };
      const verdict = first.some((r) => r.scan) ? await deps.verdicts.judgeOnce(m.tenantId, m.messageId, read, envelope, options) : null;

      const placements: Placement[] = [];
      for (const [i, r] of m.recipients.entries()) {
        const policy = first[i].policy;
        const resolution = verdict && first[i].scan ? { policy, ...actionFor(policy, verdict.verdict) } : first[i];
        if (resolution.action === 'hold' && options.final) {
          resolution.action = 'tag';
          delete resolution.holdMinutes;
        }
        const placement: Placement = { recipient: r.address, userId: r.userId, action: resolution.action, policyId: resolution.policy.id };
        if (resolution.holdMinutes !== undefined) placement.holdMinutes = resolution.holdMinutes;
        if (resolution.action === 'quarantine' && verdict) {
          placement.quarantineId = await deps.quarantine.hold({
            tenantId: m.tenantId,
            messageId: m.messageId,
            recipient: r.address,
            userId: r.userId,
            mailFrom: m.envelope.mailFrom,
            from: from ? `${from.displayName ? `${from.displayName} ` : ''}<${from.address}>` : '',
            subject: subject.slice(0, 998),
            verdict: verdict.verdict,
            reasons: verdict.reasons,
            policyId: resolution.policy.id,
            clientIp: m.envelope.clientIp,
            helo: m.envelope.helo,
          });
        }
        placements.push(placement);
      }
      if (verdict?.stored)
        await deps.verdicts.notePlacements(
          m.tenantId,
          m.messageId,
          placements.map((p) => p.action),
        );
      return { verdict, placements, marks: marksFor(verdict) };
    },
  };
}
export type Pipeline = ReturnType<typeof createPipeline>;
