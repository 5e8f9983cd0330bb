/** The tagged copy's raw message and subject (server/mail/protect.ts): marks on top, the subject prefixed once. */
import { clientIpOf, taggedRaw, taggedSubject } from '../../server/mail/protect';

const marks = { subjectPrefix: '[SPAM]', headers: ['Authentication-Results: lifeboat.local; spf=pass', 'X-Lifeboat-Verdict: spam; score=15'] };

test('the marks go on top, the subject is prefixed, the body is untouched', () => {
  const raw = Buffer.from('From: a@b.example\r\nSubject: Offer\r\n\r\nSubject: not a header\r\n');
  expect(taggedRaw(raw, marks).toString()).toBe(
    'Authentication-Results: lifeboat.local; spf=pass\r\nX-Lifeboat-Verdict: spam; score=15\r\nFrom: a@b.example\r\nSubject: [SPAM] Offer\r\n\r\nSubject: not a header\r\n',
  );
});

test('a subject already prefixed is not prefixed again; a message without one gets one', () => {
  const again = taggedRaw(Buffer.from('Subject: [SPAM] Offer\r\n\r\nx'), { ...marks, headers: [] }).toString();
  expect(again).toBe('Subject: [SPAM] Offer\r\n\r\nx');
  expect(taggedRaw(Buffer.from('From: a@b.example\r\n\r\nx'), { ...marks, headers: [] }).toString()).toBe('Subject: [SPAM]\r\nFrom: a@b.example\r\n\r\nx');
  expect(taggedSubject('[SPAM] Offer', '[SPAM]')).toBe('[SPAM] Offer');
  expect(taggedSubject('Offer', null)).toBe('Offer');
});

test('a header value cannot carry a line break into the message', () => {
  const out = taggedRaw(Buffer.from('Subject: x\r\n\r\nbody'), {
    subjectPrefix: null,
    headers: ['X-Lifeboat-Verdict: spam\r\nBcc: victim@example.com'],
  }).toString();
  expect(out).toBe('X-Lifeboat-Verdict: spam Bcc: victim@example.com\r\nSubject: x\r\n\r\nbody');
});

test('the client IP as SPF wants it', () => {
  expect(clientIpOf('::ffff:192.0.2.1')).toBe('192.0.2.1');
  expect(clientIpOf('2001:db8::1')).toBe('2001:db8::1');
  expect(clientIpOf(null)).toBe('0.0.0.0');
});
