/**
 * The one call routing makes for stored inbound messages, between the 250 and placement:
 * protectMany() (protectInbound() for one) resolves each recipient's policy, judges each message once
 * (unless every recipient's policy is Disabled), holds quarantined copies, and says per recipient what
 * to do: deliver, tag (with the marks to add), quarantine (already held) or hold for the scanner.
 * Re-runnable after a crash: the verdict is stored once and quarantine holds are idempotent.
 * A batch is written in two inserts (its verdicts, each with its placement actions, then its
 * quarantine entries) and nothing is updated: on FerretDB v1 an insert costs the same for one
 * document or fifty, and an update scans the whole collection however it is filtered.
 */
import { headerSummary, type JudgeEnvelope } from './judge';
import type { VerdictRecord } from './model';
import { actionFor, type PlacementAction, type Resolution } from './policy-rules';
import type { PolicyService } from './policies';
import type { QuarantineHold, QuarantineService } from './quarantine';
import { toStored, type StoredVerdict, type VerdictStore } from './verdicts';

export interface InboundMessage {
  tenantId: string;
  messageId: string;
  /** The stored raw MIME; read once, only when needed. */
  raw: () => Promise<Buffer> | Buffer;
  envelope: { mailFrom: string; clientIp: string; helo: string };
  recipients: { address: string; userId: string | null }[];
}

/** One message of a batch, with how it is to be settled. */
export interface InboundItem {
  message: InboundMessage;
  /** The hold has run out (or the caller cannot wait): `unscanned` is stored and `hold` becomes `tag`. */
  final?: boolean;
  /**
   * Given: an `unscanned` judgement that no recipient holds for, or whose holds have all run out by
   * `now` (counted from `receivedAt`), is settled at once (as `final`), so every message placed has its
   * stored verdict.
   */
  settle?: { receivedAt: Date; now: Date };
  /**
   * The message may have a verdict already (recovery, a retry, the scan-hold pass): it is read before
   * judging (default). False for a message this process has just received: nobody can have judged it
   * but another node recovering it at the same moment, and that race is settled by the insert.
   */
  lookFirst?: boolean;
}

/** Messages of a batch judged at once (the engines answer in parallel; DNS and rspamd wait, not compute). */
const JUDGE_CONCURRENCY = 16;

/** Runs fn over items, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]!);
    }),
  );
  return results;
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
  verdict: (StoredVerdict & { stored: boolean; fresh: boolean }) | null;
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

interface Assessed {
  item: InboundItem;
  from: { displayName: string; address: string } | null;
  subject: string;
  /** Each recipient's policy as for a clean message (whether it scans at all). */
  first: Resolution[];
  verdict: ProtectionOutcome['verdict'];
  /** A new judgement to store (with its actions) before anything is placed. */
  record: VerdictRecord | null;
  final: boolean;
}

