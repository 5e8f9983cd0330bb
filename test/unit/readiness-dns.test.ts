/**
 * SPF and DMARC readiness through node:dns's real resolver, pointed at a local DNS server.
 */
import { createSocket } from 'node:dgram';
import { checkDomain, createResolver, judgeDmarc, judgeSpf } from '../../server/readiness/dns';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

const INCLUDE = 'spf.relay.lifeboat.test';

describe('mail DNS readiness', () => {
  let dns: DnsStandIn;

  beforeAll(async () => {
    dns = await startDnsStandIn({
      'good.test': ['google-site-verification=abc', `v=spf1 include:spf.protection.outlook.com include:${INCLUDE} -all`],
      '_dmarc.good.test': ['v=DMARC1; p=reject; rua=mailto:dmarc@good.test'],
      'missing-include.test': ['v=spf1 include:spf.protection.outlook.com -all'],
      '_dmarc.missing-include.test': ['v=DMARC1; p=none'],
      'no-records.test': [],
    });
  });
  afterAll(() => dns.close());

  const resolver = () => createResolver({ servers: [dns.server], spfInclude: INCLUDE, timeoutMs: 2000 });

  test('a domain with the include and an enforcing DMARC policy passes both', async () => {
    const report = await checkDomain(resolver(), 'good.test', INCLUDE);
    expect(report.spf).toMatchObject({ status: 'pass', record: expect.stringContaining(INCLUDE) });
    expect(report.dmarc).toMatchObject({ status: 'pass', detail: expect.stringContaining('p=reject') });
    expect(dns.questions).toEqual(expect.arrayContaining(['good.test 16', '_dmarc.good.test 16']));
  });

  test('an SPF record without the include fails; p=none only warns', async () => {
    const report = await checkDomain(resolver(), 'missing-include.test', INCLUDE);
    expect(report.spf.status).toBe('fail');
    expect(report.spf.detail).toMatch(/does not include spf\.relay\.lifeboat\.test/);
    expect(report.dmarc.status).toBe('warn');
  });

  test('no records (known name without TXT, or an unknown name) fail', async () => {
    for (const domain of ['no-records.test', 'nowhere.test']) {
      const report = await checkDomain(resolver(), domain, INCLUDE);
      expect(report.spf).toMatchObject({ status: 'fail', record: null });
      expect(report.dmarc).toMatchObject({ status: 'fail', record: null });
    }
  });

  test('a resolver that cannot be reached gives unknown, not fail', async () => {
    // A socket that takes questions and never answers (a closed port could be reused by another test's resolver).
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const server = `127.0.0.1:${silent.address().port}`;
      const report = await checkDomain(createResolver({ servers: [server], spfInclude: INCLUDE, timeoutMs: 200 }), 'good.test', INCLUDE);
      expect(report.spf.status).toBe('unknown');
      expect(report.dmarc.status).toBe('unknown');
    } finally {
      silent.close();
    }
  });

  test('record rules', () => {
    expect(judgeSpf(['v=spf1 -all', 'v=spf1 include:x -all'], 'x').detail).toMatch(/More than one/);
    expect(judgeSpf(['v=spf1 ~include:x -all'], 'x').status).toBe('pass');
    expect(judgeSpf(['v=spf1 -all'], null).status).toBe('warn');
    expect(judgeDmarc(['v=DMARC1; rua=mailto:a@b.test']).status).toBe('fail');
    expect(judgeDmarc(['v=DMARC1; p=quarantine']).status).toBe('pass');
  });
});
