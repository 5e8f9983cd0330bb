/**
 * Which policy applies to one recipient of one message, and what it does with a verdict: pure, so the
 * rule is tested without a database. Targeted policies are tried in priority order (lowest number first,
 * then oldest); the first whose senders and recipients match (and whose exceptions do not) wins, else the
 * tenant's default policy. Group targets match through the groups the caller resolved (nested included).
 */
import type { Threat, VerdictKind } from './verdict';

/** `threatScanOnly` (the default policy only): nothing is judged on the mail path; Threat Scan (Graph) looks after delivery. */
export type Mode = 'threatScanOnly' | 'protect' | 'monitor' | 'disabled';
export type MatchOn = 'envelope' | 'header' | 'both';
export type TargetType = 'address' | 'domain' | 'group';
/** `reject` exists only for spoof: refuse a DMARC p=reject failure at end of DATA, before the 250. */
export type VerdictAction = 'deliver' | 'tag' | 'quarantine' | 'reject';

export interface Target {
  type: TargetType;
  value: string;
}

export interface TargetSet {
  include: Target[];
  exclude: Target[];
}

export interface Policy {
  id: string;
  tenantId: string;
  name: string;
  isDefault: boolean;
  mode: Mode;
  priority: number;
  matchOn: MatchOn;
  senders: TargetSet;
  recipients: TargetSet;
  actions: Record<Exclude<Threat, 'unscanned'>, VerdictAction>;
  /** When an engine is down: hold up to `holdMinutes`, then deliver tagged `unscanned`; or deliver tagged at once. */
  scannerDown: { action: 'hold' | 'tag'; holdMinutes: number };
  createdAt: string;
  updatedAt: string;
}

/** One address as the policy sees it: the address and the directory groups it is in (transitively). */
export interface Party {
  address: string;
  groups: string[];
}

export interface PolicySubject {
  /** MAIL FROM ('' for the null sender) and the header From (null when absent). */
  sender: { envelope: Party; header: Party | null };
  recipient: Party;
}

/** What routing does with one recipient's copy after the 250. */
export type PlacementAction = 'deliver' | 'tag' | 'quarantine' | 'hold';

export interface Resolution {
  policy: Policy;
  /** False when the policy is Disabled: the message need not be judged at all. */
  scan: boolean;
  action: PlacementAction;
  /** For `hold`: how long to wait for the engines before delivering tagged. */
  holdMinutes?: number;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

export function targetMatches(target: Target, party: Party): boolean {
  const address = party.address.toLowerCase();
  if (!address) return false; // the null sender matches no address, domain or group
  switch (target.type) {
    case 'address':
      return address === target.value.toLowerCase();
    case 'domain': {
      const domain = domainOf(address);
      const wanted = target.value.toLowerCase();
      return domain === wanted || domain.endsWith(`.${wanted}`);
    }
    case 'group':
      return party.groups.includes(target.value);
  }
}

function setMatches(set: TargetSet, parties: Party[]): boolean {
  const included = set.include.length === 0 || set.include.some((t) => parties.some((p) => targetMatches(t, p)));
  return included && !set.exclude.some((t) => parties.some((p) => targetMatches(t, p)));
}

/** The sender addresses `matchOn` looks at: `both` matches when either the envelope or the header sender does. */
function senderParties(policy: Policy, subject: PolicySubject): Party[] {
  const { envelope, header } = subject.sender;
  if (policy.matchOn === 'envelope') return [envelope];
  if (policy.matchOn === 'header') return header ? [header] : [];
  return header ? [envelope, header] : [envelope];
}

export function policyApplies(policy: Policy, subject: PolicySubject): boolean {
  if (policy.isDefault) return true;
  return setMatches(policy.senders, senderParties(policy, subject)) && setMatches(policy.recipients, [subject.recipient]);
}

export function byPriority(a: Policy, b: Policy): number {
  return a.priority - b.priority || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);
}

/** The policy for this recipient: the first matching targeted policy, else the default. */
export function selectPolicy(policies: Policy[], subject: PolicySubject): Policy {
  const defaultPolicy = policies.find((p) => p.isDefault);
  if (!defaultPolicy) throw new Error('a tenant always has a default policy');
  const targeted = policies.filter((p) => !p.isDefault).sort(byPriority);
  return targeted.find((p) => policyApplies(p, subject)) ?? defaultPolicy;
}

/** What `policy` does with `verdict` after the 250 (a `reject` that was not decided at DATA quarantines). */
export function actionFor(policy: Policy, verdict: VerdictKind): Omit<Resolution, 'policy'> {
  if (policy.mode === 'disabled' || policy.mode === 'threatScanOnly') return { scan: false, action: 'deliver' };
  if (policy.mode === 'monitor' || verdict === 'clean') return { scan: true, action: 'deliver' };
  if (verdict === 'unscanned') {
    return policy.scannerDown.action === 'hold' ? { scan: true, action: 'hold', holdMinutes: policy.scannerDown.holdMinutes } : { scan: true, action: 'tag' };
  }
  const action = policy.actions[verdict];
  return { scan: true, action: action === 'reject' ? 'quarantine' : action };
}

export function resolvePolicy(policies: Policy[], subject: PolicySubject, verdict: VerdictKind): Resolution {
  const policy = selectPolicy(policies, subject);
  return { policy, ...actionFor(policy, verdict) };
}

/**
 * Whether the receiver should refuse the message at end of DATA (550 5.7.1): the recipient's policy
 * protects, says `reject` for spoof, and the message failed DMARC of a domain publishing p=reject.
 */
export function refusesAtData(policy: Policy, auth: { dmarc: string; dmarcPolicy: string | null }): boolean {
  return policy.mode === 'protect' && policy.actions.spoof === 'reject' && auth.dmarc === 'fail' && auth.dmarcPolicy === 'reject';
}
