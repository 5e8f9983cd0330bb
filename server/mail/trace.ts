/**
 * The receiver's trace line (RFC 5321 §4.4): the `Received:` header added to every accepted message,
 * and the count of those a message already carries, so a loop (a primary server pointed back at
 * Lifeboat, two relays pointing at each other) dies after a few hops instead of multiplying mail.
 * Pure functions: no I/O.
 */

/** Received headers a message may already carry before the receiver refuses it (554 5.4.6). */
export const DEFAULT_MAX_RECEIVED_HEADERS = 30;

/** The header section of a raw message (up to the first empty line), as latin1 text. */
function headerSection(raw: Buffer): string {
  let end = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (end < 0 || (lf >= 0 && lf < end)) end = lf;
  return raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
}

/** How many `Received:` header fields the message carries (folded continuation lines are not counted). */
export function countReceived(raw: Buffer): number {
  return headerSection(raw).match(/^received[ \t]*:/gim)?.length ?? 0;
}

/**
 * A HELO name or host name as a trace token: its leading domain or address literal only, so a client
 * cannot forge the comment that follows (`EHLO good.example ([10.0.0.1])`).
 */
function token(s: string | false | undefined, fallback: string): string {
  const match = /^(?:\[[0-9A-Fa-f:.Iv]+\]|[A-Za-z0-9.\-_]+)/.exec(s || '');
  return match ? match[0].slice(0, 255) : fallback;
}

/** An RFC 5322 date-time in UTC (`Sun, 06 Dec 2026 02:25:41 +0000`). */
export function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/**
 * The `Received:` header (with its CRLF) for one accepted message:
 * `from <helo> ([ip]) by <us> with ESMTP|ESMTPS id <id> [for <rcpt>]; <date>`. The reverse-DNS-less
 * form: the address literal is what the connection came from, the HELO name what the client said.
 * `for` only with one recipient (more would disclose the other recipients to each).
 */
export function receivedHeader(input: {
  helo: string | false | undefined;
  remoteAddress: string | null | undefined;
  hostname: string;
  /** smtp-server's transmission type: SMTP, ESMTP, ESMTPS, ESMTPA, … */
  protocol: string | undefined;
  id: string;
  recipients: string[];
  date: Date;
}): string {
  const ip = (input.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const literal = ip ? (ip.includes(':') ? `[IPv6:${ip}]` : `[${ip}]`) : '[unknown]';
  const protocol = /^E?SMTPS?A?$/.test(input.protocol ?? '') ? input.protocol! : 'ESMTP';
  // An address as printable ASCII without angle brackets (no header injection through it).
  const rcpt = input.recipients.length === 1 ? `\r\n\tfor <${input.recipients[0]!.replace(/[^\x21-\x7e]|[<>]/g, '').slice(0, 320)}>` : '';
  const helo = token(input.helo, 'unknown');
  return `Received: from ${helo} (${literal})\r\n\tby ${token(input.hostname, 'lifeboat.local')} with ${protocol}\r\n\tid ${token(input.id, 'unknown')}${rcpt};\r\n\t${rfc5322Date(input.date)}\r\n`;
}
