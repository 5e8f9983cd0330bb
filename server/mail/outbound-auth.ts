/**
 * Outbound authentication with the tenant's signing key (signing-key.ts), by mailauth:
 * - mail delivered onward to the primary server is ARC-sealed (RFC 8617) by the tenant's first domain:
 *   authenticated as received (client address and HELO from our Received header, MAIL FROM), those
 *   results sealed, so Exchange Online — with that domain a trusted ARC sealer — keeps the original
 *   SPF/DKIM/DMARC verdicts although the mail now comes from Lifeboat;
 * - mail sent through Lifeboat (the pane, the API) is DKIM-signed by the sender's domain when it is
 *   one of the tenant's domains.
 * A failure never stops mail: it goes out unsealed or unsigned, with a warning in the log.
 */
import { authenticate, dkimSign } from 'mailauth';
import type { Logger } from 'pino';
import type { DnsLookup } from '../protection/dns';
import type { TenantService } from '../tenants/service';
import type { SigningKeys } from './signing-key';

/** Exchange Online's line that makes a domain a trusted ARC sealer (readiness prints it). */
export const arcTrustLine = (domain: string) => `Set-ArcConfig -Identity Default -ArcTrustedSealers ${domain}`;

/** The HELO and client address our receiver wrote in the message's first Received header. */
export function receivedBy(raw: Buffer): { helo: string; clientIp: string } | null {
  const m = /^Received: from (\S+) \(\[(?:IPv6:)?([^\]]+)\]\)/.exec(raw.subarray(0, 1024).toString('latin1'));
  return m ? { helo: m[1]!, clientIp: m[2]! } : null;
}

export function createOutboundAuth(deps: { keys: SigningKeys; tenants: TenantService; lookup: DnsLookup; hostname: string; logger: Logger }) {
  const { keys, tenants, lookup, hostname, logger } = deps;

  /** The domain that seals the tenant's forwarded mail (its first accepted domain), or null. */
  async function sealerOf(tenantId: string): Promise<string | null> {
    return (await tenants.get(tenantId))?.domains[0]?.toLowerCase() ?? null;
  }

  return {
    sealerOf,

    /** The message with an ARC set (and our Authentication-Results) prepended, or as it was. */
    async sealForward(tenantId: string, raw: Buffer, envelope: { mailFrom: string; remoteAddress: string | null }): Promise<Buffer> {
      try {
        const domain = await sealerOf(tenantId);
        if (!domain) return raw;
        const key = await keys.keyOf(tenantId);
        const received = receivedBy(raw);
        const res = await authenticate(raw, {
          ip: received?.clientIp ?? envelope.remoteAddress ?? '0.0.0.0',
          helo: received?.helo ?? 'unknown',
          sender: envelope.mailFrom,
          mta: hostname,
          resolver: lookup as never,
          disableBimi: true,
          seal: { signingDomain: domain, selector: key.selector, privateKey: key.privateKey },
        });
        const sealErrors = (res.arc as { sealErrors?: unknown } | false | undefined) ? (res.arc as { sealErrors?: unknown }).sealErrors : undefined;
        if (sealErrors) logger.warn({ tenant: tenantId, sealErrors }, 'ARC sealing failed; delivering unsealed');
        return Buffer.concat([Buffer.from(res.headers, 'utf8'), raw]);
      } catch (err) {
        logger.warn({ err, tenant: tenantId }, 'ARC sealing failed; delivering unsealed');
        return raw;
      }
    },

    /** The message DKIM-signed by the sender's domain (when it is one of the tenant's), or as it was. */
    async signSent(tenantId: string, fromAddress: string, raw: Buffer): Promise<Buffer> {
      try {
        const domain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1).toLowerCase();
        const tenant = await tenants.get(tenantId);
        if (!tenant?.domains.some((d) => d.toLowerCase() === domain)) return raw;
        const key = await keys.keyOf(tenantId);
        const signature = { signingDomain: domain, selector: key.selector, privateKey: key.privateKey };
        const result = await dkimSign(raw, { ...signature, signatureData: [signature] });
        if (!result.signatures) {
          logger.warn({ tenant: tenantId, errors: result.errors }, 'DKIM signing failed; sending unsigned');
          return raw;
        }
        return Buffer.concat([Buffer.from(result.signatures, 'utf8'), raw]);
      } catch (err) {
        logger.warn({ err, tenant: tenantId }, 'DKIM signing failed; sending unsigned');
        return raw;
      }
    },
  };
}
export type OutboundAuth = ReturnType<typeof createOutboundAuth>;
