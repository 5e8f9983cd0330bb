import { parseRetryAfter, twilioSignature, webhookSignature } from '../../server/notify/providers';
import { backoffDelay, DEFAULT_NOTIFY_RETRY } from '../../server/notify/service';
import { phoneOf, samePhone, settingsBody } from '../../server/notify/settings';
import { smsBody } from '../../server/notify/event-sms';

describe('notification rules', () => {
  it("sign inbound requests as Twilio does (Twilio's documented example)", () => {
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675310', Digits: '1234', From: '+14158675310', To: '+18005551212' };
    expect(twilioSignature('12345', url, params)).toBe('GvWf1cFY/Q7PnoempGyD5oXAezc=');
    expect(twilioSignature('12345', url, { ...params, Digits: '1235' })).not.toBe('GvWf1cFY/Q7PnoempGyD5oXAezc=');
  });

  it('sign webhooks over the timestamp and body', () => {
    expect(webhookSignature('k', '1700000000', '{"a":1}')).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(webhookSignature('k', '1700000000', '{"a":1}')).not.toBe(webhookSignature('k', '1700000001', '{"a":1}'));
  });

  it('back off exponentially up to the cap', () => {
    const policy = { ...DEFAULT_NOTIFY_RETRY, baseDelayMs: 100, maxDelayMs: 500 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n))).toEqual([100, 200, 400, 500, 500]);
  });

  it('read Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
  });

  it('find the number under the tenant attribute and compare numbers by digits', () => {
    const user = { mobilePhone: null, businessPhones: ['', '+1 (555) 010-0002'], pager: '+15550003' };
    expect(phoneOf(user, 'mobilePhone')).toBeNull();
    expect(phoneOf(user, 'businessPhones')).toBe('+1 (555) 010-0002');
    expect(phoneOf(user, 'pager')).toBe('+15550003');
    expect(phoneOf(null, 'mobilePhone')).toBeNull();
    expect(samePhone('+15550100002', '+1 (555) 010-0002')).toBe(true);
    expect(samePhone('+15550100002', '+15550100003')).toBe(false);
    expect(samePhone('', '')).toBe(false);
  });

  it('prefix event SMS with "Email Status:"', () => {
    expect(smsBody('Mail is down.')).toBe('Email Status: Mail is down.');
  });

  it('accept only https gateways (http to localhost only)', () => {
    const ok = (baseUrl: string) => settingsBody.safeParse({ sms: { provider: 'twilio', baseUrl } }).success;
    expect(ok('https://gateway.example')).toBe(true);
    expect(ok('http://127.0.0.1:8080')).toBe(true);
    expect(ok('http://localhost:8080')).toBe(true);
    expect(ok('http://gateway.example')).toBe(false);
    expect(ok('file:///etc/passwd')).toBe(false);
  });
});