export function createPipeline(deps: { policies: PolicyService; verdicts: VerdictStore; quarantine: QuarantineService }) {
  /** Per recipient: the action its policy takes on this verdict (`final` turns a hold into a tag). */
  function placementsOf(a: Assessed, verdict: { verdict: StoredVerdict['verdict'] } | null, final: boolean): Placement[] {
    return a.item.message.recipients.map((r, i) => {
      const policy = a.first[i]!.policy;
      const resolution = verdict && a.first[i]!.scan ? { policy, ...actionFor(policy, verdict.verdict) } : { ...a.first[i]! };
      if (resolution.action === 'hold' && final) {
        resolution.action = 'tag';
        delete resolution.holdMinutes;
      }
      const placement: Placement = { recipient: r.address, userId: r.userId, action: resolution.action, policyId: resolution.policy.id };
      if (resolution.holdMinutes !== undefined) placement.holdMinutes = resolution.holdMinutes;
      return placement;
    });
  }

  /** Reads, resolves the policies and judges one message; writes nothing. */
  async function assess(item: InboundItem): Promise<Assessed> {
    const m = item.message;
    const raw = await m.raw();
    const { from, subject } = await headerSummary(raw).catch(() => ({ from: null, subject: '' }));
    const subjectOf = (recipient: string) => ({ mailFrom: m.envelope.mailFrom, headerFrom: from?.address ?? null, recipient });
    const first = await Promise.all(m.recipients.map((r) => deps.policies.resolveFor(m.tenantId, subjectOf(r.address), 'clean')));
    const a: Assessed = { item, from, subject, first, verdict: null, record: null, final: item.final ?? false };
    if (!first.some((r) => r.scan)) return a;
    if (item.lookFirst ?? true) {
      const existing = await deps.verdicts.get(m.tenantId, m.messageId);
      if (existing) return { ...a, verdict: { ...existing, fresh: false, stored: true } };
    }
    const envelope: JudgeEnvelope = { ...m.envelope, rcptTo: m.recipients.map((r) => r.address) };
    const record = await deps.verdicts.judgeNew(m.tenantId, m.messageId, raw, envelope);
    if (record.verdict === 'unscanned' && !a.final && item.settle) {
      // Settled now: nobody holds for the scanner, or every hold has already run out (routed late, e.g. after a long outage).
      const holds = placementsOf(a, record, false).filter((p) => p.action === 'hold');
      const since = item.settle.receivedAt.getTime();
      if (!holds.length || holds.every((p) => since + (p.holdMinutes ?? 0) * 60_000 <= item.settle!.now.getTime())) a.final = true;
    }
    // An `unscanned` judgement is provisional (not stored) until final: a held message is judged again.
    if (record.verdict === 'unscanned' && !a.final) return { ...a, verdict: { ...toStored(record), fresh: true, stored: false } };
    record.actions = [...new Set(placementsOf(a, record, a.final).map((p) => p.action))].sort();
    return { ...a, record };
  }

  async function protectMany(items: InboundItem[]): Promise<ProtectionOutcome[]> {
    const assessed = await mapLimit(items, JUDGE_CONCURRENCY, assess);
    const toStore = assessed.filter((a) => a.record);
    // The verdicts first, in one insert: the first stored verdict of a message is the one acted on.
    const stored = await deps.verdicts.storeJudged(toStore.map((a) => a.record!));
    toStore.forEach((a, i) => (a.verdict = stored[i]!));
    const outcomes = assessed.map((a) => ({ verdict: a.verdict, placements: placementsOf(a, a.verdict, a.final), marks: marksFor(a.verdict) }));
    // Then every quarantined copy of the batch, in one insert.
    const holds: { placement: Placement; hold: QuarantineHold }[] = [];
    for (const [i, a] of assessed.entries()) {
      const { verdict, placements } = outcomes[i]!;
      if (!verdict) continue;
      const m = a.item.message;
      for (const placement of placements) {
        if (placement.action !== 'quarantine') continue;
        holds.push({
          placement,
          hold: {
            tenantId: m.tenantId,
            messageId: m.messageId,
            recipient: placement.recipient,
            userId: placement.userId,
            mailFrom: m.envelope.mailFrom,
            from: a.from ? `${a.from.displayName ? `${a.from.displayName} ` : ''}<${a.from.address}>` : '',
            subject: a.subject.slice(0, 998),
            verdict: verdict.verdict,
            reasons: verdict.reasons,
            policyId: placement.policyId,
            clientIp: m.envelope.clientIp,
            helo: m.envelope.helo,
          },
        });
      }
    }
    const ids = await deps.quarantine.holdMany(holds.map((h) => h.hold));
    holds.forEach((h, i) => (h.placement.quarantineId = ids[i]));
    return outcomes;
  }

  return {
    protectMany,
    /**
     * One message. `final`: the hold has run out (or the caller cannot wait): an `unscanned` judgement
     * becomes the stored verdict and a `hold` placement becomes `tag` (deliver tagged unscanned).
     */
    async protectInbound(m: InboundMessage, options: { final?: boolean } = {}): Promise<ProtectionOutcome> {
      return (await protectMany([{ message: m, final: options.final }]))[0]!;
    },
  };
}
export type Pipeline = ReturnType<typeof createPipeline>;
