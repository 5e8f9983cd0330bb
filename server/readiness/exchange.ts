/**
 * The Exchange Online set-up as far as it can be verified from outside: DNS (MX at Lifeboat's SMTP host
 * when inbound mail is routed through Lifeboat; each domain's SPF carrying the include the generator
 * tells the tenant to publish) and the continuity monitor's latest inbound probe message, read from the
 * probe mailbox through Graph (`internetMessageHeaders`): it must carry Lifeboat's ARC-Seal (the tenant's
 * sealing domain, selector lifeboat1, signed with the key Lifeboat seals with), and Exchange's own ARC-Authentication-Results /
 * Authentication-Results, when present, must have trusted it. What only Exchange knows (the inbound
 * connector, Enhanced Filtering, the routing rule's place among the tenant's rules, the trusted sealers
 * list) is said to be unverifiable from here, with the `Get-` command that shows it. Never changes anything.
 */
import type { Resolver } from 'node:dns/promises';
import { INBOUND_CONNECTOR, ROUTING_RULE } from '../exchange-setup/powershell';
import { headerTags as tags, publicKeyOfRecord, verifyArcSeal } from './arc-seal';
import { judgeSpf } from './dns';

export type ExchangeCheckState = 'verified' | 'notVerified' | 'cannotVerify';

export interface ExchangeCheck {
  id: string;
  title: string;
  state: ExchangeCheckState;
  detail: string;
  /** For what cannot be verified from outside: the Exchange Online PowerShell that shows it. */
  command: string | null;
}

/** The latest inbound probe message the monitor saw arrive, as the probe mailbox holds it. */
export interface ProbeMessage {
  probeId: string;
  route: string | null;
  receivedAt: string;
  /** null: the message could not be read (why is in `error`). */
  headers: { name: string; value: string }[] | null;
  error: string | null;
}

export interface ExchangeInput {
  domains: string[];
  lifeboatHost: string;
  routeThroughLifeboat: boolean;
  spfInclude: string | null;
  /** `keyRecord`: the DKIM record of the key Lifeboat seals with (`v=DKIM1; k=rsa; p=…`), to check the seal's signature. */
  sealer: { domain: string | null; selector: string; keyRecord?: string | null } | null;
  probe: ProbeMessage | null;
}

const ABSENT = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'ENONAME']);
const lower = (s: string) => s.toLowerCase().replace(/\.$/, '');

