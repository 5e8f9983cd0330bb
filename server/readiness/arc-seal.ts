/**
 * Checks an ARC-Seal's signature (RFC 8617 §5.1.1) against a known public key, from the header list
 * Graph gives (`internetMessageHeaders`, unfolded): readiness uses it to tell Lifeboat's own seal on a
 * probe message from a header that merely names Lifeboat's domain and selector, or one made with a key
 * other than the one Lifeboat seals with. The seal covers only the ARC sets 1..i, so the body and the
 * other headers Exchange may have changed do not matter.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

export interface HeaderField {
  name: string;
  value: string;
}

/** `tag=value` pairs of an ARC / DKIM header (values trimmed, white space inside b= kept as is). */
export function headerTags(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** Relaxed header canonicalization (RFC 6376 §3.4.2), which ARC-Seal always uses. */
function relaxed(field: HeaderField): string {
  const value = field.value
    .replace(/\r?\n(?=[ \t])/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return `${field.name.trim().toLowerCase()}:${value}`;
}

/** The value with its b= tag emptied, as the signer hashed it. */
const withoutSignature = (value: string) => value.replace(/(^|;)([ \t]*b[ \t]*=)[^;]*/i, '$1$2');

/** A DKIM key record's `p=` (base64 SubjectPublicKeyInfo) as a key, or null. */
export function publicKeyOfRecord(record: string): KeyObject | null {
  const p = headerTags(record).p?.replace(/\s+/g, '');
  if (!p) return null;
  try {
    return createPublicKey({ key: Buffer.from(p, 'base64'), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

export type SealCheck = { valid: true } | { valid: false; reason: string };

/** Whether the ARC-Seal of instance `instance` was made with `key`, over the ARC sets 1..instance (its own only when cv=fail). */
export function verifyArcSeal(headers: HeaderField[], instance: number, key: KeyObject): SealCheck {
  const ofInstance = (name: string, i: number) => headers.filter((h) => h.name.trim().toLowerCase() === name && Number(headerTags(h.value).i) === i);
  const newest = ofInstance('arc-seal', instance);
  if (newest.length !== 1) return { valid: false, reason: `ARC set i=${instance} is missing a header or has one twice` };
  // A seal that found the chain before it broken (cv=fail) signs only its own set (RFC 8617 §5.1.2).
  const from = headerTags(newest[0]!.value).cv?.toLowerCase() === 'fail' ? instance : 1;
  const parts: string[] = [];
  for (let i = from; i <= instance; i++) {
    const set = [ofInstance('arc-authentication-results', i), ofInstance('arc-message-signature', i), ofInstance('arc-seal', i)];
    if (set.some((fields) => fields.length !== 1)) return { valid: false, reason: `ARC set i=${i} is missing a header or has one twice` };
    const [aar, ams, seal] = set.map((fields) => fields[0]!);
    parts.push(relaxed(aar!), relaxed(ams!), relaxed(i === instance ? { name: seal!.name, value: withoutSignature(seal!.value) } : seal!));
  }
  const seal = headerTags(newest[0]!.value);
  if ((seal.a ?? '').toLowerCase() !== 'rsa-sha256') return { valid: false, reason: `its algorithm a=${seal.a ?? '(none)'} is not rsa-sha256` };
  const signature = Buffer.from((seal.b ?? '').replace(/\s+/g, ''), 'base64');
  if (!signature.length) return { valid: false, reason: 'it carries no signature (b=)' };
  return verify('sha256', Buffer.from(parts.join('\r\n'), 'utf8'), key, signature)
    ? { valid: true }
    : { valid: false, reason: 'its signature does not verify with Lifeboat’s key' };
}
