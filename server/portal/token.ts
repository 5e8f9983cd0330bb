/**
 * Signed portal links: base64url(JSON {t: tenant, m: monitor, a: alert, e: expiry ms}) "." HMAC-SHA256
 * over that text with a key derived from LIFEBOAT_SECRET. Verified in constant time; expiry checked.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const PORTAL_LINK_HOURS = 24;

export interface PortalClaims {
  tenantId: string;
  monitorId: string;
  alertId: string;
  expiresAt: Date;
}

export type TokenCheck = { ok: true; claims: PortalClaims } | { ok: false; reason: 'malformed' | 'tampered' | 'expired' };

const keyFor = (secret: string, purpose: string) => createHmac('sha256', secret).update(`lifeboat:${purpose}`).digest();

function mac(secret: string, purpose: string, text: string): string {
  return createHmac('sha256', keyFor(secret, purpose)).update(text).digest('base64url');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function signPortalToken(secret: string, claims: PortalClaims): string {
  const body = Buffer.from(JSON.stringify({ t: claims.tenantId, m: claims.monitorId, a: claims.alertId, e: claims.expiresAt.getTime() })).toString('base64url');
  return `${body}.${mac(secret, 'portal-link', body)}`;
}

export function verifyPortalToken(secret: string, token: string, now: Date): TokenCheck {
  const m = /^([A-Za-z0-9_-]{10,600})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  if (!same(mac(secret, 'portal-link', m[1]!), m[2]!)) return { ok: false, reason: 'tampered' };
  let data: { t?: unknown; m?: unknown; a?: unknown; e?: unknown };
  try {
    data = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof data.t !== 'string' || typeof data.m !== 'string' || typeof data.a !== 'string' || typeof data.e !== 'number')
    return { ok: false, reason: 'malformed' };
  if (data.e <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { tenantId: data.t, monitorId: data.m, alertId: data.a, expiresAt: new Date(data.e) } };
}

/** The form token of a portal page: bound to the link token and the time the page was made (valid 1 h). */
export function formToken(secret: string, token: string, issuedAt: Date): string {
  const ts = String(issuedAt.getTime());
  return `${ts}.${mac(secret, 'portal-form', `${token}|${ts}`)}`;
}

export function checkFormToken(secret: string, token: string, value: unknown, now: Date): boolean {
  if (typeof value !== 'string') return false;
  const m = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return false;
  const age = now.getTime() - Number(m[1]);
  if (age < -60_000 || age > 3600_000) return false;
  return same(mac(secret, 'portal-form', `${token}|${m[1]}`), m[2]!);
}