async function mxCheck(resolver: Resolver, input: ExchangeInput): Promise<ExchangeCheck> {
  const base = { id: 'mx', title: `MX records point at ${input.lifeboatHost}`, command: null };
  const wrong: string[] = [];
  for (const domain of input.domains) {
    try {
      const mx = (await resolver.resolveMx(domain)).sort((a, b) => a.priority - b.priority);
      const best = mx.filter((r) => r.priority === mx[0]?.priority).map((r) => lower(r.exchange));
      if (!best.length || best.some((h) => h !== lower(input.lifeboatHost))) wrong.push(`${domain} → ${best.join(', ') || 'no MX'}`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      wrong.push(ABSENT.has(code) ? `${domain} → no MX` : `${domain}: the look-up failed (${code || (err as Error).message})`);
    }
  }
  if (!input.domains.length) return { ...base, state: 'notVerified', detail: 'The tenant has no domains to look up.' };
  if (wrong.length) return { ...base, state: 'notVerified', detail: `Not every domain's preferred MX is Lifeboat: ${wrong.join('; ')}.` };
  return { ...base, state: 'verified', detail: `Every domain's preferred MX is ${input.lifeboatHost}.` };
}

async function spfCheck(resolver: Resolver, input: ExchangeInput): Promise<ExchangeCheck> {
  const base = { id: 'spf', title: input.spfInclude ? `SPF includes ${input.spfInclude}` : 'SPF includes Lifeboat’s relay', command: null };
  if (!input.spfInclude)
    return { ...base, state: 'notVerified', detail: 'No outbound include is configured (a region on this page, or LIFEBOAT_SPF_INCLUDE) to check against.' };
  const wrong: string[] = [];
  for (const domain of input.domains) {
    let records: string[] = [];
    try {
      records = (await resolver.resolveTxt(domain)).map((c) => c.join(''));
    } catch (err) {
      if (!ABSENT.has((err as NodeJS.ErrnoException).code ?? '')) {
        wrong.push(`${domain}: the look-up failed`);
        continue;
      }
    }
    const finding = judgeSpf(records, input.spfInclude);
    if (finding.status !== 'pass') wrong.push(`${domain}: ${finding.detail}`);
  }
  if (!input.domains.length) return { ...base, state: 'notVerified', detail: 'The tenant has no domains to look up.' };
  if (wrong.length) return { ...base, state: 'notVerified', detail: wrong.join(' ') };
  return { ...base, state: 'verified', detail: `Every domain's SPF record includes ${input.spfInclude}.` };
}

export function arcCheck(input: Pick<ExchangeInput, 'sealer' | 'probe'>): ExchangeCheck {
  const base = { id: 'arc', title: 'Lifeboat’s ARC seal on probe mail, trusted by Exchange', command: null };
  const domain = input.sealer?.domain ?? null;
  const selector = input.sealer?.selector ?? 'lifeboat1';
  if (!domain) return { ...base, state: 'notVerified', detail: 'Lifeboat has no ARC sealing domain for this tenant (no verified domain to sign with).' };
  if (!input.probe)
    return {
      ...base,
      state: 'notVerified',
      detail: 'No inbound probe message of the continuity monitor has arrived yet: set up a monitor with a probe mailbox and wait for its inbound check.',
    };
  if (!input.probe.headers) return { ...base, state: 'notVerified', detail: `The latest probe message could not be read through Graph: ${input.probe.error}` };
  const named = (n: string) => input.probe!.headers!.filter((h) => h.name.toLowerCase() === n);
  const seals = named('arc-seal').map((h) => tags(h.value));
  const ours = seals.find((t) => lower(t.d ?? '') === lower(domain) && (t.s ?? '') === selector);
  const when = `probe ${input.probe.probeId} (received ${input.probe.receivedAt}${input.probe.route ? ` through ${input.probe.route}` : ''})`;
  if (!ours)
    return {
      ...base,
      state: 'notVerified',
      detail: `The latest ${when} carries no ARC-Seal with d=${domain}; s=${selector}: it did not come through Lifeboat, or Lifeboat did not seal it.`,
    };
  // The seal must be Lifeboat's own: signed with the key it seals with, over the ARC sets up to its instance.
  const key = input.sealer?.keyRecord ? publicKeyOfRecord(input.sealer.keyRecord) : null;
  const signature = key ? verifyArcSeal(input.probe.headers, Number(ours.i), key) : null;
  if (signature && !signature.valid)
    return {
      ...base,
      state: 'notVerified',
      detail: `The ${when} carries an ARC-Seal with d=${domain}; s=${selector}, but ${signature.reason}: Lifeboat did not make it (a forged or copied seal), or it was sealed with another key — then the ${selector}._domainkey.${domain} record Exchange checks may not be Lifeboat's either.`,
    };
  // Exchange writes its own verdict on the chain; `arc=pass` there means it validated Lifeboat's seal.
  const results = [...named('arc-authentication-results'), ...named('authentication-results')].map((h) => h.value);
  const arc = results.map((v) => /\barc=(\w+)/i.exec(v)?.[1]?.toLowerCase()).filter(Boolean);
  if (arc.length && !arc.includes('pass'))
    return {
      ...base,
      state: 'notVerified',
      detail: `The ${when} carries Lifeboat's seal, but Exchange judged the ARC chain arc=${arc[0]}: check Set-ArcConfig.`,
    };
  const trusted = arc.length ? ' and Exchange judged the chain arc=pass' : ' (Exchange wrote no ARC result to compare)';
  const signed = signature ? ', its signature verified with Lifeboat’s key,' : '';
  return { ...base, state: 'verified', detail: `The ${when} carries Lifeboat's ARC-Seal (d=${domain}; s=${selector}, i=${ours.i ?? '?'})${signed}${trusted}.` };
}

/** What only Exchange Online knows, with the command that shows it. */
function insideExchange(routeThroughLifeboat: boolean): ExchangeCheck[] {
  const c = (id: string, title: string, detail: string, command: string): ExchangeCheck => ({ id, title, state: 'cannotVerify', detail, command });
  return [
    c(
      'connector',
      'Inbound connector for Lifeboat',
      'Connectors are only visible inside Exchange Online.',
      `Get-InboundConnector -Identity '${INBOUND_CONNECTOR}' | Format-List Enabled,RequireTls,TlsSenderCertificateName`,
    ),
    c(
      'enhancedFiltering',
      'Enhanced Filtering for Connectors',
      'Whether Exchange looks past Lifeboat to the real sender is a connector setting only Exchange shows.',
      `Get-InboundConnector -Identity '${INBOUND_CONNECTOR}' | Format-List EFSkipLastIP,EFSkipIPs,EFUsers`,
    ),
    c(
      'arcTrust',
      'Lifeboat is a trusted ARC sealer',
      'The trusted sealers list is only visible inside Exchange; the ARC row above shows its effect on probe mail.',
      'Get-ArcConfig | Format-List ArcTrustedSealers',
    ),
    ...(routeThroughLifeboat
      ? [
          c(
            'ruleOrder',
            'Routing rule order',
            'Where the routing rule sits among your own transport rules is only visible inside Exchange (Lifeboat adds it last and never reorders yours).',
            'Get-TransportRule | Sort-Object Priority | Format-Table Priority,Name,State',
          ),
          c(
            'routingRule',
            `Transport rule "${ROUTING_RULE}"`,
            'Transport rules are only visible inside Exchange Online.',
            `Get-TransportRule -Identity '${ROUTING_RULE}' | Format-List State,Mode,RouteMessageOutboundConnector`,
          ),
        ]
      : []),
  ];
}

export async function checkExchangeSetup(resolver: Resolver, input: ExchangeInput): Promise<ExchangeCheck[]> {
  const dns = await Promise.all([...(input.routeThroughLifeboat ? [mxCheck(resolver, input)] : []), spfCheck(resolver, input)]);
  return [...dns, arcCheck(input), ...insideExchange(input.routeThroughLifeboat)];
}
