/**
 * Sender authentication with mailauth against the local DNS stand-in: real DKIM-signed messages, SPF by
 * connecting IP, DMARC with alignment; temperror when DNS fails, never a crash.
 */
import { authenticateSender } from '../../server/protection/auth';
import { createDnsLookup } from '../../server/protection/dns';
import { dkimKey, plainMessage, senderRecords, signed } from '../harness/protection-fixtures';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

const GOOD_IP = '192.0.2.10';
const key = dkimKey('sender.test');
const broken = dkimKey('broken.test');
let dns: DnsStandIn;

beforeAll(async () => {
  dns = await startDnsStandIn(
    { ...senderRecords(key, GOOD_IP), '_dmarc.broken.test': ['v=DMARC1; p=reject'] },
    { servfail: ['broken.test', broken.record[0]] },
  );
});
afterAll(() => dns.close());

const options = () => ({ lookup: createDnsLookup({ servers: [dns.server], timeoutMs: 1000 }), authservId: 'lifeboat.test' });
const envelope = (ip: string, mailFrom = 'news@sender.test') => ({ mailFrom, clientIp: ip, helo: 'mail.sender.test' });

test('a DKIM-signed message from the SPF-listed IP passes SPF, DKIM and DMARC', async () => {
  const raw = await signed(plainMessage({ from: 'News <news@sender.test>', to: 'one@alpha.test' }), key);
  const auth = await authenticateSender(raw, envelope(GOOD_IP), options());
  expect(auth).toMatchObject({ spf: 'pass', dkim: 'pass', dmarc: 'pass', arc: 'none', fromDomain: 'sender.test', dmarcPolicy: 'reject' });
  expect(auth.alignedDkim).toEqual(['sender.test']);
  expect(auth.header).toMatch(/^lifeboat\.test; dkim=pass .*spf=pass .*dmarc=pass/);
});

test('a forged message from another IP, unsigned, fails SPF and DMARC (p=reject)', async () => {
  const raw = plainMessage({ from: 'News <news@sender.test>', to: 'one@alpha.test' });
  const auth = await authenticateSender(raw, envelope('198.51.100.7'), options());
  expect(auth).toMatchObject({ spf: 'fail', dkim: 'none', dmarc: 'fail', dmarcPolicy: 'reject' });
});

test('a signature that no longer matches the body no longer verifies; SPF still aligns, so DMARC passes', async () => {
  const raw = await signed(plainMessage({ from: 'news@sender.test', to: 'one@alpha.test', body: 'original' }), key);
  const tampered = Buffer.from(raw.toString().replace('original', 'changed'));
  const auth = await authenticateSender(tampered, envelope(GOOD_IP), options());
  // mailauth reports a body-hash mismatch as `neutral` with the reason; it never passes.
  expect(auth).toMatchObject({ spf: 'pass', dkim: 'neutral', dmarc: 'pass', alignedDkim: [] });
  expect(auth.header).toContain('body hash did not verify');
});

test('SERVFAIL from the domain’s DNS is temperror', async () => {
  const raw = await signed(plainMessage({ from: 'x@broken.test', to: 'one@alpha.test' }), broken);
  const auth = await authenticateSender(raw, envelope(GOOD_IP, 'x@broken.test'), options());
  expect(auth.spf).toBe('temperror');
  expect(auth.dkim).toBe('temperror');
});

test('an unreachable resolver gives temperror, not a crash', async () => {
  const raw = await signed(plainMessage({ from: 'news@sender.test', to: 'one@alpha.test' }), key);
  // Nothing answers on port 9 (discard) of this loopback address.
  const lookup = createDnsLookup({ servers: ['127.0.0.1:9'], timeoutMs: 300 });
  const auth = await authenticateSender(raw, envelope(GOOD_IP), { lookup, authservId: 'lifeboat.test' });
  expect(auth.spf).toBe('temperror');
  expect(auth.dkim).toBe('temperror');
});
