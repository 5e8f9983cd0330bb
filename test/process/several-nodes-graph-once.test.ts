/**
 * Exactly once across nodes for the work Lifeboat does through Microsoft Graph: two real server processes
 * on ONE database, both running every loop, against the HTTPS Graph stand-in. A Threat Scan started on
 * node A is run once (each message fetched and judged once, each mailbox counted once) although node B's
 * scan worker polls too; continuous protection on both nodes judges each newly delivered message once and
 * quarantines a phish once; when an event ends, each message a user sent through Lifeboat is written to
 * their Exchange Sent Items once, even while an administrator's run on the other node copies too. No Redis: exactly once rests on the database's claims and leases.
 * Many small mailboxes, so a node's scan worker goes over a list of pending mailboxes while the other node
 * finishes some of them (a mailbox finished and released meanwhile was scanned and counted twice).
 */
import type { Connection } from 'mongoose';
import { openConnection } from '../../server/db/connection';
import { threatScanModels } from '../../server/threat-scan/model';
import { ADMIN_TENANT_ONLY, createNodes, type Node } from '../harness/nodes';
import { dkimKey, graphPhish, senderRecords } from '../harness/protection-fixtures';
import { startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';
import { startStandIns, StandInWorld, type StandIns } from '../stand-ins/entra';
import { assertCertificateTrusted } from '../stand-ins/tls';

const CLIENT_ID = '41111111-2222-4333-8444-555555555555';
const SECRET = 'several-nodes-graph-secret-1234';
const USERS = Array.from({ length: 30 }, (_, i) => `user-${i}`);
const OLD_PER_MAILBOX = 2;
const FOREIGN_IP = '198.51.100.7';
const partner = dkimKey('partner.test');

const world = new StandInWorld();
const contoso = world.addTenant('eeeeeeee-0000-4000-8000-000000000001');
contoso.domains = [{ id: 'contoso.example', isVerified: true, isDefault: true }];
contoso.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Directory.Read.All', 'Application.Read.All', 'Mail.ReadWrite'] });
for (const id of USERS) {
  contoso.putUser({ id, displayName: id, mail: `${id}@contoso.example`, userPrincipalName: `${id}@contoso.example` });
  // Mail received before continuous protection started: the Threat Scan's, not the delta loop's.
  for (let n = 0; n < OLD_PER_MAILBOX; n++)
    contoso
      .mailbox(id)
      .deliver(
        [
          `From: s${n}@partner.example`,
          `To: ${id}@contoso.example`,
          `Subject: old ${id}-${n}`,
          `Message-ID: <old-${id}-${n}@partner.example>`,
          '',
          'hello',
          '',
        ].join('\r\n'),
        new Date(Date.now() - (1 + n) * 3_600_000),
      );
}
contoso.putGroup({ id: 'staff', displayName: 'Staff', members: USERS });

// The nodes' file directory holds the administrator's tenant only: it is then connected to the Entra stand-in.
const nodes = createNodes([ADMIN_TENANT_ONLY]);
let standIns: StandIns;
let dns: DnsStandIn;
let a: Node;
let b: Node;
let conn: Connection;
/** The administrators' mail server (the notification email channel): the Threat Scan report arrives here. */
let reportsTo: SmtpPeer;

/** How many times Graph was asked for each message's MIME (directly or inside a JSON batch), by message id. */
function mimeFetches(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of world.requests) {
    const id = /\/messages\/([^/?]+)\/\$value/.exec(r.path)?.[1];
    if (r.method === 'GET' && id) counts.set(decodeURIComponent(id), (counts.get(decodeURIComponent(id)) ?? 0) + 1);
  }
  return counts;
}

