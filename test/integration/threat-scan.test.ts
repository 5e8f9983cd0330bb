/**
 * The Threat Scan and Remove Threats through the real msal-node and Graph SDK against the HTTPS Graph
 * stand-in: permissions missing (a 4xx naming them), a scan of several mailboxes with planted threats
 * (found, reported as JSON and formula-safe CSV, emailed), the per-mailbox concurrency limit, throttling
 * and a mailbox that keeps failing, End Scan mid-way and resume (no message judged twice), a stopped
 * loop going on where it was, remediation (quarantine folder, junk, hard delete with confirmation) and
 * undo. The judge is a real but minimal one living here (GTUBE → spam, EICAR → malware); the protection
 * pipeline of server/protection is plugged into the same interface by services.ts.
 */
import type request from 'supertest';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { connectAndSync, useGraphStandIns } from '../harness/graph-stand-ins';
import { StandInWorld } from '../stand-ins/entra';
import type { MessageJudge } from '../../server/threat-scan/judge';
import type { ScanChange } from '../../server/threat-scan/service';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const SECRET = 'scan-app-secret-value-1234';
const CLIENT_ID = '21111111-2222-4333-8444-555555555555';

/** The test's judge: real (reads the MIME it is given), minimal. Counts what it judged, per Message-ID. */
const judged = new Map<string, number>();
const judge: MessageJudge = {
  async judge(raw) {
    const text = raw.toString('utf8');
    const id = /^Message-ID:\s*(.*)$/im.exec(text)?.[1]?.trim() ?? '';
    judged.set(id, (judged.get(id) ?? 0) + 1);
    if (text.includes(EICAR)) return { verdict: 'malware', evidence: { signature: 'Eicar-Signature' } };
    if (text.includes(GTUBE)) return { verdict: 'spam', evidence: { symbols: ['GTUBE'], score: 1000 } };
    return { verdict: 'clean', evidence: {} };
  },
};

const world = new StandInWorld();
const contoso = world.addTenant('bbbbbbbb-0000-4000-8000-000000000001');
contoso.domains = [{ id: 'contoso.example', isVerified: true, isDefault: true }];
const USERS = ['ana', 'ben', 'cat', 'dan'];
for (const id of USERS) contoso.putUser({ id, displayName: id.toUpperCase(), mail: `${id}@contoso.example`, userPrincipalName: `${id}@contoso.example` });
contoso.putGroup({ id: 'g-sales', displayName: 'Sales', securityEnabled: true, members: ['ana', 'ben'] });
const app = contoso.registerApp({
  clientId: CLIENT_ID,
  clientSecret: SECRET,
  grantedPermissions: ['User.Read.All', 'Group.Read.All', 'Domain.Read.All', 'Application.Read.All'],
});

let seq = 0;
function mime(from: string, subject: string, body: string): string {
  return [`From: ${from}`, `To: someone@contoso.example`, `Subject: ${subject}`, `Message-ID: <m${++seq}@test>`, 'Content-Type: text/plain', '', body, ''].join(
    '\r\n',
  );
}
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000);

const standIns = useGraphStandIns(world);
let smtp: SmtpPeer;
beforeAll(async () => {
  smtp = await startPeer('accept');
});
afterAll(async () => {
  await smtp.close();
});

const ctx = useLifeboat({
  graph: standIns.graph,
  services: { threatScan: { judge, pollMs: 30, pageSize: 3, leaseMs: 60_000, maxFailures: 2, backoffMs: 50, graphRetries: 2 } },
});

async function waitState(admin: request.Agent, id: string, state: string) {
  let body: { state: string; progress: Record<string, number> } = { state: '', progress: {} };
  await eventually(async () => {
    body = (await admin.get(`/api/threat-scans/${id}`).expect(200)).body;
    expect(body.state).toBe(state);
  }, 60_000);
  return body;
}

async function waitRemediation(admin: request.Agent, scanId: string, rid: string) {
  let body: { state: string; done: number; failed: number; total: number } = { state: '', done: 0, failed: 0, total: 0 };
  await eventually(async () => {
    body = (await admin.get(`/api/threat-scans/${scanId}/remediations/${rid}`).expect(200)).body;
    expect(body.state).toBe('finished');
  }, 30_000);
  return body;
}

