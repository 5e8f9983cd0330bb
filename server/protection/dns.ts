/**
 * The DNS look-ups of sender authentication: node:dns pointed at LIFEBOAT_DNS_SERVERS, with a per-query
 * timeout, in the `dns.promises.resolve(name, type)` shape mailauth calls. It owns only resolving; what
 * a failed look-up means (none, temperror) is mailauth's rule: NXDOMAIN/NODATA come back with their
 * codes, anything else (timeouts, refused, unreachable servers) as a timeout error, which is a temperror.
 */
import { Resolver } from 'node:dns/promises';

export type DnsLookup = (name: string, rrtype: string) => Promise<unknown>;

export interface DnsOptions {
  /** `ip` or `ip:port`; empty: the system's resolvers. */
  servers: string[];
  timeoutMs?: number;
}

// Answers that say "no such record": mailauth turns these into none/neutral, never temperror.
const DEFINITE = new Set(['ENOTFOUND', 'ENODATA']);

export function createDnsLookup(options: DnsOptions): DnsLookup {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: 1 });
  if (options.servers.length) resolver.setServers(options.servers);
  return async (name, rrtype) => {
    try {
      return await resolver.resolve(name, rrtype as 'TXT');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code && DEFINITE.has(code)) throw err;
      const failure = new Error(`DNS look-up of ${name} ${rrtype} failed: ${code ?? (err as Error).message}`) as NodeJS.ErrnoException;
      failure.code = 'ETIMEOUT';
      throw failure;
    }
  };
}
