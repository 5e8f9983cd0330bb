/**
 * Continuous protection without anyone switching it on: a Graph-connected tenant in Protect has a newly
 * delivered phish (an unsigned CEO mail from a DMARC p=reject partner through a foreign server: spoof)
 * moved to the Lifeboat Quarantine folder; its verdict appears in the protection detections log with
 * sender, subject, recipient, received time and source graph. Releasing that quarantine entry moves the
 * message back to the Inbox (once: a second release is a 409 and moves nothing); a quarantined message
 * the user deleted meanwhile is a 410. In Monitor a new phish is only recorded; in Disabled, or after an
 * administrator's opt-out, nothing new is judged. A tenant whose app lacks Mail.Read is told so, and the
 * permission is not probed again on every look. Real protection pipeline (engines off, mailauth against
 * the DNS stand-in), real Graph stand-in over HTTPS, real database.
 */
import type request from 'supertest';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { dkimKey, graphPhish, senderRecords } from '../harness/protection-fixtures';
import { connectAndSync, useGraphStandIns } from '../harness/graph-stand-ins';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';
import { StandInWorld } from '../stand-ins/entra';
import { ENGINES_OFF } from '../../server/protection/engines';

const SECRET = 'continuous-secret-value-1234';
const CLIENT_ID = '41111111-2222-4333-8444-555555555555';
const FOREIGN_IP = '198.51.100.7';
const partner = dkimKey('partner.test');

const world = new StandInWorld();
const contoso = world.addTenant('dddddddd-0000-4000-8000-000000000001');
contoso.domains = [{ id: 'contoso.example', isVerified: true, isDefault: true }];
contoso.putUser({ id: 'ana', displayName: 'Ana Lopez', mail: 'ana@contoso.example', userPrincipalName: 'ana@contoso.example' });
contoso.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Directory.Read.All', 'Application.Read.All', 'Mail.ReadWrite'] });
// A second organisation whose app was never granted Mail.Read.
const fabrikam = world.addTenant('dddddddd-0000-4000-8000-000000000002');
fabrikam.domains = [{ id: 'fabrikam.example', isVerified: true, isDefault: true }];
fabrikam.putUser({ id: 'eve', displayName: 'Eve', mail: 'eve@fabrikam.example', userPrincipalName: 'eve@fabrikam.example' });
fabrikam.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Directory.Read.All', 'Application.Read.All'] });

const standIns = useGraphStandIns(world);
let dns: DnsStandIn;
beforeAll(async () => {
  dns = await startDnsStandIn({ ...senderRecords(partner, '192.0.2.10') });
}, 60_000);
afterAll(async () => {
  await dns?.close();
});

const ctx = useLifeboat({
  graph: standIns.graph,
  services: {
    protection: {
      engines: () => ENGINES_OFF,
      get dnsServers() {
        return [dns.server];
      },
    },
    threatScan: { pollMs: 30, continuous: { pollMs: 30, roundMs: 60_000 } },
  },
});

let n = 0;
/** A CEO-fraud phish as Exchange stores it: Microsoft's hop on top, the foreign server below it. */
function phish(to: string): string {
  return graphPhish(to, `Wire transfer today ${++n}`, FOREIGN_IP);
}

