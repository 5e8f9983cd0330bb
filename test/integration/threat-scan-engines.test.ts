/**
 * The Threat Scan with the real protection pipeline behind it (no judge passed in): real rspamd and
 * clamd (test/harness/engines.ts), mailauth against the DNS stand-in, the impersonation rules against
 * the synced directory. Messages planted in a Graph stand-in mailbox carry the headers Exchange keeps
 * (Return-Path, the Received trace with Microsoft's own hops on top): GTUBE is spam, EICAR malware, an
 * unsigned message from a DMARC p=reject domain through a foreign server a spoof, a colleague's display
 * name from outside an impersonation; a signed partner message is clean with SPF from the Received
 * trace, and without any outside Received hop SPF is honestly skipped. Verdicts land in the one
 * protection verdict model with `source: graph`. Continuous protection then follows each inbox through
 * Graph delta: a CEO-fraud phish (a spoof of a DMARC p=reject partner) newly delivered is quarantined
 * in Protect mode (moved to the Lifeboat Quarantine folder, a quarantine entry) and only recorded for a
 * mailbox under a Monitor policy; mail that was there before it was switched on is not its to judge.
 */
import type request from 'supertest';
import { useLifeboat } from '../harness/context';
import { startTestClamd, startTestRspamd, type TestClamd } from '../harness/engines';
import { eventually } from '../harness/eventually';
import { dkimKey, EICAR, GTUBE, plainMessage, senderRecords, signed, withAttachment } from '../harness/protection-fixtures';
import { connectAndSync, useGraphStandIns } from '../harness/graph-stand-ins';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';
import { StandInWorld } from '../stand-ins/entra';
import { NO_ENGINES, type ProtectionEngines } from '../../server/protection/engines';
import { graphMessageKey } from '../../server/threat-scan/protection-judge';

const SECRET = 'scan-engines-secret-value-1234';
const CLIENT_ID = '31111111-2222-4333-8444-555555555555';
const PARTNER_IP = '192.0.2.10';
const FOREIGN_IP = '198.51.100.7';
const partner = dkimKey('partner.test');

const world = new StandInWorld();
const contoso = world.addTenant('cccccccc-0000-4000-8000-000000000001');
contoso.domains = [{ id: 'contoso.example', isVerified: true, isDefault: true }];
contoso.putUser({ id: 'ana', displayName: 'Ana Lopez', mail: 'ana@contoso.example', userPrincipalName: 'ana@contoso.example' });
contoso.putUser({ id: 'ben', displayName: 'Ben Ortiz', mail: 'ben@contoso.example', userPrincipalName: 'ben@contoso.example' });
contoso.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Directory.Read.All', 'Application.Read.All', 'Mail.ReadWrite'] });

