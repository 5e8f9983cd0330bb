/**
 * Impersonation rules, pure: a display name equal to a protected person's (directory user or VIP) on
 * mail from an external address, and a From domain that looks like one of the tenant's domains
 * (confusable characters, or a small edit distance) without being it.
 */
import { domainToUnicode } from 'node:url';

export interface ProtectedPerson {
  displayName: string;
  address: string | null;
}

export interface ImpersonationMatch {
  kind: 'displayName' | 'lookalikeDomain';
  /** What was seen on the message (the display name, or the From domain). */
  seen: string;
  /** Whom or what it imitates (the person's address or name, or the tenant's domain). */
  imitates: string;
}

/** Case, accents, punctuation and spacing do not make a name different. */
export function normalizeName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

// Characters that render like Latin letters (Cyrillic, Greek, digits) folded to the letter they imitate.
const CONFUSABLE: Record<string, string> = {
  а: 'a',
  е: 'e',
  о: 'o',
  р: 'p',
  с: 'c',
  х: 'x',
  у: 'y',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  һ: 'h',
  ԁ: 'd',
  ɡ: 'g',
  ӏ: 'l',
  ԛ: 'q',
  ԝ: 'w',
  α: 'a',
  ο: 'o',
  ρ: 'p',
  ν: 'v',
  τ: 't',
  ι: 'i',
  κ: 'k',
  χ: 'x',
  '0': 'o',
  '1': 'l',
  '|': 'l',
  '!': 'i',
};

/** The shape a reader sees: confusables folded, `rn`→`m`, `vv`→`w`, `i`→`l`. */
export function skeleton(domain: string): string {
  const unicode = domain.startsWith('xn--') || domain.includes('.xn--') ? domainToUnicode(domain) || domain : domain;
  return [...unicode.normalize('NFKC').toLowerCase()]
    .map((c) => CONFUSABLE[c] ?? c)
    .join('')
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w')
    .replace(/i/g, 'l');
}

/** Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

export const isOwnDomain = (domain: string, tenantDomains: string[]) => tenantDomains.some((d) => domain === d || domain.endsWith(`.${d}`));

/** The tenant domain `domain` imitates, or null (its own domains and unrelated domains are null). */
export function lookalikeOf(domain: string, tenantDomains: string[]): string | null {
  const seen = domain.toLowerCase();
  if (isOwnDomain(seen, tenantDomains)) return null;
  for (const own of tenantDomains) {
    if (skeleton(seen) === skeleton(own)) return own;
    // One edit in a short name, two in a long one: `contoso.com` vs `cont0so.com`, `contosso.com`.
    const allowed = own.length >= 12 ? 2 : 1;
    if (own.length >= 5 && editDistance(seen, own) <= allowed) return own;
  }
  return null;
}

export interface FromHeader {
  displayName: string;
  address: string;
}

/** The first impersonation rule the From header breaks, or null. */
export function impersonation(from: FromHeader | null, people: ProtectedPerson[], tenantDomains: string[]): ImpersonationMatch | null {
  if (!from) return null;
  const domain = from.address.split('@').pop()?.toLowerCase() ?? '';
  const ownDomains = tenantDomains.map((d) => d.toLowerCase());
  if (isOwnDomain(domain, ownDomains)) return null;
  const name = normalizeName(from.displayName);
  if (name) {
    const person = people.find((p) => normalizeName(p.displayName) === name);
    if (person) return { kind: 'displayName', seen: from.displayName, imitates: person.address ?? person.displayName };
  }
  const imitated = lookalikeOf(domain, ownDomains);
  return imitated ? { kind: 'lookalikeDomain', seen: domain, imitates: imitated } : null;
}
