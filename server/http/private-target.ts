/**
 * The SSRF guard: every host a tenant configures (webhook and Twilio base URLs, SMTP relays, mail relay
 * and primary servers) is resolved and refused when an address it resolves to is loopback, link-local
 * (cloud metadata 169.254.169.254), private, unique-local, CGNAT, multicast, unspecified, or one of this
 * server's own addresses — unless the operator allows it in LIFEBOAT_ALLOWED_PRIVATE_TARGETS (host
 * names, addresses or CIDR ranges, comma-separated; `loopback` allows 127.0.0.0/8, ::1 and localhost).
 *
 * Checked twice: when the setting is saved (a 422 naming the field) and when a connection is made
 * (`lookup` for sockets and HTTP, `resolveForConnect` to pin an address): a name that resolved to a
 * public address at save time and to 127.0.0.1 later (DNS rebinding) is refused at send time too.
 */
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';

const V4_FORBIDDEN: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const V6_FORBIDDEN: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
];

export class PrivateTargetError extends Error {
  readonly code = 'EPRIVATETARGET';
}

export interface TargetGuard {
  /** Why the host may not be used (every address it resolves to is checked), or null. */
  refusal(host: string): Promise<string | null>;
  /** Resolves the host to one allowed address to connect to (pinned: what was checked is what is used). */
  resolveForConnect(host: string): Promise<string>;
  /** A dns.lookup for net/tls/http that fails on forbidden addresses (checked at connect time). */
  lookup: LookupFunction;
}

/** The ranges of an allow-list entry, or a host name. */
function addAllowed(entry: string, list: BlockList, names: Set<string>): void {
  const e = entry
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (!e) return;
  if (e === 'loopback') {
    list.addSubnet('127.0.0.0', 8, 'ipv4');
    list.addAddress('::1', 'ipv6');
    names.add('localhost');
    return;
  }
  const [address, bits] = e.split('/');
  const family = isIP(address!);
  if (!family) return void names.add(e);
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (bits !== undefined) list.addSubnet(address!, Number(bits), type);
  else list.addAddress(address!, type);
}

export function createTargetGuard(options: { allowed?: string[]; ownAddresses?: string[] } = {}): TargetGuard {
  const forbidden = new BlockList();
  for (const [a, b] of V4_FORBIDDEN) forbidden.addSubnet(a, b, 'ipv4');
  for (const [a, b] of V6_FORBIDDEN) forbidden.addSubnet(a, b, 'ipv6');
  const own = new Set(
    options.ownAddresses ??
      Object.values(networkInterfaces())
        .flat()
        .map((i) => i?.address)
        .filter((a): a is string => Boolean(a)),
  );
  const allowed = new BlockList();
  const allowedNames = new Set<string>();
  for (const entry of options.allowed ?? []) addAllowed(entry, allowed, allowedNames);

  /** Why an address is refused, or null. IPv4-mapped IPv6 addresses are judged as IPv4. */
  function addressRefusal(raw: string, host: string): string | null {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(raw)?.[1];
    const address = mapped ?? raw;
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (allowedNames.has(host.toLowerCase()) || allowed.check(address, type)) return null;
    if (forbidden.check(address, type)) return `${host} is a private, loopback or link-local address (${address})`;
    if (own.has(address)) return `${host} is this server itself (${address})`;
    return null;
  }

  async function addressesOf(host: string): Promise<string[]> {
    const bare = host.replace(/^\[|\]$/g, '');
    if (isIP(bare)) return [bare];
    return new Promise((resolve, reject) => dnsLookup(bare, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses.map((a) => a.address)))));
  }

  return {
    async refusal(host) {
      let addresses: string[];
      try {
        addresses = await addressesOf(host);
      } catch {
        return `${host} cannot be resolved`;
      }
      for (const a of addresses) {
        const why = addressRefusal(a, host);
        if (why) return why;
      }
      return null;
    },

    async resolveForConnect(host) {
      const addresses = await addressesOf(host);
      for (const a of addresses) {
        const why = addressRefusal(a, host);
        if (why) throw new PrivateTargetError(why);
      }
      if (!addresses[0]) throw new PrivateTargetError(`${host} cannot be resolved`);
      return addresses[0];
    },

    lookup: ((hostname: string, opts: object, callback: (...args: unknown[]) => void) => {
      dnsLookup(hostname, { ...(opts as object), all: true }, (err, addresses) => {
        if (err) return callback(err);
        for (const a of addresses) {
          const why = addressRefusal(a.address, hostname);
          if (why) return callback(new PrivateTargetError(why));
        }
        if ((opts as { all?: boolean }).all) return callback(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      });
    }) as unknown as LookupFunction,
  };
}

/** Allows everything (tools and tests that build services without a guard). */
export const ANY_TARGET: TargetGuard = {
  refusal: async () => null,
  resolveForConnect: async (host) => host.replace(/^\[|\]$/g, ''),
  lookup: dnsLookup as unknown as LookupFunction,
};
