/**
 * A Threat Scan survives its server being killed outright (SIGKILL) mid-scan: the restarted server
 * (the real entry, server/main.ts) takes over the dead process's mailbox leases once they expire and
 * goes on from each mailbox's saved page; every message ends with exactly one verdict, and no message
 * judged before the kill is fetched again. The scan is started by services on the same database in
 * this process (no loops), so only the server processes scan.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SYSTEM_CONTEXT } from '../../server/audit/context';
import { openConnection } from '../../server/db/connection';
import { createServices, syncIndexes } from '../../server/services';
import { threatScanModels } from '../../server/threat-scan/model';
import { testDatabaseUri, testServiceOptions, TEST_SECRET } from '../harness/context';
import { startServer, type ServerProcess } from '../harness/server-process';
import { useGraphStandIns } from '../harness/graph-stand-ins';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';
import { StandInWorld } from '../stand-ins/entra';

const CLIENT_ID = '41111111-2222-4333-8444-555555555555';
const SECRET = 'restart-client-secret-value';
const MAILBOXES = 4;
const PER_MAILBOX = 150; // three pages of 50 each

const world = new StandInWorld();
world.mail.options.latencyMs = 40; // each Graph request takes a while, so the kill lands mid-scan
const entra = world.addTenant('dddddddd-0000-4000-8000-000000000001');
entra.domains = [{ id: 'restart.example', isVerified: true, isDefault: true }];
entra.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Directory.Read.All', 'Application.Read.All', 'Mail.Read'] });
for (let u = 0; u < MAILBOXES; u++) {
  const id = `user-${u}`;
  entra.putUser({ id, displayName: `User ${u}`, mail: `${id}@restart.example`, userPrincipalName: `${id}@restart.example` });
  for (let n = 0; n < PER_MAILBOX; n++)
    entra
      .mailbox(id)
      .deliver(
        [`From: s${n}@partner.example`, `To: ${id}@restart.example`, `Subject: m ${u}-${n}`, `Message-ID: <r${u}-${n}@partner.example>`, '', 'hello', ''].join(
          '\r\n',
        ),
        new Date(Date.now() - (1 + (n % 20)) * 3_600_000),
      );
}

const standIns = useGraphStandIns(world);
let dns: DnsStandIn;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-scan-restart-'));
const uri = `${testDatabaseUri().replace(/\/$/, '')}/scan_restart_${Date.now()}`;
beforeAll(async () => {
  dns = await startDnsStandIn({});
});
afterAll(async () => {
  await dns?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const valueFetches = (from = 0) =>
  world.requests
    .slice(from)
    .filter((r) => r.method === 'GET' && r.path.includes('/$value'))
    .map((r) => decodeURIComponent(/\/messages\/([^/]+)\/\$value/.exec(r.path)![1]!));

test('SIGKILL mid-scan: the restarted server resumes where it was; no message judged twice', async () => {
  const conn = await openConnection(uri);
  const env = {
    MONGODB_URI: uri,
    LIFEBOAT_DATA_DIR: dataDir,
    LIFEBOAT_SECRET: TEST_SECRET,
    LIFEBOAT_GRAPH_URL: standIns.graphUrl,
    LIFEBOAT_ENTRA_AUTHORITY: standIns.loginUrl,
    LIFEBOAT_DNS_SERVERS: dns.server,
    LIFEBOAT_THREAT_SCAN_LEASE_SECONDS: '2',
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
  };
  let server: ServerProcess | null = null;
  try {
    await syncIndexes(conn);
    const services = createServices(conn, testServiceOptions({ graph: standIns.graph() }));
    await services.tenants.upsert({ id: 'restart', name: 'Restart', domains: ['restart.example'] }, 'graph');
    await services.entra.connections.set('restart', { entraTenantId: entra.id, clientId: CLIENT_ID, clientSecret: SECRET });
    await services.entra.sync.start('restart', { full: true });
    await services.entra.sync.settled('restart');
    const admin = { tenantId: 'restart', adminId: 'a1', email: 'admin@restart.example', displayName: 'Admin', role: 'fullAdministrator' as const };
    const scan = await services.threatScan.startScan(admin, { days: 7 }, SYSTEM_CONTEXT);
    const models = threatScanModels(conn);
    const total = MAILBOXES * PER_MAILBOX;

    server = await startServer(env);
    const deadline = Date.now() + 120_000;
    while ((await models.messages.countDocuments({ scanId: scan.id })) < 100) {
      if (Date.now() > deadline) throw new Error(`the first server did not scan:\n${server.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    server.child.kill('SIGKILL');
    await server.exited;
    server = null;
    const requestsAtKill = world.requests.length;
    const judgedBefore = new Set((await models.messages.find({ scanId: scan.id }, { messageId: 1 }).lean()).map((m) => m.messageId));
    const savedPages = await models.mailboxes.find({ scanId: scan.id, nextLink: { $ne: null } }).lean();
    expect(judgedBefore.size).toBeGreaterThan(0);
    expect(judgedBefore.size).toBeLessThan(total);
    expect((await models.scans.findById(scan.id).lean())?.state).toBe('running');

    server = await startServer(env);
    const finishBy = Date.now() + 180_000;
    while ((await models.scans.findById(scan.id).lean())?.state !== 'finished') {
      if (Date.now() > finishBy) throw new Error(`the restarted server did not finish the scan:\n${server.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    // Every message has exactly one verdict record; the counted total is the real total.
    const records = await models.messages.find({ scanId: scan.id }, { messageId: 1 }).lean();
    expect(records).toHaveLength(total);
    expect(new Set(records.map((r) => r.messageId)).size).toBe(total);
    const mailboxes = await models.mailboxes.find({ scanId: scan.id }).lean();
    expect(mailboxes.map((m) => m.state)).toEqual(Array(MAILBOXES).fill('done'));
    expect(mailboxes.reduce((a, m) => a + m.scanned, 0)).toBe(total);
    // Nothing judged before the kill was fetched (or judged) again after it.
    expect(valueFetches(requestsAtKill).filter((id) => judgedBefore.has(id))).toEqual([]);
    // Mailboxes that had saved their place did not start their listing again from the first page.
    const firstPagesAfter = world.requests.slice(requestsAtKill).filter((r) => r.path.includes('%24filter=') || r.path.includes('$filter='));
    for (const m of savedPages) expect(firstPagesAfter.filter((r) => r.path.includes(`/users/${m.userId}/messages?`))).toEqual([]);
  } finally {
    if (server) await server.stop('SIGINT');
    await conn.close();
  }
}, 400_000);