describe('Threat Scan through Microsoft Graph', () => {
  let full: request.Agent;
  const changes: ScanChange[] = [];

  beforeAll(async () => {
    full = await ctx.signIn('alpha', 'fullAdministrator', 'owner@alpha.test');
    await connectAndSync(full, { entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET });
    await full
      .put('/api/notify/settings')
      .send({ email: { host: '127.0.0.1', port: smtp.port, from: 'lifeboat@alpha.test', user: null, password: null } })
      .expect(200);
    ctx.services.threatScan.onChange((c) => void changes.push(c));
    // Planted mail: threats, clean mail, mail older than the window, a formula-looking subject.
    const box = (id: string) => contoso.mailbox(id);
    box('ana').deliver(mime('Bad Actor <bad@evil.example>', '=HYPERLINK("http://evil")', `buy now ${GTUBE}`), daysAgo(2));
    box('ana').deliver(mime('friend@partner.example', 'Lunch', 'see you'), daysAgo(1));
    box('ana').deliver(mime('old@evil.example', 'Old spam', GTUBE), daysAgo(40));
    box('ben').deliver(mime('mal@evil.example', 'Invoice', `attachment ${EICAR}`), daysAgo(3));
    for (let i = 0; i < 7; i++) box('ben').deliver(mime('news@partner.example', `News ${i}`, 'hello'), daysAgo(4 + i));
    box('cat').deliver(mime('spam@evil.example', 'Offer', GTUBE), daysAgo(5));
  });

  it('refuses without the Mail permissions, naming the missing one; only full administrators start', async () => {
    const basic = await ctx.signIn('alpha', 'basicAdministrator');
    await basic.post('/api/threat-scans').send({}).expect(403);
    const bad = await full
      .post('/api/threat-scans')
      .send({ days: 31, targets: { groupIds: [] }, extra: 1 })
      .expect(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['(body)', 'days', 'targets'].sort());
    const missing = await full.post('/api/threat-scans').send({}).expect(403);
    expect(missing.headers['content-type']).toMatch(/problem\+json/);
    expect(missing.body.detail).toContain('Mail.Read');
    expect(missing.body.missingPermission).toBe('Mail.Read');
    await ctx.signIn('beta', 'fullAdministrator').then((b) => b.post('/api/threat-scans').send({}).expect(409));
  });

  let scanId = '';
  it('scans every targeted mailbox: threats found, reported, emailed; never more than 4 requests in flight per mailbox', async () => {
    app.grantedPermissions.push('Mail.Read');
    world.mail.options.latencyMs = 20;
    const unknown = await full
      .post('/api/threat-scans')
      .send({ targets: { groupIds: ['nope'], userIds: [] } })
      .expect(422);
    expect(unknown.body.errors[0].path).toBe('targets.groupIds.0');
    const started = await full
      .post('/api/threat-scans')
      .send({ targets: { groupIds: ['g-sales'], userIds: ['cat'] } })
      .expect(202);
    scanId = started.body.id;
    expect(started.body).toMatchObject({ state: 'running', days: 30, progress: { mailboxesTotal: 3 } });
    await full.post('/api/threat-scans').send({}).expect(409); // one running scan per tenant
    ctx.services.threatScan.start();
    const done = await waitState(full, scanId, 'finished');
    expect(done.progress).toMatchObject({ mailboxesTotal: 3, mailboxesDone: 3, mailboxesSkipped: 0, messagesScanned: 11, threats: 3 });
    for (const id of ['ana', 'ben', 'cat']) expect(contoso.mailbox(id).maxInFlight).toBeLessThanOrEqual(4);
    // Immutable ids were asked for (a moved message is still found) and the window was filtered by Graph.
    expect(world.requests.some((r) => decodeURIComponent(r.path).includes('receivedDateTime ge'))).toBe(true);

    const report = (await full.get(`/api/threat-scans/${scanId}/report`).expect(200)).body;
    expect(report.counts).toEqual({ clean: 8, spam: 2, malware: 1 });
    expect(report.threats.map((t: { recipient: string; verdict: string }) => `${t.recipient} ${t.verdict}`).sort()).toEqual([
      'ana@contoso.example spam',
      'ben@contoso.example malware',
      'cat@contoso.example spam',
    ]);
    const malware = report.threats.find((t: { verdict: string }) => t.verdict === 'malware');
    expect(malware).toMatchObject({ sender: 'mal@evil.example', subject: 'Invoice', evidence: { signature: 'Eicar-Signature' } });
    expect(malware.id).toMatch(/^imm-/);
    expect(report.mailboxes.scanned).toHaveLength(3);
    const csv = await full.get(`/api/threat-scans/${scanId}/report.csv`).expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text).toContain(`"'=HYPERLINK(""http://evil"")"`);
    await eventually(() => expect(smtp.received.some((m) => m.raw.includes('Threat Scan finished') && m.raw.includes('owner@alpha.test'))).toBe(true));
    expect(changes.some((c) => c.kind === 'progress' && (c.body as { state: string }).state === 'finished')).toBe(true);
    for (const [, n] of judged) expect(n).toBe(1);
  });

  it('enforces the mailbox concurrency limit in the stand-in: a fifth concurrent request gets 429 with Retry-After', async () => {
    let release!: () => void;
    world.mail.options.hold = new Promise<void>((resolve) => (release = resolve));
    const api = (await ctx.services.entra.api('alpha', { maxRetries: 0 }))!;
    const settled: string[] = [];
    const requests = Array.from({ length: 6 }, () =>
      api.get('/users/dan/messages').then(
        () => void settled.push('ok'),
        (err: Error) => void settled.push(err.message),
      ),
    );
    // Four are held in flight by the stand-in; the fifth and sixth are refused without waiting for them.
    await eventually(() => expect(settled).toHaveLength(2));
    expect(settled).toEqual([expect.stringContaining('429'), expect.stringContaining('429')]);
    world.mail.options.hold = undefined;
    release();
    await Promise.all(requests);
    expect(settled.slice(2).filter((outcome) => outcome.includes('429'))).toEqual([]); // the held four were never throttled
  });

  it('honours throttling without losing its place and skips a mailbox that keeps failing, with the reason', async () => {
    world.fail('/v1.0/users/ana/messages', 2, 429, 1);
    world.fail('/v1.0/users/dan/messages', 1000, 503);
    const started = await full
      .post('/api/threat-scans')
      .send({ days: 30, targets: { userIds: ['ana', 'dan'], groupIds: [] } })
      .expect(202);
    const done = await waitState(full, started.body.id, 'finished');
    world.clearFaults();
    expect(done.progress).toMatchObject({ mailboxesDone: 1, mailboxesSkipped: 1, messagesScanned: 2 });
    expect(done.progress.throttled).toBeGreaterThanOrEqual(2);
    const report = (await full.get(`/api/threat-scans/${started.body.id}/report`).expect(200)).body;
    expect(report.mailboxes.skipped).toEqual([{ address: 'dan@contoso.example', reason: expect.stringMatching(/kept failing \(2 attempts\).*503/) }]);
  });

  it('ends mid-way (the report covers what was scanned), resumes, and never judges a message twice', async () => {
    for (let i = 0; i < 30; i++) contoso.mailbox('dan').deliver(mime('bulk@partner.example', `Bulk ${i}`, i % 10 === 0 ? GTUBE : 'hi'), daysAgo(1));
    world.mail.options.latencyMs = 40;
    const started = await full
      .post('/api/threat-scans')
      .send({ targets: { userIds: ['dan', 'ben'], groupIds: [] } })
      .expect(202);
    const id = started.body.id;
    await eventually(async () => expect((await full.get(`/api/threat-scans/${id}`).expect(200)).body.progress.messagesScanned).toBeGreaterThan(0));
    const ended = (await full.post(`/api/threat-scans/${id}/end`).expect(200)).body;
    expect(ended.state).toBe('ended');
    await full.post(`/api/threat-scans/${id}/end`).expect(409);
    const partial = (await full.get(`/api/threat-scans/${id}/report`).expect(200)).body;
    const scannedAtEnd = Object.values(partial.counts as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(scannedAtEnd).toBeLessThan(38);
    await eventually(() => expect(smtp.received.some((m) => m.raw.includes('Threat Scan ended'))).toBe(true));

    // A stopped loop (as at a restart) goes on from the persisted page link when started again.
    await full.post(`/api/threat-scans/${id}/resume`).expect(202);
    await eventually(async () => expect((await full.get(`/api/threat-scans/${id}`).expect(200)).body.progress.messagesScanned).toBeGreaterThan(scannedAtEnd));
    await ctx.services.threatScan.stop();
    ctx.services.threatScan.start();
    const done = await waitState(full, id, 'finished');
    world.mail.options.latencyMs = 0;
    expect(done.progress).toMatchObject({ mailboxesDone: 2, messagesScanned: 38 });
    for (const [, n] of judged) expect(n).toBeLessThanOrEqual(2); // once per scan: two scans saw ben's mail
    const perScan = await ctx.conn.db!.collection('threatscanmessages').countDocuments({ scanId: id });
    expect(perScan).toBe(38);
  });

  it('takes over what a killed process left: an expired mailbox lease and a message claimed but never judged', async () => {
    await ctx.services.threatScan.stop();
    const started = await full
      .post('/api/threat-scans')
      .send({ targets: { userIds: ['cat'], groupIds: [] } })
      .expect(202);
    const id = started.body.id;
    const immutableId = contoso.mailbox('cat').messages[0]!.immutableId;
    const db = ctx.conn.db!;
    await db.collection('threatscanleases').insertOne({ _id: `${id}:cat` as never, owner: 'killed-process', expiresAt: new Date(Date.now() - 1000) });
    await db.collection('threatscanclaims').insertOne({ _id: `${id}:${immutableId}` as never, at: new Date() });
    ctx.services.threatScan.start();
    const done = await waitState(full, id, 'finished');
    expect(done.progress).toMatchObject({ mailboxesDone: 1, messagesScanned: 1, threats: 1 });
    expect(await db.collection('threatscanleases').countDocuments({ _id: `${id}:cat` as never })).toBe(0);
  });

  it('removes threats: quarantine folder, junk, hard delete only with confirmation; undo moves back; every message audited', async () => {
    const readOnly = await full.post(`/api/threat-scans/${scanId}/remediate`).send({ action: 'softDelete' }).expect(403);
    expect(readOnly.body.missingPermission).toBe('Mail.ReadWrite');
    app.grantedPermissions.push('Mail.ReadWrite');
    const bad = await full
      .post(`/api/threat-scans/${scanId}/remediate`)
      .send({ action: 'shred', ids: [], verdicts: ['nasty'] })
      .expect(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['action', 'ids', 'verdicts.0']);

    const soft = await full
      .post(`/api/threat-scans/${scanId}/remediate`)
      .send({ verdicts: ['spam'], action: 'softDelete' })
      .expect(202);
    expect(await waitRemediation(full, scanId, soft.body.id)).toMatchObject({ done: 2, failed: 0, total: 2 });
    const quarantine = contoso.mailbox('ana').folders.find((f) => f.displayName === 'Lifeboat Quarantine')!;
    expect(contoso.mailbox('ana').messages.find((m) => m.raw.includes(GTUBE) && Date.parse(m.receivedDateTime) > daysAgo(30).getTime())!.parentFolderId).toBe(
      quarantine.id,
    );
    expect(contoso.mailbox('cat').messages[0]!.parentFolderId).not.toBe('inbox');

    const junk = await full
      .post(`/api/threat-scans/${scanId}/remediate`)
      .send({ verdicts: ['malware'], action: 'junk' })
      .expect(202);
    await waitRemediation(full, scanId, junk.body.id);
    expect(contoso.mailbox('ben').messages.find((m) => m.subject === 'Invoice')!.parentFolderId).toBe('junkemail');

    const undo = await full.post(`/api/threat-scans/${scanId}/undo`).send({}).expect(202);
    expect(await waitRemediation(full, scanId, undo.body.id)).toMatchObject({ done: 3, total: 3 });
    expect(contoso.mailbox('ben').messages.find((m) => m.subject === 'Invoice')!.parentFolderId).toBe('inbox');
    expect(contoso.mailbox('cat').messages[0]!.parentFolderId).toBe('inbox');
    await full.post(`/api/threat-scans/${scanId}/undo`).send({}).expect(409);

    const malwareId = (await full.get(`/api/threat-scans/${scanId}/report`).expect(200)).body.threats.find(
      (t: { verdict: string }) => t.verdict === 'malware',
    ).id;
    const unconfirmed = await full
      .post(`/api/threat-scans/${scanId}/remediate`)
      .send({ ids: [malwareId], action: 'hardDelete' })
      .expect(422);
    expect(unconfirmed.body.errors[0].path).toBe('confirm');
    const hard = await full
      .post(`/api/threat-scans/${scanId}/remediate`)
      .send({ ids: [malwareId], action: 'hardDelete', confirm: true })
      .expect(202);
    await waitRemediation(full, scanId, hard.body.id);
    expect(contoso.mailbox('ben').messages.some((m) => m.subject === 'Invoice')).toBe(false);
    await full
      .post(`/api/threat-scans/${scanId}/remediate`)
      .send({ ids: [malwareId], action: 'junk' })
      .expect(422); // purged: nothing left

    const audit = (await full.get('/api/audit?category=protection&limit=100').expect(200)).body.items as { action: string; target: { id: string } }[];
    expect(audit.filter((e) => e.action === 'remediate.softDelete')).toHaveLength(2);
    expect(audit.filter((e) => e.action === 'remediate.undo')).toHaveLength(3);
    expect(audit.filter((e) => e.action === 'remediate.hardDelete').map((e) => e.target.id)).toEqual([malwareId]);
    await eventually(() => expect(smtp.received.some((m) => m.raw.includes('Remove Threats (hardDelete) finished'))).toBe(true));
    expect(changes.some((c) => c.kind === 'remediation')).toBe(true);
  });

  it('generates the Exchange Online PowerShell for the tenant, every bad field named', async () => {
    const bad = await full.get('/api/exchange-setup/powershell?lifeboatHost=not a host').expect(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['arcSealer', 'lifeboatHost']);
    const ok = await full
      .get('/api/exchange-setup/powershell?lifeboatHost=mx.lifeboat.example&arcSealer=lifeboat.example&routeThroughLifeboat=true')
      .expect(200);
    expect(ok.body.apply.map((l: { command: string }) => l.command.split(' ')[0])).toContain('Set-ArcConfig');
    expect(ok.body.undo.length).toBeGreaterThan(0);
  });
});
