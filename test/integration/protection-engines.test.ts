/**
 * The scanning engines, real: Lifeboat's embedded rspamd (its resolver the DNS stand-in) scores GTUBE as
 * spam and plain mail as not; clamd with a test signature database finds EICAR inside a zip attachment
 * and a test file by its hash.
 */
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';
import { startTestClamd, startTestRspamd, TEST_MALWARE, TEST_MALWARE_SIGNATURE, type TestClamd } from '../harness/engines';
import { EICAR, GTUBE, plainMessage, withAttachment, zip } from '../harness/protection-fixtures';
import { createClamdClient } from '../../server/protection/clamd';
import { createRspamdClient } from '../../server/protection/rspamd';

let dns: DnsStandIn;
let rspamd: Awaited<ReturnType<typeof startTestRspamd>>;
let clamd: TestClamd;

beforeAll(async () => {
  dns = await startDnsStandIn({});
  [rspamd, clamd] = await Promise.all([startTestRspamd(dns.server), startTestClamd()]);
}, 300_000);
afterAll(async () => {
  await Promise.all([rspamd?.close(), clamd?.close()]);
  await dns.close();
});

const envelope = { mailFrom: 'someone@outside.test', rcptTo: ['one@alpha.test'], clientIp: '192.0.2.10', helo: 'mail.outside.test' };

describe('rspamd', () => {
  test('GTUBE scores as spam (reject), with the GTUBE symbol', async () => {
    const result = await rspamd.client.check(plainMessage({ from: 'someone@outside.test', to: 'one@alpha.test', body: GTUBE }), envelope);
    expect(result.action).toBe('reject');
    expect(result.score).toBeGreaterThanOrEqual(result.requiredScore);
    expect(result.symbols.map((s) => s.name)).toContain('GTUBE');
  });

  test('an ordinary message is not rejected', async () => {
    const result = await rspamd.client.check(plainMessage({ from: 'someone@outside.test', to: 'one@alpha.test' }), envelope);
    expect(result.action).not.toBe('reject');
    expect(result.score).toBeLessThan(result.requiredScore);
  });

  test('the embedded rspamd asked the configured resolver (the DNS stand-in), not the system’s', async () => {
    await rspamd.client.check(plainMessage({ from: 'someone@outside.test', to: 'one@alpha.test' }), envelope);
    expect(dns.questions.length).toBeGreaterThan(0);
  });

  test('a scanner that does not answer is an error for the caller, not a hang', async () => {
    const down = createRspamdClient('http://127.0.0.1:9');
    await expect(down.check(Buffer.from('x'), envelope, { timeoutMs: 1000 })).rejects.toThrow();
    expect(await down.ping(500)).toBe(false);
  });
});

describe('clamd', () => {
  const from = { from: 'someone@outside.test', to: 'one@alpha.test' };

  test('EICAR inside a zip attachment is found', async () => {
    const raw = withAttachment(from, { filename: 'invoice.zip', contentType: 'application/zip', content: zip({ 'invoice.com': Buffer.from(EICAR) }) });
    expect(await clamd.client.scan(raw)).toEqual({ infected: true, signature: expect.stringContaining('Eicar-Test-Signature') });
  });

  test('a test file listed by its hash is found', async () => {
    const raw = withAttachment(from, { filename: 'tool.bin', contentType: 'application/octet-stream', content: TEST_MALWARE });
    expect(await clamd.client.scan(raw)).toEqual({ infected: true, signature: expect.stringContaining(TEST_MALWARE_SIGNATURE) });
  });

  test('a clean message is OK', async () => {
    expect(await clamd.client.scan(plainMessage(from))).toEqual({ infected: false, signature: null });
  });

  test('clamd down is an error for the caller', async () => {
    const down = createClamdClient('127.0.0.1:9');
    await expect(down.scan(Buffer.from('x'), { timeoutMs: 1000 })).rejects.toThrow();
    expect(await down.ping(500)).toBe(false);
  });
});
