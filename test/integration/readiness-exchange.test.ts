/**
 * The Exchange Online readiness row (GET /api/readiness/exchange): MX and SPF looked up through the DNS
 * stand-in (verified / not verified), Lifeboat's ARC seal read from the continuity monitor's latest
 * inbound probe message in the probe mailbox through the Graph stand-in's internetMessageHeaders
 * (verified when the seal's signature checks with the tenant's own key and Exchange said arc=pass; not
 * verified without the seal, with a look-alike seal made by another key, when Exchange judged the chain
 * failed, or before any probe arrived), and what only Exchange knows said to be unverifiable, with the
 * `Get-` command to run. A bad host name is a 422 naming it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { authenticate } from 'mailauth';
import type request from 'supertest';
import { SIGNING_KEY_PURPOSE, createSigningKeys } from '../../server/mail/signing-key';
import { createSecretBox } from '../../server/secrets/seal';
import { TEST_SECRET, useLifeboat } from '../harness/context';
import { connectAndSync, useGraphStandIns } from '../harness/graph-stand-ins';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';
import { StandInWorld } from '../stand-ins/entra';

const SECRET = 'readiness-exchange-secret-1234';
const CLIENT_ID = '51111111-2222-4333-8444-555555555555';
const INCLUDE = 'spf.lifeboat.example';
const HOST = 'mx.lifeboat.example';

const world = new StandInWorld();
const contoso = world.addTenant('eeeeeeee-0000-4000-8000-000000000001');
contoso.domains = [
  { id: 'contoso.example', isVerified: true, isDefault: true },
  { id: 'contoso-sales.example', isVerified: true, isDefault: false },
];
contoso.putUser({ id: 'probe', displayName: 'Probe', mail: 'probe@contoso.example', userPrincipalName: 'probe@contoso.example' });
contoso.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Directory.Read.All', 'Application.Read.All', 'Mail.ReadWrite'] });

const standIns = useGraphStandIns(world);
let dns: DnsStandIn;
const saved = { ...process.env };
beforeAll(async () => {
  dns = await startDnsStandIn(
    {
      'contoso.example': [`v=spf1 include:spf.protection.outlook.com include:${INCLUDE} -all`],
      'contoso-sales.example': ['v=spf1 include:spf.protection.outlook.com -all'],
    },
    {
      mx: {
        'contoso.example': [{ priority: 10, exchange: HOST }],
        'contoso-sales.example': [{ priority: 0, exchange: 'contoso-sales-example.mail.protection.outlook.com' }],
      },
    },
  );
  // The routes read their DNS configuration when the app is built (by useLifeboat's beforeAll, after this one).
  process.env.LIFEBOAT_DNS_SERVERS = dns.server;
  process.env.LIFEBOAT_SPF_INCLUDE = INCLUDE;
}, 60_000);
afterAll(async () => {
  process.env = saved;
  await dns?.close();
});

const ctx = useLifeboat({ graph: standIns.graph });

type Check = { id: string; state: string; detail: string; command: string | null };

describe('readiness: the Exchange Online set-up verified from outside', () => {
  let admin: request.Agent;
  let probes = 0;
  const row = async (route = true) =>
    (await admin.get(`/api/readiness/exchange?lifeboatHost=${HOST}&routeThroughLifeboat=${route}`).expect(200)).body.checks as Check[];
  const check = (checks: Check[], id: string) => checks.find((c) => c.id === id)!;

  /** A probe the monitor's inbound check sent through Lifeboat, and the message as Exchange stored it. */
  async function probeArrived(headers: string[]): Promise<string> {
    const probeId = (++probes).toString(16).padStart(24, '0');
    await ctx.conn.collection('monitorprobes').insertOne({
      _id: probeId as never,
      tenantId: 'alpha',
      monitorId: 'm1',
      check: 'inbound',
      route: `${HOST}:25`,
      address: 'probe@contoso.example',
      sentAt: new Date(Date.now() - 60_000 + probes),
      receivedAt: new Date(Date.now() - 30_000 + probes),
    });
    contoso
      .mailbox('probe')
      .deliver(
        [...headers, `Message-ID: <${probeId}@lifeboat.local>`, `Subject: Lifeboat probe ${probeId}`, 'From: monitor@lifeboat.local', '', 'probe', ''].join(
          '\r\n',
        ),
      );
    return probeId;
  }

  /** The key Lifeboat seals the tenant's mail with (the one the service stores). */
  const tenantKey = () => createSigningKeys({ conn: ctx.conn, box: createSecretBox(TEST_SECRET, SIGNING_KEY_PURPOSE), now: () => new Date() }).keyOf('alpha');

  /** An ARC set by d=contoso.example; s=lifeboat1 made with `privateKey` (mailauth, as the mail path seals), as header lines. */
  async function arcSet(privateKey: string): Promise<string[]> {
    const raw = Buffer.from('From: monitor@lifeboat.local\r\nTo: probe@contoso.example\r\nSubject: probe\r\n\r\nprobe\r\n');
    const notFound = async () => {
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    };
    const res = await authenticate(raw, {
      ip: '192.0.2.1',
      helo: 'monitor.lifeboat.local',
      sender: 'monitor@lifeboat.local',
      mta: HOST,
      resolver: notFound as never,
      disableBimi: true,
      seal: { signingDomain: 'contoso.example', selector: 'lifeboat1', privateKey },
    });
    return res.headers.split('\r\n').filter(Boolean);
  }

  beforeAll(async () => {
    admin = await ctx.signIn('alpha', 'fullAdministrator', 'owner@alpha.test');
    await connectAndSync(admin, { entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET });
    await ctx.conn.collection('monitors').insertOne({ _id: 'm1' as never, tenantId: 'alpha', name: 'Main', probeMailbox: 'probe@contoso.example' });
  }, 90_000);

  it('DNS: MX and SPF verified where they point at Lifeboat, not verified where they do not', async () => {
    const checks = await row();
    expect(check(checks, 'mx')).toMatchObject({ state: 'notVerified', command: null });
    expect(check(checks, 'mx').detail).toMatch(/contoso-sales\.example → contoso-sales-example\.mail\.protection\.outlook\.com/);
    expect(check(checks, 'spf')).toMatchObject({ state: 'notVerified' });
    expect(check(checks, 'spf').detail).toMatch(/contoso-sales\.example: The SPF record does not include spf\.lifeboat\.example/);
    dns.publishMx('contoso-sales.example', [{ priority: 5, exchange: HOST }]);
    dns.publish('contoso-sales.example', [`v=spf1 include:${INCLUDE} -all`]);
    const fixed = await row();
    expect(check(fixed, 'mx')).toMatchObject({ state: 'verified' });
    expect(check(fixed, 'spf')).toMatchObject({ state: 'verified' });
    // Not routed through Lifeboat: no MX row, and no routing-rule rows.
    const direct = await row(false);
    expect(direct.map((c) => c.id)).toEqual(['spf', 'arc', 'connector', 'enhancedFiltering', 'arcTrust']);
  });

  it('what only Exchange knows cannot be verified from outside, and says which Get- command shows it', async () => {
    const checks = await row();
    for (const id of ['connector', 'enhancedFiltering', 'arcTrust', 'ruleOrder', 'routingRule'])
      expect(check(checks, id)).toMatchObject({ state: 'cannotVerify', command: expect.stringMatching(/^Get-/) });
    expect(check(checks, 'enhancedFiltering').command).toMatch(/Get-InboundConnector .*EFSkipLastIP/);
    expect(check(checks, 'ruleOrder').command).toMatch(/Get-TransportRule/);
  });

  it('ARC: not verified before any probe, then by the latest probe message’s seal and Exchange’s verdict', async () => {
    expect(check(await row(), 'arc')).toMatchObject({ state: 'notVerified', detail: expect.stringMatching(/No inbound probe message/) });

    // A probe that reached the mailbox without Lifeboat's seal (another sealer only).
    await probeArrived(['ARC-Seal: i=1; a=rsa-sha256; t=1; cv=none; d=other.example; s=sel; b=abc']);
    expect(check(await row(), 'arc')).toMatchObject({
      state: 'notVerified',
      detail: expect.stringMatching(/no ARC-Seal with d=contoso\.example; s=lifeboat1/),
    });

    // Sealed by Lifeboat, but Exchange did not trust the chain.
    const key = await tenantKey();
    await probeArrived([
      'ARC-Seal: i=2; a=rsa-sha256; t=2; cv=pass; d=microsoft.com; s=arcselector; b=xyz',
      'ARC-Authentication-Results: i=2; mx.microsoft.com 1; spf=pass; dmarc=pass; arc=fail (48)',
      ...(await arcSet(key.privateKey)),
    ]);
    expect(check(await row(), 'arc')).toMatchObject({ state: 'notVerified', detail: expect.stringMatching(/arc=fail/) });

    // A look-alike: Lifeboat's domain and selector, another key (Exchange passed it: the DNS record it read is not Lifeboat's).
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await probeArrived(['Authentication-Results: spf=pass; dkim=none; dmarc=pass; arc=pass (as.1.contoso.example=pass)', ...(await arcSet(stranger))]);
    expect(check(await row(), 'arc')).toMatchObject({
      state: 'notVerified',
      detail: expect.stringMatching(/does not verify with Lifeboat’s key.*lifeboat1\._domainkey\.contoso\.example/),
    });

    // Sealed by Lifeboat, trusted by Exchange.
    const trusted = await probeArrived([
      'Authentication-Results: spf=pass; dkim=none; dmarc=pass; arc=pass (as.1.contoso.example=pass)',
      ...(await arcSet(key.privateKey)),
    ]);
    const arc = check(await row(), 'arc');
    expect(arc).toMatchObject({ state: 'verified' });
    expect(arc.detail).toContain(trusted);
    expect(arc.detail).toMatch(/signature verified with Lifeboat’s key.*arc=pass/);
  });

  it('a bad host name is a 422 naming it', async () => {
    const res = await admin.get('/api/readiness/exchange?lifeboatHost=not%20a%20host').expect(422);
    expect(JSON.stringify(res.body)).toContain('lifeboatHost');
  });
});
