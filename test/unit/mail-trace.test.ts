/** The Received trace header and the hop count (server/mail/trace.ts): pure rules. */
import { countReceived, receivedHeader } from '../../server/mail/trace';

const at = new Date('2026-12-06T02:25:41Z');

test('counts Received fields of the header section only, folded lines once, any case and line ending', () => {
  const raw = Buffer.from(
    'Received: from a.example\r\n\tby b.example; Sun, 06 Dec 2026 02:25:41 +0000\r\nRECEIVED : from c\r\nSubject: x\r\n\r\nReceived: in the body\r\n',
  );
  expect(countReceived(raw)).toBe(2);
  expect(countReceived(Buffer.from('Received: a\nReceived: b\nSubject: y\n\nReceived: body\n'))).toBe(2);
  expect(countReceived(Buffer.from('Subject: none\r\n\r\n'))).toBe(0);
  expect(countReceived(Buffer.from('X-Received: not one\r\n\r\n'))).toBe(0);
});

test('the RFC 5321 form: HELO, address literal, our host, protocol, id, one recipient, date', () => {
  expect(
    receivedHeader({
      helo: 'mail.sender.example',
      remoteAddress: '::ffff:192.0.2.7',
      hostname: 'mx.lifeboat.test',
      protocol: 'ESMTPS',
      id: 'abc',
      recipients: ['ann@acme.test'],
      date: at,
    }),
  ).toBe(
    'Received: from mail.sender.example ([192.0.2.7])\r\n\tby mx.lifeboat.test with ESMTPS\r\n\tid abc\r\n\tfor <ann@acme.test>;\r\n\tSun, 06 Dec 2026 02:25:41 +0000\r\n',
  );
  const v6 = receivedHeader({ helo: false, remoteAddress: '2001:db8::1', hostname: 'mx', protocol: 'SMTP', id: 'x', recipients: ['a@b', 'c@d'], date: at });
  expect(v6).toMatch(/^Received: from unknown \(\[IPv6:2001:db8::1\]\)\r\n\tby mx with SMTP\r\n\tid x;\r\n/);
});

test('nothing a client sends can add a header line or forge the comment', () => {
  const header = receivedHeader({
    helo: 'evil.example\r\nX-Injected: yes ([10.0.0.1])',
    remoteAddress: '198.51.100.1',
    hostname: 'mx',
    protocol: 'ESMTP\r\nX: y',
    id: 'i',
    recipients: ['a@b.example>\r\nX-Other: 1'],
    date: at,
  });
  expect(header.split('\r\n').filter((l) => l && !l.startsWith('\t'))).toEqual([
    expect.stringMatching(/^Received: from evil\.example \(\[198\.51\.100\.1\]\)$/),
  ]);
  expect(header).toMatch(/with ESMTP\r\n/);
  expect(header).not.toMatch(/X-Injected|X-Other: |X: y/);
});
