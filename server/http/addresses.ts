/**
 * The one e-mail address and host name grammar of Lifeboat (wildduck's normalizeAddress idea):
 * every route, config check and service validates and normalises addresses here.
 */
import { z } from 'zod';

/** local@domain.tld: no spaces, no angle brackets, a dot in the domain. Deliberately simple (RFC 5321 is wider). */
export const EMAIL_ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
export const MAX_ADDRESS_LENGTH = 320;

export function isEmailAddress(value: string): boolean {
  return value.length <= MAX_ADDRESS_LENGTH && EMAIL_ADDRESS.test(value);
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

/** zod: a trimmed e-mail address (case kept; add .transform(normalizeAddress) where it is stored). */
export const emailAddress = () => z.string().trim().max(MAX_ADDRESS_LENGTH).regex(EMAIL_ADDRESS, 'must be an email address');

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** A DNS host name (labels of letters, digits and inner hyphens) or an IPv4 literal. */
export function isHostName(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  if (IPV4.test(value)) return true;
  return value
    .replace(/\.$/, '')
    .split('.')
    .every((label) => LABEL.test(label));
}
