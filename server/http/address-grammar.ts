/**
 * The one e-mail address and host name grammar of Lifeboat (wildduck's normalizeAddress idea), with
 * no imports so the add-in and the admin page use the very same rules as the server
 * (server/http/addresses.ts re-exports it with the zod schema routes use).
 */

/** local@domain.tld: no spaces, no angle brackets, a dot in the domain. Deliberately simple (RFC 5321 is wider). */
export const EMAIL_ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
export const MAX_ADDRESS_LENGTH = 320;

export function isEmailAddress(value: string): boolean {
  return value.length <= MAX_ADDRESS_LENGTH && EMAIL_ADDRESS.test(value);
}

/**
 * A recipient Lifeboat sends to (the pane's compose, the mail API): stricter than EMAIL_ADDRESS, so
 * nothing that could split into several addresses or carry a display name gets through (none of
 * `,;:"()[]\`, no spaces or angle brackets), and its domain is a host name: two or more labels of
 * letters, digits and inner hyphens (no IP literal in brackets, no empty label, no trailing dot).
 */
export const RECIPIENT_ADDRESS = /^[^\s@<>,;:"()[\]\\]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
export const MAX_RECIPIENT_LENGTH = 254;

export function isRecipientAddress(value: string): boolean {
  return value.length <= MAX_RECIPIENT_LENGTH && RECIPIENT_ADDRESS.test(value);
}

/** Trimmed and lower-cased: the form addresses are stored and compared in. */
export function normalizeAddress(value: string): string {
  return value.trim().toLowerCase();
}

/** The domain part of an address, lower-cased ('' when there is none). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
/** An IPv6 literal, bare or in brackets (loose: hex groups and colons, an optional IPv4 tail). */
const IPV6 = /^(\[[0-9a-f:]*:[0-9a-f:]*(:[\d.]+)?\]|[0-9a-f]*:[0-9a-f:]*:[0-9a-f:]*(\d+\.\d+\.\d+\.\d+)?)$/i;

/**
 * A DNS host name (labels of letters, digits and inner hyphens) or an IPv4 or IPv6 literal.
 * `fullyQualified`: a domain name only, as DNS records name it (SPF includes): at least two labels
 * and an alphabetic top-level label; no IP literal, no trailing dot.
 */
export function isHostName(value: string, options: { fullyQualified?: boolean } = {}): boolean {
  if (value.length === 0 || value.length > 253) return false;
  if (options.fullyQualified) {
    const labels = value.split('.');
    return labels.length >= 2 && labels.every((label) => LABEL.test(label)) && /^[a-z]{2,63}$/i.test(labels[labels.length - 1]);
  }
  if (IPV4.test(value) || IPV6.test(value)) return true;
  return value
    .replace(/\.$/, '')
    .split('.')
    .every((label) => LABEL.test(label));
}
