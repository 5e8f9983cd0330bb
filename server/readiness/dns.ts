/**
 * Mail DNS readiness for a tenant's domains, by real DNS look-ups: the SPF record must include the
 * outbound relay's include (so mail Lifeboat sends during an outage is not rejected), and a DMARC
 * record (`_dmarc.<domain>`, `v=DMARC1` with a policy) must be published.
 * The resolver is node:dns's, pointed at configured servers (tests run a local DNS server).
 */
import { Resolver } from 'node:dns/promises';
import type { DnsConfig } from '../config';

export type { DnsConfig } from '../config';

export type DnsStatus = 'pass' | 'warn' | 'fail' | 'unknown';

export interface DnsFinding {
  status: DnsStatus;
  record: string | null;
  detail: string;
}

export interface DomainReport {
  domain: string;
  spf: DnsFinding;
  dmarc: DnsFinding;
}

export interface SpfSetting {
  region: string | null;
  customInclude: string | null;
}

/** The include a tenant's SPF records must carry: its custom include, else its region's, else the default. */
export function includeFor(config: DnsConfig, setting: SpfSetting): { include: string | null; source: 'custom' | 'region' | 'default' } {
  if (setting.customInclude) return { include: setting.customInclude, source: 'custom' };
  const regional = setting.region ? config.spfRegions?.[setting.region] : undefined;
  if (regional) return { include: regional, source: 'region' };
  return { include: config.spfInclude, source: 'default' };
}

export function createResolver(config: DnsConfig): Resolver {
  const resolver = new Resolver({ timeout: config.timeoutMs, tries: 2 });
  if (config.servers.length) resolver.setServers(config.servers);
  return resolver;
}

const ABSENT = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'ENONAME']);

/** TXT strings at a name; [] when the name or its TXT records do not exist; throws on resolver failures. */
async function txt(resolver: Resolver, name: string): Promise<string[]> {
  try {
    return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
  } catch (err) {
    if (ABSENT.has((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
}

const failure = (err: unknown): DnsFinding => ({
  status: 'unknown',
  record: null,
  detail: `The DNS look-up failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
});

export function judgeSpf(records: string[], include: string | null): DnsFinding {
  const spf = records.filter((r) => /^v=spf1(\s|$)/i.test(r.trim()));
  if (spf.length === 0) return { status: 'fail', record: null, detail: 'No SPF record (TXT "v=spf1 …") is published.' };
  if (spf.length > 1) return { status: 'fail', record: spf.join(' | '), detail: 'More than one SPF record is published: receivers treat that as an error.' };
  const record = spf[0];
  if (!include)
    return {
      status: 'warn',
      record,
      detail: 'An SPF record exists, but no outbound include is configured (a region on the readiness page, or LIFEBOAT_SPF_INCLUDE) to check it against.',
    };
  const includes = record
    .toLowerCase()
    .split(/\s+/)
    .filter((t) => /^[+?~]?include:/.test(t))
    .map((t) => t.replace(/^[+?~]?include:/, ''));
  if (includes.includes(include)) return { status: 'pass', record, detail: `The SPF record includes ${include}.` };
  return { status: 'fail', record, detail: `The SPF record does not include ${include}: mail Lifeboat sends may be rejected.` };
}

export function judgeDmarc(records: string[]): DnsFinding {
  const dmarc = records.filter((r) => /^v=DMARC1\s*(;|$)/i.test(r.trim()));
  if (dmarc.length === 0) return { status: 'fail', record: null, detail: 'No DMARC record (TXT "v=DMARC1; p=…" at _dmarc) is published.' };
  const record = dmarc[0];
  const policy = /(?:^|;)\s*p\s*=\s*(none|quarantine|reject)\s*(?:;|$)/i.exec(record)?.[1]?.toLowerCase();
  if (!policy) return { status: 'fail', record, detail: 'The DMARC record has no valid policy (p=none, quarantine or reject).' };
  if (policy === 'none') return { status: 'warn', record, detail: 'DMARC is published with p=none: it only monitors.' };
  return { status: 'pass', record, detail: `DMARC is published with p=${policy}.` };
}

export async function checkDomain(resolver: Resolver, domain: string, include: string | null): Promise<DomainReport> {
  const [spf, dmarc] = await Promise.all([
    txt(resolver, domain).then((r) => judgeSpf(r, include), failure),
    txt(resolver, `_dmarc.${domain}`).then(judgeDmarc, failure),
  ]);
  return { domain, spf, dmarc };
}

/**
 * Lifeboat's outbound signatures (ARC seal onward, DKIM on sends): each domain's selector record must be
 * published with exactly the key Lifeboat signs with. Gives the exact records and, for Exchange Online,
 * the line that trusts the sealer, so the admin can copy them.
 */
export async function checkSigning(
  resolver: Resolver,
  signing: {
    selector: string;
    sealerDomain: string | null;
    records: { domain: string; name: string; type: 'TXT'; value: string }[];
    exchangeOnline: string | null;
  },
) {
  const key = (v: string) => /(?:^|;)\s*p\s*=\s*([A-Za-z0-9+/=\s]+)/.exec(v)?.[1]?.replace(/\s+/g, '') ?? null;
  const records = await Promise.all(
    signing.records.map(async (r) => {
      const finding = await txt(resolver, r.name).then((published): DnsFinding => {
        const dkim = published.filter((p) => /^v=DKIM1/i.test(p.trim()));
        if (!dkim.length)
          return { status: 'fail', record: null, detail: `No DKIM record is published at ${r.name}: Lifeboat's signatures cannot be verified.` };
        if (dkim.some((p) => key(p) === key(r.value))) return { status: 'pass', record: dkim[0]!, detail: `${r.name} publishes Lifeboat's key.` };
        return { status: 'fail', record: dkim[0]!, detail: `${r.name} publishes another key: publish the value shown.` };
      }, failure);
      return { ...r, ...finding, record: finding.record };
    }),
  );
  return { selector: signing.selector, sealerDomain: signing.sealerDomain, exchangeOnline: signing.exchangeOnline, records };
}
