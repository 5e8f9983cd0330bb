/**
 * judge(message, envelope) → Verdict: sender authentication, rspamd, clamd and the impersonation rules
 * run in parallel, each under its own timeout; an engine that is down or slow makes the message
 * `unscanned` with the reason instead of holding it up. Collaborators come in; nothing is global.
 */
import { simpleParser } from 'mailparser';
import { authenticateSender, type AuthSummary } from './auth';
import type { ClamdClient } from './clamd';
import type { DnsLookup } from './dns';
import { impersonation, type FromHeader, type ProtectedPerson } from './impersonation';
import type { RspamdClient, RspamdResult } from './rspamd';
import { decideVerdict, type EngineState, type Evidence, type Verdict } from './verdict';

export interface MessageToJudge {
  tenantId: string;
  raw: Buffer;
}

export interface JudgeEnvelope {
  mailFrom: string;
  rcptTo: string[];
  clientIp: string;
  helo: string;
}

export interface TenantFacts {
  domains: string[];
  /** Directory users and VIPs whose display names outsiders must not use. */
  people: ProtectedPerson[];
}

export interface JudgeDeps {
  lookup: DnsLookup;
  /** Our host name: the authserv-id of Authentication-Results. */
  authservId: string;
  /** Read at every judgement: the engines can come and go (the embedded rspamd starts after the server). */
  engines: () => { rspamd: RspamdClient | null; clamd: ClamdClient | null; rspamdSource?: string };
  tenantFacts: (tenantId: string) => Promise<TenantFacts>;
  timeouts?: { authMs?: number; rspamdMs?: number; clamdMs?: number };
}

export type Judge = (message: MessageToJudge, envelope: JudgeEnvelope) => Promise<Verdict>;

class Timeout extends Error {}

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

type Outcome<T> = { state: EngineState; value: T | null; error?: string };

async function run<T>(work: (() => Promise<T>) | null, ms: number, absent: EngineState): Promise<Outcome<T>> {
  if (!work) return { state: absent, value: null };
  try {
    return { state: 'ok', value: await within(work(), ms) };
  } catch (err) {
    return { state: err instanceof Timeout ? 'timeout' : 'error', value: null, error: (err as Error).message };
  }
}

type HeaderSummary = { from: FromHeader | null; subject: string };
// One parse per message: routing, the verdict store and the judge each ask for the same raw Buffer's
// summary (three header parses per message before); entries go with the Buffer.
const summaries = new WeakMap<Buffer, Promise<HeaderSummary>>();

/** The From header's first mailbox (display name decoded) and the subject, from the header section only. */
export function headerSummary(raw: Buffer): Promise<HeaderSummary> {
  let summary = summaries.get(raw);
  if (!summary) {
    summary = parseHeaderSummary(raw);
    summaries.set(raw, summary);
  }
  return summary;
}

async function parseHeaderSummary(raw: Buffer): Promise<HeaderSummary> {
  const end = raw.indexOf('\r\n\r\n');
  const head = end >= 0 ? raw.subarray(0, end + 4) : raw;
  const parsed = await simpleParser(head, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  const first = parsed.from?.value[0];
  return { from: first?.address ? { displayName: first.name ?? '', address: first.address.toLowerCase() } : null, subject: parsed.subject ?? '' };
}

export function createJudge(deps: JudgeDeps): Judge {
  const t = { authMs: 10_000, rspamdMs: 15_000, clamdMs: 30_000, ...deps.timeouts };
  return async (message, envelope) => {
    const { rspamd, clamd, rspamdSource } = deps.engines();
    const [auth, spam, virus, facts, from] = await Promise.all([
      run<AuthSummary>(() => authenticateSender(message.raw, envelope, { lookup: deps.lookup, authservId: deps.authservId }), t.authMs, 'unavailable'),
      // Turned off on purpose (`off`): skipped, as an unset clamd; otherwise none to ask is `unavailable` (unscanned).
      run<RspamdResult>(
        rspamd ? () => rspamd.check(message.raw, envelope, { timeoutMs: t.rspamdMs }) : null,
        t.rspamdMs + 1000,
        rspamdSource === 'off' ? 'skipped' : 'unavailable',
      ),
      run(clamd ? () => clamd.scan(message.raw, { timeoutMs: t.clamdMs }) : null, t.clamdMs + 1000, 'skipped'),
      deps.tenantFacts(message.tenantId),
      headerSummary(message.raw).then(
        (h) => h.from,
        () => null,
      ),
    ]);
    const evidence: Evidence = {
      auth: auth.value,
      rspamd: spam.value,
      clamd: virus.value?.infected ? { signature: virus.value.signature ?? 'unknown' } : null,
      impersonation: impersonation(from, facts.people, facts.domains),
      engines: { auth: auth.state, rspamd: spam.state, clamd: virus.state },
      engineErrors: {
        ...(auth.error ? { auth: auth.error } : {}),
        ...(spam.error ? { rspamd: spam.error } : spam.state === 'unavailable' ? { rspamd: 'no rspamd is configured or installed' } : {}),
        ...(virus.error ? { clamd: virus.error } : {}),
      },
    };
    return decideVerdict(evidence, facts.domains);
  };
}
