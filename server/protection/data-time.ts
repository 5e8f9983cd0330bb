/**
 * The one protection decision taken before the 250 (DESIGN: scanning never sits before it, except
 * this): at end of DATA, when a recipient's policy protects and says `reject` for spoof, the message is
 * authenticated and a DMARC failure of a domain publishing p=reject is refused with 550 5.7.1. Only
 * when *every* recipient's policy refuses: an SMTP reply covers the whole message, and a recipient
 * whose policy does not refuse must still get it (routing quarantines it there, as actionFor says).
 * Cheap for everything else: without such a policy in the tenant nothing is looked up; authentication
 * runs under a timeout, and a timeout or failure accepts (the message is judged after the 250 anyway).
 */
import type { Logger } from 'pino';
import { authenticateSender } from './auth';
import type { DnsLookup } from './dns';
import { headerSummary } from './judge';
import { refusesAtData, type Policy } from './policy-rules';
import type { PolicyService } from './policies';

export interface DataTimeMessage {
  tenantId: string;
  mailFrom: string;
  recipients: string[];
  raw: Buffer;
  clientIp: string;
  helo: string;
}

/** The SMTP reply text (after `550`) when the message is refused, else null. */
export type DataTimeRefusal = (message: DataTimeMessage) => Promise<string | null>;

const canRefuse = (p: Policy) => p.mode === 'protect' && p.actions.spoof === 'reject';

export function createDataTimeRefusal(deps: {
  policies: PolicyService;
  lookup: DnsLookup;
  authservId: string;
  logger?: Logger;
  /** How long the sender may wait for authentication (default 10 s). */
  timeoutMs?: number;
  /** Policies are read again after this long (default 10 s): one read per tenant, not per message. */
  cacheMs?: number;
}): DataTimeRefusal {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const cacheMs = deps.cacheMs ?? 10_000;
  const cache = new Map<string, { at: number; policies: Promise<Policy[]> }>();

  function policiesOf(tenantId: string): Promise<Policy[]> {
    const hit = cache.get(tenantId);
    if (hit && Date.now() - hit.at < cacheMs) return hit.policies;
    const policies = deps.policies.list(tenantId);
    policies.catch(() => cache.delete(tenantId));
    cache.set(tenantId, { at: Date.now(), policies });
    return policies;
  }

  async function decide(m: DataTimeMessage): Promise<string | null> {
    if (!m.recipients.length || !(await policiesOf(m.tenantId)).some(canRefuse)) return null;
    const auth = await authenticateSender(
      m.raw,
      { mailFrom: m.mailFrom, clientIp: m.clientIp, helo: m.helo },
      { lookup: deps.lookup, authservId: deps.authservId },
    );
    if (auth.dmarc !== 'fail' || auth.dmarcPolicy !== 'reject') return null;
    const { from } = await headerSummary(m.raw);
    for (const recipient of m.recipients) {
      const { policy } = await deps.policies.resolveFor(m.tenantId, { mailFrom: m.mailFrom, headerFrom: from?.address ?? null, recipient }, 'spoof');
      if (!refusesAtData(policy, auth)) return null;
    }
    deps.logger?.info({ tenant: m.tenantId, fromDomain: auth.fromDomain }, 'message refused at end of DATA: DMARC p=reject failure');
    return `5.7.1 Rejected by the DMARC policy of ${auth.fromDomain ?? 'the sender domain'} (p=reject): the message failed authentication`;
  }

  return async (m) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      return await Promise.race([decide(m), timeout]);
    } catch (err) {
      deps.logger?.warn({ err, tenant: m.tenantId }, 'the end-of-DATA DMARC check failed; accepting (judged after the 250)');
      return null;
    } finally {
      clearTimeout(timer);
    }
  };
}