/** The trace Exchange Online leaves: Microsoft's internal hops on top, the outside server below them. */
function trace(helo: string, ip: string): string[] {
  return [
    'Received: from BN8PR12MB3345.namprd12.prod.outlook.com (2603:10b6:408:4f::21) by SA1PR12MB6700.namprd12.prod.outlook.com with HTTPS; Mon, 1 Dec 2026 10:00:02 +0000',
    `Received: from BN1NAM02FT041.eop-nam02.prod.protection.outlook.com (2603:10b6:408:4f:cafe::5) by BN8PR12MB3345.namprd12.prod.outlook.com (2603:10b6:408:4f::21) with Microsoft SMTP Server; Mon, 1 Dec 2026 10:00:01 +0000`,
    `Received: from ${helo} (${helo} [${ip}]) by BN1NAM02FT041.mail.protection.outlook.com (10.13.2.146) with Microsoft SMTP Server id 15.20.1; Mon, 1 Dec 2026 10:00:00 +0000`,
  ];
}
const withTrace = (raw: Buffer, lines: string[]) => Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n`), raw]);

let dns: DnsStandIn;
let rspamd: Awaited<ReturnType<typeof startTestRspamd>>;
let clamd: TestClamd;
let engines: ProtectionEngines = NO_ENGINES;
const standIns = useGraphStandIns(world);
beforeAll(async () => {
  dns = await startDnsStandIn({ ...senderRecords(partner, PARTNER_IP) });
  [rspamd, clamd] = await Promise.all([startTestRspamd(dns.server), startTestClamd()]);
  engines = { ...NO_ENGINES, rspamd: rspamd.client, clamd: clamd.client };
}, 180_000);
afterAll(async () => {
  await Promise.all([rspamd?.close(), clamd?.close()]);
  await dns?.close();
});

const ctx = useLifeboat({
  graph: standIns.graph,
  services: {
    protection: {
      engines: () => engines,
      get dnsServers() {
        return [dns.server];
      },
    },
    threatScan: { pollMs: 30, pageSize: 4, continuous: { pollMs: 30, roundMs: 60_000 } },
  },
});

describe('Threat Scan through the protection pipeline', () => {
  let full: request.Agent;
  const planted: Record<string, string> = {};

  beforeAll(async () => {
    full = await ctx.signIn('alpha', 'fullAdministrator', 'owner@alpha.test');
    await connectAndSync(full, { entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET });
    const box = contoso.mailbox('ana');
    const plant = (name: string, raw: Buffer) => (planted[name] = box.deliver(raw.toString('latin1'), new Date(Date.now() - 86_400_000)).immutableId);
    const to = 'ana@contoso.example';
    plant(
      'spam',
      withTrace(plainMessage({ from: 'offers@bulk.example', to, subject: 'You won', body: `Claim it now ${GTUBE}` }), [
        'Return-Path: <offers@bulk.example>',
        ...trace('mail.bulk.example', FOREIGN_IP),
      ]),
    );
    plant(
      'malware',
      withTrace(
        withAttachment(
          { from: 'billing@bulk.example', to, subject: 'Invoice' },
          { filename: 'invoice.com', contentType: 'application/octet-stream', content: Buffer.from(EICAR) },
        ),
        ['Return-Path: <billing@bulk.example>', ...trace('mail.bulk.example', FOREIGN_IP)],
      ),
    );
    plant(
      'spoof',
      withTrace(plainMessage({ from: 'ceo@partner.test', to, subject: 'Urgent wire transfer' }), [
        'Return-Path: <ceo@partner.test>',
        ...trace('mail.bulk.example', FOREIGN_IP),
      ]),
    );
    plant(
      'impersonation',
      withTrace(plainMessage({ from: '"Ben Ortiz" <ben.ortiz.private@freemail.example>', to, subject: 'Quick favour' }), [
        'Return-Path: <ben.ortiz.private@freemail.example>',
        ...trace('smtp.freemail.example', '198.51.100.8'),
      ]),
    );
    const cleanRaw = await signed(plainMessage({ from: 'news@partner.test', to, subject: 'Partner news' }), partner);
    plant('clean', withTrace(cleanRaw, ['Return-Path: <news@partner.test>', ...trace('mail.partner.test', PARTNER_IP)]));
    // No outside hop in the trace (only Microsoft's): the connecting IP is unknown, DKIM carries DMARC.
    plant(
      'noTrace',
      withTrace(await signed(plainMessage({ from: 'news@partner.test', to, subject: 'Partner digest' }), partner), trace('x', '10.1.2.3').slice(0, 2)),
    );
  }, 120_000);

  it('finds spam, malware, spoof and impersonation with the real engines; verdicts are stored with source graph', async () => {
    const started = await full
      .post('/api/threat-scans')
      .send({ days: 7, targets: { userIds: ['ana'], groupIds: [] } })
      .expect(202);
    ctx.services.threatScan.start();
    await eventually(async () => expect((await full.get(`/api/threat-scans/${started.body.id}`).expect(200)).body.state).toBe('finished'), 120_000);
    const report = (await full.get(`/api/threat-scans/${started.body.id}/report`).expect(200)).body;
    const verdictOf = (name: string) => report.threats.find((t: { id: string }) => t.id === planted[name])?.verdict ?? 'clean';
    expect(Object.fromEntries(Object.keys(planted).map((name) => [name, verdictOf(name)]))).toEqual({
      spam: 'spam',
      malware: 'malware',
      spoof: 'spoof',
      impersonation: 'impersonation',
      clean: 'clean',
      noTrace: 'clean',
    });
    expect(report.counts).toEqual({ clean: 2, spam: 1, malware: 1, spoof: 1, impersonation: 1 });
    const malware = report.threats.find((t: { verdict: string }) => t.verdict === 'malware');
    expect(malware.evidence.clamd).toEqual({ signature: expect.stringMatching(/Eicar/i) });
    const spoof = report.threats.find((t: { verdict: string }) => t.verdict === 'spoof');
    expect(spoof.evidence).toMatchObject({ client: `Received: from mail.bulk.example [${FOREIGN_IP}]`, auth: { spf: 'fail', dmarc: 'fail' } });

    // One verdict model for both sources: the scan's verdicts are the protection verdicts, marked graph.
    const stored = await ctx.services.protection.verdicts.get('alpha', graphMessageKey('ana', planted.spam!));
    expect(stored).toMatchObject({ verdict: 'spam', source: 'graph' });
    const clean = await ctx.services.protection.verdicts.get('alpha', graphMessageKey('ana', planted.clean!));
    expect(clean?.evidence.auth).toMatchObject({ spf: 'pass', dkim: 'pass', dmarc: 'pass' });
    const noTrace = await ctx.services.protection.verdicts.get('alpha', graphMessageKey('ana', planted.noTrace!));
    expect(noTrace?.evidence.auth).toMatchObject({ spf: 'none', dkim: 'pass', dmarc: 'pass', spfSkipped: expect.stringMatching(/connecting IP is unknown/) });

    // The scan's detections are in the protection detections log with who, what, to whom, when and source graph.
    const log = (await full.get('/api/protection/detections?verdict=spam').expect(200)).body.items;
    expect(log).toEqual([
      expect.objectContaining({
        source: 'graph',
        mailFrom: 'offers@bulk.example',
        from: '<offers@bulk.example>',
        subject: 'You won',
        recipients: ['ana@contoso.example'],
        receivedAt: contoso.mailbox('ana').find(planted.spam!)!.receivedDateTime,
      }),
    ]);
  });

  it('continuous protection: Protect quarantines a newly delivered phish, Monitor only records it', async () => {
    const continuous = ctx.services.threatScan.continuous!;
    // ben's mailbox is under a Monitor policy; the default (ana) protects.
    await full
      .post('/api/protection/policies')
      .send({ name: 'Watch Ben', mode: 'monitor', recipients: { include: [{ type: 'address', value: 'ben@contoso.example' }] } })
      .expect(201);
    await full.put('/api/continuous-protection').send({ enabled: 'yes' }).expect(422);
    expect((await full.put('/api/continuous-protection').send({ enabled: true }).expect(200)).body).toMatchObject({ enabled: true });
    continuous.start();
    // The first round of each inbox takes its delta baseline (the planted mail is older: not judged here).
    await eventually(async () => expect((await full.get('/api/continuous-protection').expect(200)).body.mailboxes).toBe(2), 30_000);
    const baselined = () => ctx.conn.collection('continuousdeltas').countDocuments({ link: { $ne: null } });
    await eventually(async () => expect(await baselined()).toBe(2), 30_000);

    const phish = (to: string) =>
      withTrace(plainMessage({ from: 'ceo@partner.test', to, subject: `Wire transfer today ${to}` }), [
        'Return-Path: <ceo@partner.test>',
        ...trace('mail.bulk.example', FOREIGN_IP),
      ]).toString('latin1');
    const forAna = contoso.mailbox('ana').deliver(phish('ana@contoso.example'));
    const forBen = contoso.mailbox('ben').deliver(phish('ben@contoso.example'));
    const cleanRaw = await signed(plainMessage({ from: 'news@partner.test', to: 'ana@contoso.example', subject: 'Fresh news' }), partner);
    contoso.mailbox('ana').deliver(withTrace(cleanRaw, ['Return-Path: <news@partner.test>', ...trace('mail.partner.test', PARTNER_IP)]).toString('latin1'));
    await continuous.dueNow('alpha');

    let items: { messageId: string; recipient: string; verdict: string; mode: string; outcome: string; quarantineId: string | null }[] = [];
    await eventually(async () => {
      items = (await full.get('/api/continuous-protection/detections').expect(200)).body.items;
      expect(items).toHaveLength(2);
    }, 60_000);
    const ana = items.find((d) => d.recipient === 'ana@contoso.example')!;
    const ben = items.find((d) => d.recipient === 'ben@contoso.example')!;
    expect(ana).toMatchObject({ messageId: forAna.immutableId, verdict: 'spoof', mode: 'protect', outcome: 'quarantined' });
    expect(ben).toMatchObject({ messageId: forBen.immutableId, verdict: 'spoof', mode: 'monitor', outcome: 'recorded', quarantineId: null });
    // Protect moved it out of the inbox into the Lifeboat Quarantine folder, with a quarantine entry.
    const folder = contoso.mailbox('ana').folders.find((f) => f.displayName === 'Lifeboat Quarantine')!;
    expect(contoso.mailbox('ana').find(forAna.immutableId)?.parentFolderId).toBe(folder.id);
    expect(contoso.mailbox('ben').find(forBen.immutableId)?.parentFolderId).toBe('inbox');
    const held = (await full.get('/api/quarantine').expect(200)).body.items;
    expect(held.map((q: { id: string; verdict: string; recipient: string }) => [q.id, q.verdict, q.recipient])).toEqual([
      [ana.quarantineId, 'spoof', 'ana@contoso.example'],
    ]);
    // Judged once, in the one verdict model; an unchanged inbox brings no new detection.
    expect(await ctx.services.protection.verdicts.get('alpha', graphMessageKey('ben', forBen.immutableId))).toMatchObject({
      verdict: 'spoof',
      source: 'graph',
    });
    await continuous.dueNow('alpha');
    await eventually(async () => expect(await ctx.conn.collection('continuousdeltas').countDocuments({ nextRoundAt: { $gt: new Date() } })).toBe(2), 30_000);
    expect((await full.get('/api/continuous-protection/detections').expect(200)).body.items).toHaveLength(2);
    await full.put('/api/continuous-protection').send({ enabled: false }).expect(200);
    await continuous.stop();
  });
});