describe('continuous protection on by default for Monitor and Protect tenants', () => {
  let admin: request.Agent;
  const box = () => contoso.mailbox('ana');
  const status = async () => (await admin.get('/api/continuous-protection').expect(200)).body;
  const detections = async () => (await admin.get('/api/continuous-protection/detections').expect(200)).body.items as { messageId: string; outcome: string }[];
  /** Waits until every followed inbox has its delta baseline (the first round), so what is delivered next is new. */
  const baselined = async () => {
    await eventually(async () => expect((await status()).mailboxes).toBe(1), 30_000);
    await eventually(
      async () => expect(await ctx.conn.collection('continuousdeltas').countDocuments({ tenantId: 'alpha', link: { $ne: null } })).toBe(1),
      30_000,
    );
  };
  /** One finished round after now: every mailbox's next round moved past this moment. */
  const oneRound = async () => {
    const before = new Date();
    const deltas = ctx.conn.collection('continuousdeltas');
    await ctx.services.threatScan.continuous!.dueNow('alpha');
    await eventually(async () => {
      // A round that failed (a loaded machine) waits out its back-off: ask for the next one now. Not otherwise: a
      // round asked for while one is in flight would still be running when the next test starts.
      if (await deltas.countDocuments({ tenantId: 'alpha', failures: { $gt: 0 } })) await ctx.services.threatScan.continuous!.dueNow('alpha');
      expect(await deltas.countDocuments({ tenantId: 'alpha', lastRoundAt: { $gt: before } })).toBe(1);
    }, 30_000);
  };

  beforeAll(async () => {
    admin = await ctx.signIn('alpha', 'fullAdministrator', 'owner@alpha.test');
    await connectAndSync(admin, { entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET });
    ctx.services.threatScan.continuous!.start();
  }, 90_000);
  afterAll(async () => {
    await ctx.services.threatScan.continuous!.stop();
  });

  it('Protect, never switched on: a new phish is quarantined in the mailbox and logged with sender and subject', async () => {
    expect(await status()).toMatchObject({ enabled: true, choice: 'automatic', mode: 'protect', missingPermission: null, canRemediate: true });
    expect((await status()).reason).toMatch(/On by default: the tenant’s mode is Protect/);
    await baselined();
    const msg = box().deliver(phish('ana@contoso.example'));
    await ctx.services.threatScan.continuous!.dueNow('alpha');
    await eventually(async () => expect(await detections()).toMatchObject([{ messageId: msg.immutableId, outcome: 'quarantined' }]), 30_000);
    const folder = box().folders.find((f) => f.displayName === 'Lifeboat Quarantine')!;
    expect(box().find(msg.immutableId)?.parentFolderId).toBe(folder.id);
    const s = await status();
    expect(s.lastPassAt).toEqual(expect.any(String));

    // The same detections log as SMTP mail: who, what, to whom, when received, from which source.
    const log = (await admin.get('/api/protection/detections?verdict=spoof').expect(200)).body.items;
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      verdict: 'spoof',
      source: 'graph',
      mailFrom: 'ceo@partner.test',
      from: 'Partner CEO <ceo@partner.test>',
      subject: msg.subject,
      recipients: ['ana@contoso.example'],
      receivedAt: new Date(msg.receivedDateTime).toISOString(),
    });
    const csv = (await admin.get('/api/protection/detections/export.csv').expect(200)).text;
    expect(csv).toContain(msg.subject);
  });

  it('releasing a mailbox quarantine entry moves it back to the Inbox once; a message the user deleted is a 410', async () => {
    const [held] = (await admin.get('/api/quarantine').expect(200)).body.items as { id: string; messageId: string }[];
    expect(held!.messageId).toMatch(/^graph:ana:/);
    const immutableId = held!.messageId.replace(/^graph:ana:/, '');
    await admin
      .post(`/api/quarantine/${encodeURIComponent(held!.id)}/release`)
      .send({ reason: 'a real partner mail' })
      .expect(200);
    expect(box().find(immutableId)?.parentFolderId).toBe('inbox');
    const seq = box().seq;
    await admin
      .post(`/api/quarantine/${encodeURIComponent(held!.id)}/release`)
      .send({ reason: 'again' })
      .expect(409);
    expect(box().seq).toBe(seq); // no second move
    const audit = (await admin.get('/api/audit?category=protection').expect(200)).body.items as { action: string; after: Record<string, unknown> }[];
    expect(audit.find((a) => a.action === 'quarantine.release')?.after).toMatchObject({ movedBack: true, folderId: 'inbox' });

    // Moved back into the inbox, it is not judged (or quarantined) again on the next round.
    await oneRound();
    expect(box().find(immutableId)?.parentFolderId).toBe('inbox');

    // A second phish is quarantined, then the user empties the quarantine folder: release answers 410.
    const other = box().deliver(phish('ana@contoso.example'));
    await ctx.services.threatScan.continuous!.dueNow('alpha');
    await eventually(async () => expect((await detections()).map((d) => d.messageId)).toContain(other.immutableId), 30_000);
    const entry = ((await admin.get('/api/quarantine').expect(200)).body.items as { id: string; messageId: string }[]).find((q) =>
      q.messageId.endsWith(other.immutableId),
    )!;
    box().remove(box().find(other.immutableId)!);
    const gone = await admin
      .post(`/api/quarantine/${encodeURIComponent(entry.id)}/release`)
      .send({ reason: 'needed' })
      .expect(410);
    expect(gone.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(gone.body.detail).toMatch(/no longer in the mailbox/);
  });

  it('Monitor only records a new phish', async () => {
    await admin.put('/api/protection/policies/default:alpha').send({ name: 'Default policy', mode: 'monitor' }).expect(200);
    expect(await status()).toMatchObject({ enabled: true, choice: 'automatic', mode: 'monitor' });
    const msg = box().deliver(phish('ana@contoso.example'));
    await ctx.services.threatScan.continuous!.dueNow('alpha');
    await eventually(
      async () => expect(await detections()).toContainEqual(expect.objectContaining({ messageId: msg.immutableId, outcome: 'recorded' })),
      30_000,
    );
    expect(box().find(msg.immutableId)?.parentFolderId).toBe('inbox');
  });

  it('Disabled is not scanned; back in Protect, mail delivered meanwhile is not judged', async () => {
    await admin.put('/api/protection/policies/default:alpha').send({ name: 'Default policy', mode: 'disabled' }).expect(200);
    await eventually(async () => expect(await status()).toMatchObject({ enabled: false, mode: 'disabled', mailboxes: 0 }), 30_000);
    expect((await status()).reason).toMatch(/Disabled/);
    const during = box().deliver(phish('ana@contoso.example'));
    await admin.put('/api/protection/policies/default:alpha').send({ name: 'Default policy', mode: 'protect' }).expect(200);
    await baselined();
    await oneRound();
    expect((await detections()).map((d) => d.messageId)).not.toContain(during.immutableId);
    expect(box().find(during.immutableId)?.parentFolderId).toBe('inbox');
  });

  it('an administrator opting out stops it; switching it on again resumes', async () => {
    const off = (await admin.put('/api/continuous-protection').send({ enabled: false }).expect(200)).body;
    expect(off).toMatchObject({ enabled: false, choice: 'off', mailboxes: 0 });
    expect(off.reason).toMatch(/switched it off/);
    const during = box().deliver(phish('ana@contoso.example'));
    await ctx.services.threatScan.continuous!.dueNow('alpha');
    // The loop keeps passing (another tenant's state is refreshed) without following alpha's mailboxes.
    expect(await status()).toMatchObject({ enabled: false, choice: 'off', mailboxes: 0 });
    const on = (await admin.put('/api/continuous-protection').send({ enabled: true }).expect(200)).body;
    expect(on).toMatchObject({ enabled: true, choice: 'on' });
    await baselined();
    await oneRound();
    expect((await detections()).map((d) => d.messageId)).not.toContain(during.immutableId);
  });

  it('a round asked for while one is running stays due when that one ends (not a whole round later)', async () => {
    const deltas = ctx.conn.collection('continuousdeltas');
    const leases = ctx.conn.collection('threatscanleases');
    world.mail.options.latencyMs = 1_500; // every Graph request of the round takes a while
    try {
      const before = new Date();
      await ctx.services.threatScan.continuous!.dueNow('alpha');
      await eventually(async () => expect(await leases.countDocuments({ _id: { $regex: /^delta:alpha:/ } } as never)).toBe(1), 15_000);
      // Running now: ask for the next round.
      await ctx.services.threatScan.continuous!.dueNow('alpha');
      await eventually(async () => expect(await deltas.countDocuments({ tenantId: 'alpha', lastRoundAt: { $gt: before } })).toBe(1), 30_000);
      const ended = (await deltas.findOne({ tenantId: 'alpha' }))!;
      expect(ended.nextRoundAt.getTime()).toBeLessThanOrEqual(Date.now());
      // And it runs: another round ends after the first.
      await eventually(async () => expect(await deltas.countDocuments({ tenantId: 'alpha', lastRoundAt: { $gt: ended.lastRoundAt } })).toBe(1), 30_000);
    } finally {
      world.mail.options.latencyMs = 0;
    }
  });

  it('a tenant whose app lacks Mail.Read is told which permission is missing, without a probe on every look', async () => {
    const other = await ctx.signIn('beta', 'fullAdministrator', 'owner@beta.test');
    await other.put('/api/directory/connection').send({ entraTenantId: fabrikam.id, clientId: CLIENT_ID, clientSecret: SECRET }).expect(201);
    const first = (await other.get('/api/continuous-protection').expect(200)).body;
    expect(first).toMatchObject({ enabled: false, choice: 'automatic', mode: 'protect', missingPermission: 'Mail.Read', mailboxes: 0 });
    expect(first.reason).toMatch(/Mail\.Read/);
    await ctx.services.threatScan.continuous!.dueNow('beta');
    const again = (await other.get('/api/continuous-protection').expect(200)).body;
    expect(again.permissionCheckedAt).toBe(first.permissionCheckedAt);
    // Switching it on explicitly is refused with the same permission named.
    const refused = await other.put('/api/continuous-protection').send({ enabled: true }).expect(403);
    expect(refused.body.missingPermission).toBe('Mail.Read');
  });
});
