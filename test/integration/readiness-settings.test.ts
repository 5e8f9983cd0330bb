/**
 * The SPF include per region: LIFEBOAT_SPF_REGIONS lists the relay's include per region, a tenant picks its region
 * (or a custom include) through /api/readiness/settings, and the DNS check of its domains uses that include,
 * looked up through node:dns against a local DNS server.
 */
import { ConfigError, spfRegions } from '../../server/config';
import { tenantDirectory, useLifeboat } from '../harness/context';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

const EU = 'spf-eu.relay.lifeboat.test';
const US = 'spf-us.relay.lifeboat.test';
const DEFAULT = 'spf.relay.lifeboat.test';

let dns: DnsStandIn;
const saved = { ...process.env };
beforeAll(async () => {
  dns = await startDnsStandIn({
    // alpha publishes the EU relay only; beta the default include only.
    'alpha.test': [`v=spf1 include:spf.protection.outlook.com include:${EU} -all`],
    '_dmarc.alpha.test': ['v=DMARC1; p=reject'],
    'beta.test': [`v=spf1 include:${DEFAULT} -all`],
  });
  // The routes read their DNS configuration when the app is built (by useLifeboat's beforeAll, after this one).
  process.env.LIFEBOAT_DNS_SERVERS = dns.server;
  process.env.LIFEBOAT_SPF_INCLUDE = DEFAULT;
  process.env.LIFEBOAT_SPF_REGIONS = `eu=${EU}, us=${US}`;
});
afterAll(async () => {
  process.env = saved;
  await dns.close();
});

const ctx = useLifeboat({ directories: [tenantDirectory('alpha'), tenantDirectory('beta')] });

describe('LIFEBOAT_SPF_REGIONS', () => {
  test('parses region=include pairs and names the variable on bad input', () => {
    expect(spfRegions({ LIFEBOAT_SPF_REGIONS: 'EU=Spf-EU.relay.example, us=spf-us.relay.example' })).toEqual({
      eu: 'spf-eu.relay.example',
      us: 'spf-us.relay.example',
    });
    expect(spfRegions({})).toEqual({});
    for (const bad of ['eu', 'eu=not a host', 'eu=a.example,eu=b.example']) {
      expect(() => spfRegions({ LIFEBOAT_SPF_REGIONS: bad })).toThrow(ConfigError);
      expect(() => spfRegions({ LIFEBOAT_SPF_REGIONS: bad })).toThrow(/^LIFEBOAT_SPF_REGIONS: /);
    }
  });
});

describe('readiness settings: the SPF include per region', () => {
  test('the default include applies until a region is picked; the DNS check then uses the region’s include', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const initial = (await admin.get('/api/readiness/settings').expect(200)).body;
    expect(initial).toMatchObject({ region: null, customInclude: null, spfInclude: DEFAULT, spfIncludeSource: 'default', defaultInclude: DEFAULT });
    expect(initial.regions).toEqual([
      { id: 'eu', include: EU },
      { id: 'us', include: US },
    ]);
    let report = (await admin.get('/api/readiness/dns').expect(200)).body;
    expect(report.spfInclude).toBe(DEFAULT);
    expect(report.domains[0].spf.status).toBe('fail');

    const saved = (await admin.put('/api/readiness/settings').send({ region: 'eu' }).expect(200)).body;
    expect(saved).toMatchObject({ region: 'eu', spfInclude: EU, spfIncludeSource: 'region' });
    report = (await admin.get('/api/readiness/dns').expect(200)).body;
    expect(report).toMatchObject({ spfInclude: EU, spfIncludeSource: 'region' });
    expect(report.domains[0].spf).toMatchObject({ status: 'pass', detail: `The SPF record includes ${EU}.` });

    // The US relay is not in alpha's record.
    await admin.put('/api/readiness/settings').send({ region: 'us' }).expect(200);
    expect((await admin.get('/api/readiness/dns').expect(200)).body.domains[0].spf.status).toBe('fail');

    // A custom include wins over the region.
    await admin.put('/api/readiness/settings').send({ region: 'us', customInclude: EU.toUpperCase() }).expect(200);
    report = (await admin.get('/api/readiness/dns').expect(200)).body;
    expect(report).toMatchObject({ spfInclude: EU, spfIncludeSource: 'custom' });
    expect(report.domains[0].spf.status).toBe('pass');

    // Another tenant keeps the default include (beta's record carries it).
    const beta = await ctx.signIn('beta', 'fullAdministrator');
    report = (await beta.get('/api/readiness/dns').expect(200)).body;
    expect(report.spfInclude).toBe(DEFAULT);
    expect(report.domains[0].spf.status).toBe('pass');

    const audit = (await admin.get('/api/audit?category=configuration').expect(200)).body;
    const entries = (audit.items ?? audit.entries ?? audit) as { action: string; after: Record<string, unknown> }[];
    const updates = entries.filter((e) => e.action === 'readiness.settings.updated');
    expect(updates).toHaveLength(3);
    expect(updates.map((e) => e.after.spfInclude)).toEqual(expect.arrayContaining([EU, US]));
  });

  test('an unknown region or a bad include is a 422 naming the field, and nothing is written', async () => {
    const admin = await ctx.signIn('beta', 'fullAdministrator');
    const bad = await admin.put('/api/readiness/settings').send({ region: 'mars' }).expect(422);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.body.errors).toEqual([expect.objectContaining({ path: 'region', message: expect.stringContaining('eu, us') })]);
    const badHost = await admin.put('/api/readiness/settings').send({ region: null, customInclude: 'not a host' }).expect(422);
    expect(badHost.body.errors.map((e: { path: string }) => e.path)).toEqual(['customInclude']);
    expect((await admin.get('/api/readiness/settings').expect(200)).body).toMatchObject({ region: null, customInclude: null, spfInclude: DEFAULT });
  });

  test('only full administrators change the setting; read-only admins read it', async () => {
    const reader = await ctx.signIn('beta', 'readOnly');
    await reader.get('/api/readiness/settings').expect(200);
    await reader.put('/api/readiness/settings').send({ region: 'eu' }).expect(403);
    const basic = await ctx.signIn('beta', 'basicAdministrator');
    await basic.put('/api/readiness/settings').send({ region: 'eu' }).expect(403);
  });
});
