/**
 * The SMTP envelope of a message Lifeboat did not receive itself (the Threat Scan and continuous
 * protection read it from the mailbox through Graph): MAIL FROM from Return-Path, and the connecting
 * client from the Received trace: the newest hop whose sending side is neither a private address nor
 * one of Microsoft 365's own servers is where the mail entered the tenant. When no such hop exists the
 * connecting IP is unknown and SPF is not evaluated (it says so) rather than guessed. Never throws.
 */
import { BlockList, isIP } from 'node:net';

export interface HeaderEnvelope {
  mailFrom: string;
  /** '' when unknown (SPF is then not evaluated). */
  clientIp: string;
  helo: string;
  /** Where the client came from: the Received hop used, or why there is none. */
  clientFrom: string;
}

// Hops inside Microsoft 365 (Exchange Online front ends and mailbox servers) are not the sender.
const INTERNAL_HOST = /(^|\.)(outlook\.com|office365\.com|protection\.outlook\.com|microsoft\.com|exchangelabs\.com)\.?$/i;

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['100.64.0.0', 10],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

const isPrivate = (ip: string) => PRIVATE.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');

/** The unfolded header lines (name, value) of the header section, in order. */
function headerLines(raw: Buffer): { name: string; value: string }[] {
  const end = raw.indexOf('\r\n\r\n');
  const alt = end < 0 ? raw.indexOf('\n\n') : -1;
  const head = raw.subarray(0, end >= 0 ? end : alt >= 0 ? alt : Math.min(raw.length, 256 * 1024)).toString('latin1');
  const out: { name: string; value: string }[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length) out[out.length - 1]!.value += ` ${line.trim()}`;
    else {
      const colon = line.indexOf(':');
      if (colon > 0) out.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
    }
  }
  return out;
}

/** `from <helo> (<rdns> [<ip>])` of one Received header; null without a from clause or an address. */
export function receivedHop(value: string): { helo: string; ip: string; host: string } | null {
  const m = /^from\s+(\S+)(?:\s+\(([^)]*)\))?/i.exec(value);
  if (!m) return null;
  const helo = m[1]!.replace(/^\[|\]$/g, '');
  const comment = m[2] ?? '';
  const literal = /\[(?:IPv6:)?([0-9a-f.:]+)\]/i.exec(comment)?.[1] ?? (isIP(helo) ? helo : null);
  if (!literal || !isIP(literal)) return null;
  const host = /^([a-z0-9.-]+\.[a-z]{2,})\b/i.exec(comment.trim())?.[1] ?? helo;
  return { helo, ip: literal, host };
}

export function envelopeFromHeaders(raw: Buffer): HeaderEnvelope {
  const lines = headerLines(raw);
  const returnPath = lines.find((l) => l.name === 'return-path')?.value ?? '';
  const mailFrom = /<([^>]*)>/.exec(returnPath)?.[1] ?? returnPath.trim();
  for (const line of lines) {
    if (line.name !== 'received') continue;
    const hop = receivedHop(line.value);
    if (!hop || isPrivate(hop.ip) || INTERNAL_HOST.test(hop.host) || INTERNAL_HOST.test(hop.helo)) continue;
    return { mailFrom, clientIp: hop.ip, helo: hop.helo, clientFrom: `Received: from ${hop.helo} [${hop.ip}]` };
  }
  return { mailFrom, clientIp: '', helo: '', clientFrom: 'unknown: no Received header names an outside sending server, so SPF was not evaluated' };
}
