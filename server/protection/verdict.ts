/**
 * What a message is, from the engines' evidence: one pure rule, so the verdict of a message can be
 * explained from what it stores. Order of precedence (worst first): malware, phishing, spoof,
 * impersonation, spam; then unscanned when an engine that should have looked could not; else clean.
 */
import type { AuthSummary } from './auth';
import type { ImpersonationMatch } from './impersonation';
import { isOwnDomain } from './impersonation';
import type { RspamdResult } from './rspamd';

export const VERDICTS = ['clean', 'spam', 'phishing', 'malware', 'spoof', 'impersonation', 'unscanned'] as const;
export type VerdictKind = (typeof VERDICTS)[number];
/** The verdicts a policy has an action for (clean is always delivered). */
export const THREATS = ['spam', 'phishing', 'malware', 'spoof', 'impersonation', 'unscanned'] as const;
export type Threat = (typeof THREATS)[number];

/** How an engine fared: `skipped` = not configured (clamd unset), `unavailable` = none to ask. */
export type EngineState = 'ok' | 'skipped' | 'unavailable' | 'timeout' | 'error';

export interface Evidence {
  auth: AuthSummary | null;
  rspamd: RspamdResult | null;
  clamd: { signature: string } | null;
  impersonation: ImpersonationMatch | null;
  engines: { auth: EngineState; rspamd: EngineState; clamd: EngineState };
  /** Why an engine did not answer, per engine. */
  engineErrors: Partial<Record<'auth' | 'rspamd' | 'clamd', string>>;
}

export interface Verdict {
  verdict: VerdictKind;
  /** Human-readable reasons, first the one that decided. */
  reasons: string[];
  evidence: Evidence;
}

// rspamd's phishing symbols (PHISHING, PHISHED_OPENPHISH, PHISHED_PHISHTANK, DBL_PHISH, ...).
const PHISHING_SYMBOL = /PHISH/;

export function decideVerdict(evidence: Evidence, tenantDomains: string[]): Verdict {
  const reasons: { verdict: VerdictKind; reason: string }[] = [];
  const { auth, rspamd, clamd } = evidence;
  if (clamd) reasons.push({ verdict: 'malware', reason: `clamd found ${clamd.signature}` });
  const phishing = rspamd?.symbols.filter((s) => PHISHING_SYMBOL.test(s.name) && s.score > 0) ?? [];
  if (phishing.length) reasons.push({ verdict: 'phishing', reason: `rspamd: ${phishing.map((s) => s.name).join(', ')}` });
  if (auth?.dmarc === 'fail') {
    reasons.push({ verdict: 'spoof', reason: `DMARC failed for ${auth.fromDomain ?? 'the From domain'} (policy ${auth.dmarcPolicy ?? 'none'})` });
  } else if (auth?.fromDomain && isOwnDomain(auth.fromDomain, tenantDomains) && auth.dmarc !== 'pass' && auth.dmarc !== 'temperror') {
    reasons.push({ verdict: 'spoof', reason: `From the tenant's own domain ${auth.fromDomain} from outside without alignment (DMARC ${auth.dmarc})` });
  }
  if (evidence.impersonation) {
    const m = evidence.impersonation;
    reasons.push({
      verdict: 'impersonation',
      reason: m.kind === 'displayName' ? `the display name "${m.seen}" is ${m.imitates}'s, from outside` : `the From domain ${m.seen} looks like ${m.imitates}`,
    });
  }
  if (rspamd && (rspamd.action === 'reject' || rspamd.score >= rspamd.requiredScore)) {
    reasons.push({ verdict: 'spam', reason: `rspamd score ${rspamd.score} of ${rspamd.requiredScore} (${rspamd.action})` });
  }
  for (const engine of ['rspamd', 'clamd', 'auth'] as const) {
    const state = evidence.engines[engine];
    if (state === 'ok' || state === 'skipped') continue;
    reasons.push({ verdict: 'unscanned', reason: `${engine} ${state}${evidence.engineErrors[engine] ? `: ${evidence.engineErrors[engine]}` : ''}` });
  }
  const order: VerdictKind[] = ['malware', 'phishing', 'spoof', 'impersonation', 'spam', 'unscanned'];
  reasons.sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict));
  return { verdict: reasons[0]?.verdict ?? 'clean', reasons: reasons.map((r) => r.reason), evidence };
}
