/**
 * The scanning engines, real: Lifeboat's embedded rspamd (its resolver the DNS stand-in) scores GTUBE as
 * spam and plain mail as not; clamd with a test signature database finds EICAR inside a zip attachment
 * and a test file by its hash.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';
import { startTestClamd, startTestRspamd, TEST_MALWARE, TEST_MALWARE_SIGNATURE, type TestClamd } from '../harness/engines';
import { dkimKey, EICAR, GTUBE, plainMessage, senderRecords, signed, withAttachment, zip } from '../harness/protection-fixtures';
import { createClamdClient } from '../../server/protection/clamd';
import { createDnsLookup } from '../../server/protection/dns';
import { createJudge, type Judge, type JudgeEnvelope } from '../../server/protection/judge';
import { createRspamdClient } from '../../server/protection/rspamd';

const PARTNER_IP = '192.0.2.10';
const partner = dkimKey('partner.test');

let dns: DnsStandIn;
let rspamd: Awaited<ReturnType<typeof startTestRspamd>>;
let clamd: TestClamd;

beforeAll(async () => {
  dns = await startDnsStandIn({ ...senderRecords(partner, PARTNER_IP), 'contoso.test': ['v=spf1 -all'] });
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

  test('a scanner that takes the message and never answers times out with a clear error', async () => {
    const silent = http.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const client = createRspamdClient(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
      await expect(client.check(Buffer.from('x'), envelope, { timeoutMs: 300 })).rejects.toThrow('rspamd gave no answer within 300 ms');
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  test('an HTTP error from the scanner is an error naming the status', async () => {
    const failing = http.createServer((_req, res) => res.writeHead(500).end('oops'));
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    try {
      const client = createRspamdClient(`http://127.0.0.1:${(failing.address() as AddressInfo).port}/`);
      await expect(client.check(Buffer.from('x'), envelope)).rejects.toThrow('rspamd answered HTTP 500');
    } finally {
      await new Promise((r) => failing.close(r));
    }
  });

  test('rspamd closes the connection after every answer: many checks side by side all get theirs', async () => {
    const raw = plainMessage({ from: 'someone@outside.test', to: 'one@alpha.test', body: 'Lunch on Friday?' });
    const results = await Promise.all(Array.from({ length: 40 }, () => rspamd.client.check(raw, envelope)));
    expect(results.every((r) => typeof r.score === 'number' && r.score < r.requiredScore)).toBe(true);
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

describe('judge: the engines together (real rspamd, clamd, DNS stand-in)', () => {
  const people = [{ displayName: 'Megan Bowen', address: 'megan@contoso.test' }];
  const judgeWith = (engines: () => { rspamd: typeof rspamd.client | null; clamd: typeof clamd.client | null }) =>
    createJudge({
      lookup: createDnsLookup({ servers: [dns.server], timeoutMs: 1000 }),
      authservId: 'lifeboat.test',
      engines,
      tenantFacts: async () => ({ domains: ['contoso.test'], people }),
    });
  // Built when a test runs: the engines and the DNS stand-in start in beforeAll.
  const judge: Judge = (message, envelope) => judgeWith(() => ({ rspamd: rspamd.client, clamd: clamd.client }))(message, envelope);
  const env = (mailFrom: string, clientIp = PARTNER_IP): JudgeEnvelope => ({ mailFrom, rcptTo: ['megan@contoso.test'], clientIp, helo: 'mail.partner.test' });
  const to = 'megan@contoso.test';

  test('a DKIM-signed message from the SPF-listed IP is clean, with rspamd’s score and the auth results', async () => {
    const v = await judge(
      { tenantId: 'contoso', raw: await signed(plainMessage({ from: 'News <news@partner.test>', to }), partner) },
      env('news@partner.test'),
    );
    expect(v.verdict).toBe('clean');
    expect(v.evidence).toMatchObject({ auth: { spf: 'pass', dkim: 'pass', dmarc: 'pass' }, engines: { auth: 'ok', rspamd: 'ok', clamd: 'ok' } });
    expect(typeof v.evidence.rspamd?.score).toBe('number');
  });

  test('GTUBE is spam, with rspamd’s score and symbols as evidence', async () => {
    const v = await judge(
      { tenantId: 'contoso', raw: await signed(plainMessage({ from: 'news@partner.test', to, body: GTUBE }), partner) },
      env('news@partner.test'),
    );
    expect(v.verdict).toBe('spam');
    expect(v.evidence.rspamd?.symbols.map((s) => s.name)).toContain('GTUBE');
    expect(v.reasons[0]).toMatch(/^rspamd score/);
  });

  test('EICAR inside a zip is malware, whatever else the message is', async () => {
    const raw = withAttachment(
      { from: 'news@partner.test', to, body: GTUBE },
      { filename: 'a.zip', contentType: 'application/zip', content: zip({ 'a.com': Buffer.from(EICAR) }) },
    );
    const v = await judge({ tenantId: 'contoso', raw }, env('news@partner.test'));
    expect(v.verdict).toBe('malware');
    expect(v.evidence.clamd?.signature).toContain('Eicar');
  });

  test('a forged From of a p=reject domain is spoof (DMARC fail)', async () => {
    const v = await judge({ tenantId: 'contoso', raw: plainMessage({ from: 'ceo@partner.test', to }) }, env('ceo@partner.test', '198.51.100.9'));
    expect(v.verdict).toBe('spoof');
    expect(v.evidence.auth).toMatchObject({ dmarc: 'fail', dmarcPolicy: 'reject' });
  });

  test('the tenant’s own domain from outside without alignment is spoof (even without a DMARC record)', async () => {
    const v = await judge(
      { tenantId: 'contoso', raw: plainMessage({ from: 'Megan Bowen <megan@contoso.test>', to }) },
      env('megan@contoso.test', '198.51.100.9'),
    );
    expect(v.verdict).toBe('spoof');
    expect(v.reasons[0]).toContain("tenant's own domain");
  });

  test('a look-alike domain and a protected display name from outside are impersonation', async () => {
    const lookalike = await judge({ tenantId: 'contoso', raw: plainMessage({ from: 'Billing <billing@cont0so.test>', to }) }, env('billing@cont0so.test'));
    expect(lookalike.verdict).toBe('impersonation');
    expect(lookalike.evidence.impersonation).toEqual({ kind: 'lookalikeDomain', seen: 'cont0so.test', imitates: 'contoso.test' });
    const name = await judge(
      { tenantId: 'contoso', raw: await signed(plainMessage({ from: 'Megan Bowen <news@partner.test>', to }), partner) },
      env('news@partner.test'),
    );
    expect(name.verdict).toBe('impersonation');
    expect(name.evidence.impersonation).toMatchObject({ kind: 'displayName', imitates: 'megan@contoso.test' });
  });

  test('rspamd down is unscanned with the reason; clamd down too', async () => {
    const down = judgeWith(() => ({ rspamd: createRspamdClient('http://127.0.0.1:9'), clamd: createClamdClient('127.0.0.1:9') }));
    const v = await down({ tenantId: 'contoso', raw: await signed(plainMessage({ from: 'news@partner.test', to }), partner) }, env('news@partner.test'));
    expect(v.verdict).toBe('unscanned');
    expect(v.evidence.engines).toMatchObject({ auth: 'ok', rspamd: 'error', clamd: 'error' });
    expect(v.reasons.join(' ')).toMatch(/rspamd error.*clamd error/);
  });
});
