/**
 * Sender authentication of one received message with mailauth: SPF (connecting IP, HELO, MAIL FROM),
 * DKIM, DMARC with alignment, ARC chain validation. Gives the `Authentication-Results` header value
 * and a structured summary. It never throws for a message: a look-up failure is `temperror`, a
 * failure of the library itself is `temperror` on every method with the reason.
 */
import { authenticate } from 'mailauth';
import type { DnsLookup } from './dns';

export type AuthResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy';

export interface AuthSummary {
  spf: AuthResult;
  dkim: AuthResult;
  dmarc: AuthResult;
  arc: AuthResult;
  /** The author (header From) domain, lower-case; null when the From header has no single domain. */
  fromDomain: string | null;
  /** DMARC's policy for the author domain (`none`, `quarantine`, `reject`), null without a record. */
  dmarcPolicy: string | null;
  /** Domains of passing DKIM signatures aligned with the From domain. */
  alignedDkim: string[];
  /** The value of an `Authentication-Results` header (authserv-id first). */
  header: string;
  /** Why a method could not be evaluated, when the library itself failed. */
  error?: string;
  /** Set when SPF was not evaluated: the connecting IP is unknown (a message read from a mailbox). */
  spfSkipped?: string;
}

export interface SenderEnvelope {
  /** MAIL FROM ('' for the null sender). */
  mailFrom: string;
  clientIp: string;
  helo: string;
}

const RESULTS = new Set<AuthResult>(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy']);
const asResult = (value: unknown): AuthResult => (RESULTS.has(value as AuthResult) ? (value as AuthResult) : 'none');

interface DkimRow {
  signingDomain?: string;
  status?: { result?: string; aligned?: string | false };
}

// Best first: one passing aligned signature is what DMARC needs; else the most telling failure.
const DKIM_ORDER: AuthResult[] = ['pass', 'temperror', 'fail', 'permerror', 'policy', 'neutral', 'softfail', 'none'];

function dkimOf(rows: DkimRow[]): AuthResult {
  const results = rows.map((r) => asResult(r.status?.result));
  return DKIM_ORDER.find((r) => results.includes(r)) ?? 'none';
}

export async function authenticateSender(raw: Buffer, envelope: SenderEnvelope, options: { lookup: DnsLookup; authservId: string }): Promise<AuthSummary> {
  try {
    const res = await authenticate(raw, {
      ip: envelope.clientIp,
      helo: envelope.helo,
      sender: envelope.mailFrom,
      mta: options.authservId,
      resolver: options.lookup as never,
      disableBimi: true,
    });
    const dkimRows = (res.dkim?.results ?? []) as DkimRow[];
    const dmarc = res.dmarc as unknown as { status?: { result?: string; header?: { from?: string } }; policy?: string; p?: string } | false;
    const headerFrom = (res.dkim as unknown as { headerFrom?: string[] })?.headerFrom ?? [];
    const fromAddress = headerFrom.length === 1 ? headerFrom[0] : null;
    const header = /^Authentication-Results: ([\s\S]*?)\r?\n(?![ \t])/m.exec(res.headers)?.[1] ?? '';
    const skipSpf = !envelope.clientIp;
    return {
      ...(skipSpf ? { spfSkipped: 'the connecting IP is unknown (no Received header names an outside server)' } : {}),
      spf: skipSpf
        ? 'none'
        : asResult((res.spf as { status?: { result?: string } } | false | undefined) ? (res.spf as { status: { result?: string } }).status.result : 'none'),
      dkim: dkimOf(dkimRows),
      dmarc: dmarc ? asResult(dmarc.status?.result) : 'none',
      arc: res.arc ? asResult((res.arc as { status?: { result?: string } }).status?.result) : 'none',
      fromDomain: (dmarc ? dmarc.status?.header?.from : null) ?? (fromAddress?.split('@').pop()?.toLowerCase() || null),
      dmarcPolicy: dmarc ? (dmarc.policy ?? dmarc.p ?? null) : null,
      alignedDkim: dkimRows.filter((r) => r.status?.result === 'pass' && r.status.aligned).map((r) => String(r.status!.aligned).toLowerCase()),
      header: header.replace(/\r?\n[ \t]+/g, ' ').trim(),
    };
  } catch (err) {
    const reason = (err as Error).message;
    return {
      spf: 'temperror',
      dkim: 'temperror',
      dmarc: 'temperror',
      arc: 'temperror',
      fromDomain: null,
      dmarcPolicy: null,
      alignedDkim: [],
      header: `${options.authservId}; spf=temperror; dkim=temperror; dmarc=temperror; arc=temperror (${reason.replace(/[\r\n;]/g, ' ')})`,
      error: reason,
    };
  }
}