const json = nodes.call;

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      // What each inbox's round record says, to read after a failure.
      const rounds = await deltas()
        .find({ tenantId: 'acme' }, { projection: { link: 0 } })
        .toArray()
        .catch(() => []);
      throw new Error(`timed out waiting for ${what} (at ${new Date().toISOString()}); rounds: ${JSON.stringify(rounds)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const deltas = () => conn.collection('continuousdeltas');

beforeAll(async () => {
  assertCertificateTrusted();
  [standIns, dns, reportsTo] = await Promise.all([startStandIns(world), startDnsStandIn({ ...senderRecords(partner, '192.0.2.10') }), startPeer('accept')]);
  const env = {
    LIFEBOAT_GRAPH_URL: standIns.graphUrl,
    LIFEBOAT_ENTRA_AUTHORITY: standIns.loginUrl,
    LIFEBOAT_DNS_SERVERS: dns.server,
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
  };
  [a, b] = await nodes.startTogether(['a', 'b'], env);
  conn = await openConnection(nodes.databaseUri());
  await nodes.signIn(a);
  await json(a, 'PUT', '/api/notify/settings', { email: { host: '127.0.0.1', port: reportsTo.port, from: 'lifeboat@acme.test' } });
  await nodes.connectEntra(a, { entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET });
}, 120_000);

afterAll(async () => {
  await conn?.close();
  await nodes.stop();
  await standIns?.close();
  await dns?.close();
  await reportsTo?.close();
});

describe('exactly once across two nodes, through Microsoft Graph', () => {
  it('continuous protection on both nodes judges each new message once and quarantines a phish once', async () => {
    // Both nodes follow the inboxes; every inbox has its delta baseline first, so what arrives next is new.
    await until(
      async () => (await deltas().countDocuments({ tenantId: 'acme', link: { $ne: null }, lastRoundAt: { $ne: null } })) === USERS.length,
      60_000,
      'every inbox baselined',
    );
    // Both nodes know the app may move mail (Mail.ReadWrite), so whichever node judges the phish quarantines it.
    for (const node of [a, b])
      await until(
        async () => (await json(node, 'GET', '/api/continuous-protection')).canRemediate === true,
        30_000,
        `node ${node.name} to know it can remediate`,
      );
    expect(await json(b, 'GET', '/api/continuous-protection')).toMatchObject({ enabled: true, mode: 'protect', canRemediate: true });
    const fresh = USERS.map((id, i) =>
      contoso
        .mailbox(id)
        .deliver(
          i === 0
            ? graphPhish(`${id}@contoso.example`, 'Wire transfer today', FOREIGN_IP)
            : [`From: friend@partner.example`, `To: ${id}@contoso.example`, `Subject: new ${id}`, `Message-ID: <new-${id}@partner.example>`, '', 'hi', ''].join(
                '\r\n',
              ),
        ),
    );
    // Every inbox due now (as its next round would be): both nodes' loops find them. Each mailbox request
    // takes a while, so a round is still under way when the other node's loop looks (every 5 s).
    world.mail.options.latencyMs = 400;
    const due = new Date();
    await deltas().updateMany({ tenantId: 'acme' }, { $set: { nextRoundAt: due } });
    await until(() => fresh.every((m) => mimeFetches().has(m.immutableId)), 60_000, 'every new message judged');
    // Due again: a round that judged a message a second time would have run by now.
    const again = new Date();
    await deltas().updateMany({ tenantId: 'acme' }, { $set: { nextRoundAt: again } });
    await until(
      async () => (await deltas().countDocuments({ tenantId: 'acme', lastRoundAt: { $gt: again } })) === USERS.length,
      60_000,
      `another round of every inbox after ${again.toISOString()}`,
    );
    world.mail.options.latencyMs = 0;
    expect(fresh.map((m) => [m.subject, mimeFetches().get(m.immutableId)])).toEqual(fresh.map((m) => [m.subject, 1]));
    const moves = world.requests.filter((r) => r.method === 'POST' && r.path.includes(`/messages/${fresh[0]!.immutableId}/move`));
    expect(moves).toHaveLength(1);
    const detections = (await json(a, 'GET', '/api/continuous-protection/detections')).items;
    expect(detections).toMatchObject([{ messageId: fresh[0]!.immutableId, outcome: 'quarantined' }]);
    expect(await conn.collection('quarantineentries').countDocuments({ messageId: `graph:${USERS[0]}:${fresh[0]!.immutableId}` })).toBe(1);
  }, 120_000);

  it('a Threat Scan started on node A is run once, though node B polls for scans too', async () => {
    world.mail.options.latencyMs = 0;
    const before = mimeFetches();
    const scan = await json(a, 'POST', '/api/threat-scans', { days: 7 });
    await until(async () => (await json(b, 'GET', `/api/threat-scans/${scan.id}`)).state === 'finished', 90_000, 'the scan to finish');
    await new Promise((r) => setTimeout(r, 3000)); // both scan workers (1 s polls) have looked again by now
    const view = await json(a, 'GET', `/api/threat-scans/${scan.id}`);
    const total = USERS.length * (OLD_PER_MAILBOX + 1); // the old mail and the one new message of each inbox
    expect(view.progress).toMatchObject({ mailboxesTotal: USERS.length, mailboxesDone: USERS.length, messagesScanned: total });
    // Each message's MIME fetched once by the scan (the new ones were judged once before, by continuous protection).
    const old = USERS.flatMap((id) => contoso.mailbox(id).messages.filter((m) => m.subject.startsWith('old ')));
    expect(old).toHaveLength(USERS.length * OLD_PER_MAILBOX);
    const after = mimeFetches();
    expect(old.filter((m) => after.get(m.immutableId) !== 1).map((m) => [m.subject, after.get(m.immutableId)])).toEqual([]);
    for (const [id, n] of after) if (!old.some((m) => m.immutableId === id)) expect([id, n - (before.get(id) ?? 0)]).toEqual([id, 1]);
    // One verdict record per message, and each mailbox counted once (its figures are the report's while it runs).
    const models = threatScanModels(conn);
    expect(await models.messages.countDocuments({ scanId: scan.id })).toBe(total);
    const mailboxes = await models.mailboxes.find({ scanId: scan.id }).lean();
    const figures = new Map(mailboxes.map((m) => [m.userId, [m.state, m.scanned]]));
    expect(USERS.map((id) => [id, figures.get(id)])).toEqual(USERS.map((id) => [id, ['done', OLD_PER_MAILBOX + 1]]));
    // One report: the finished scan is emailed to the administrator once.
    const reports = () => reportsTo.received.filter((m) => /^Subject: Threat Scan finished/m.test(m.raw));
    await until(() => reports().length > 0, 30_000, 'the report email');
    await new Promise((r) => setTimeout(r, 1000));
    expect(reports()).toHaveLength(1);
  }, 150_000);

  it('when an event ends, each message users sent through Lifeboat is written to their Sent Items once', async () => {
    const senders = USERS.slice(0, 4);
    for (const [i, id] of senders.entries()) {
      const token = await nodes.userToken(i % 2 ? b : a, id, `${id}@contoso.example`);
      for (const k of [1, 2]) {
        const res = await fetch(`${(i % 2 ? b : a).server.url}/api/me/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ to: ['partner@fabrikam.example'], subject: `Sent by ${id} #${k}`, html: '<p>Hello</p>' }),
        });
        expect(res.status).toBe(201);
      }
    }
    const eventId = await nodes.createEvent(a, 1000, { affectedGroupId: 'staff' });
    await until(async () => (await nodes.transitions(a, eventId)).length === 1, 30_000, 'the event to start');
    const sentItems = () =>
      USERS.flatMap((id) =>
        contoso
          .mailbox(id)
          .messages.filter((m) => m.parentFolderId === 'sentitems')
          .map((m) => m.subject),
      );
    // Each copy takes a while, so the run the end starts (on B) is under way when an administrator starts
    // one on A: both nodes go over the same sent mail.
    world.mail.options.latencyMs = 300;
    await json(b, 'POST', `/api/events/${eventId}/end`);
    await until(() => world.requests.some((r) => r.path.includes('/mailFolders/sentitems/messages')), 30_000, 'the first copy');
    await json(a, 'POST', '/api/sent-items/write-back');
    await until(() => sentItems().length >= senders.length * 2, 60_000, 'the sent items written back');
    await until(async () => (await json(a, 'GET', '/api/sent-items/write-back')).state === 'done', 30_000, 'the write-back run to finish');
    await new Promise((r) => setTimeout(r, 3000)); // a second run on the other node would have started by now
    world.mail.options.latencyMs = 0;
    expect(sentItems().sort()).toEqual(senders.flatMap((id) => [1, 2].map((k) => `Sent by ${id} #${k}`)).sort());
    expect(await nodes.transitions(a, eventId)).toEqual([
      ['start', 'schedule'],
      ['end', expect.any(String)],
    ]);
    // The end started one run by itself (and the administrator one more).
    const started = (await json(a, 'GET', '/api/audit?limit=200')).items.filter((e: { action: string }) => e.action === 'sentItems.writeBack.started');
    expect(started.map((e: { after: { trigger?: string } | null }) => e.after?.trigger ?? 'admin').sort()).toEqual(['admin', 'eventEnded']);
  }, 120_000);
});
