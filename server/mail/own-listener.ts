/**
 * Lifeboat's own SMTP listeners, as mail settings and delivery see them: a primary server or relay that
 * is one of them (the same port on an address of this machine, or the receiver's host name) would send
 * every message back into the receiver, a loop. Saving such a setting is refused (422) and a delivery
 * to one is refused at connect time too (a name may resolve elsewhere later).
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** Addresses any listener on this machine answers on whatever it was bound to. */
const LOCAL = new BlockList();
LOCAL.addSubnet('127.0.0.0', 8, 'ipv4');
LOCAL.addAddress('0.0.0.0', 'ipv4');
LOCAL.addAddress('::1', 'ipv6');
LOCAL.addAddress('::', 'ipv6');

export function createOwnListeners(options: { hostname: string; ownAddresses?: () => string[] }) {
  const listeners: { host: string | null; port: number }[] = [];
  const ownAddresses =
    options.ownAddresses ??
    (() =>
      Object.values(networkInterfaces())
        .flat()
        .map((i) => i?.address)
        .filter((a): a is string => Boolean(a)));

  /** True when this address (already resolved) on this port is one of our listeners. */
  function isOwnAddress(raw: string, port: number): boolean {
    const mine = listeners.filter((l) => l.port === port);
    if (!mine.length) return false;
    const address = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(raw)?.[1] ?? raw.replace(/^\[|\]$/g, '');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (!isIP(address)) return false;
    if (LOCAL.check(address, type) || ownAddresses().includes(address)) return true;
    return mine.some((l) => l.host === address);
  }

  return {
    /** The receiver listens here (called by the receiver once bound). */
    add(listener: { host: string | null; port: number }): void {
      if (!listeners.some((l) => l.host === listener.host && l.port === listener.port)) listeners.push(listener);
    },
    isOwnAddress,
    /** Whether host:port reaches one of our listeners (the host resolved; an unresolvable name is not ours). */
    async isOwn(host: string, port: number): Promise<boolean> {
      if (!listeners.some((l) => l.port === port)) return false;
      const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
      if (bare === options.hostname.toLowerCase() || bare === 'localhost') return true;
      if (isIP(bare)) return isOwnAddress(bare, port);
      try {
        return (await lookup(bare, { all: true })).some((a) => isOwnAddress(a.address, port));
      } catch {
        return false;
      }
    },
  };
}
export type OwnListeners = ReturnType<typeof createOwnListeners>;
