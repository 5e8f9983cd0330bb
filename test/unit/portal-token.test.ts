/** Signed portal links and form tokens (pure, deterministic clock), and how a test message names its probe. */
import { probeIdOf } from '../../server/monitor/checks';
import { checkFormToken, formToken, signPortalToken, verifyPortalToken } from '../../server/portal/token';

const SECRET = 'unit-secret-0123456789abcdef0123456789';
const T = new Date('2026-03-02T10:00:00Z');
const claims = { tenantId: 'alpha', monitorId: 'mon0123456789abcdef', alertId: 'al0123456789abcdef', expiresAt: new Date(T.getTime() + 24 * 3600_000) };

describe('portal links', () => {
  it('round-trip the tenant, monitor, alert and expiry', () => {
    const token = signPortalToken(SECRET, claims);
    expect(verifyPortalToken(SECRET, token, T)).toEqual({ ok: true, claims });
  });

  it('expire after their time', () => {
    const token = signPortalToken(SECRET, claims);
    expect(verifyPortalToken(SECRET, token, new Date(claims.expiresAt.getTime() - 1)).ok).toBe(true);
    expect(verifyPortalToken(SECRET, token, claims.expiresAt)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuse any change to the claims or the signature, another secret, and garbage', () => {
    const token = signPortalToken(SECRET, claims);
    const [body, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ t: 'beta', m: claims.monitorId, a: claims.alertId, e: claims.expiresAt.getTime() })).toString('base64url');
    expect(verifyPortalToken(SECRET, `${forged}.${mac}`, T)).toEqual({ ok: false, reason: 'tampered' });
    expect(verifyPortalToken(SECRET, `${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`, T)).toEqual({ ok: false, reason: 'tampered' });
    expect(verifyPortalToken('another-secret-0123456789abcdef012345', token, T)).toEqual({ ok: false, reason: 'tampered' });
    for (const junk of ['', 'abc', `${body}`, `${body}.${mac}.x`, '../../etc/passwd'])
      expect(verifyPortalToken(SECRET, junk, T)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('form tokens are bound to the link and valid for an hour', () => {
    const token = signPortalToken(SECRET, claims);
    const other = signPortalToken(SECRET, { ...claims, alertId: 'al-other' });
    const form = formToken(SECRET, token, T);
    expect(checkFormToken(SECRET, token, form, new Date(T.getTime() + 59 * 60_000))).toBe(true);
    expect(checkFormToken(SECRET, token, form, new Date(T.getTime() + 61 * 60_000))).toBe(false);
    expect(checkFormToken(SECRET, other, form, T)).toBe(false);
    expect(checkFormToken(SECRET, token, undefined, T)).toBe(false);
    expect(checkFormToken(SECRET, token, `${T.getTime()}.${'A'.repeat(43)}`, T)).toBe(false);
  });
});

describe('probe ids in received test messages', () => {
  const id = '0123456789abcdef01234567';
  it('come from the X-Lifeboat-Probe header, folded or not, else from the subject', () => {
    expect(probeIdOf(Buffer.from(`From: a@b.c\r\nX-Lifeboat-Probe: ${id}\r\nSubject: hi\r\n\r\nbody`))).toBe(id);
    expect(probeIdOf(Buffer.from(`Subject: Lifeboat probe\r\n ${id}\r\n\r\nbody`))).toBe(id);
    expect(probeIdOf(Buffer.from(`Subject: RE: Lifeboat probe ${id}\r\n\r\n`))).toBe(id);
  });
  it('are not taken from the body or from malformed values', () => {
    expect(probeIdOf(Buffer.from(`Subject: hello\r\n\r\nX-Lifeboat-Probe: ${id}\r\n`))).toBeNull();
    expect(probeIdOf(Buffer.from(`X-Lifeboat-Probe: ${id}zz\r\n\r\n`))).toBeNull();
  });
});
