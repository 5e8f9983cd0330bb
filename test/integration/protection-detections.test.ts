/**
 * The detections log (verdicts from the real pipeline, users' phishing reports), its CSV export and
 * verdicts-per-hour series, Report phishing from a user's mailbox, the External mark of the reading
 * view, the Threat Scan Only tenant mode and the threats of an event's report. Sender authentication
 * runs against the DNS stand-in; no rspamd (scanning is `unavailable`), so the verdicts are spoof and
 * unscanned.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createLogger } from '../../server/log';
import { mailModels } from '../../server/mail/model';
import { createReceiver } from '../../server/mail/receiver';
import { storeMessage } from '../../server/mail/store';
import { NO_ENGINES } from '../../server/protection/engines';
import { tenantDirectory, useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { plainMessage } from '../harness/protection-fixtures';
import { sendOne, simpleMessage } from '../harness/smtp-peers';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

let dns: DnsStandIn;
beforeAll(async () => {
  dns = await startDnsStandIn({ 'partner.test': ['v=spf1 ip4:192.0.2.10 -all'], 'alpha.test': ['v=spf1 -all'], '_dmarc.alpha.test': ['v=DMARC1; p=none'] });
});
afterAll(async () => dns?.close());

const ctx = useLifeboat({
  directories: [tenantDirectory('alpha'), tenantDirectory('beta')],
  services: {
    protection: {
      engines: () => NO_ENGINES,
      get dnsServers() {
        return [dns.server];
      },
    },
  },
});

const ONE = { address: 'one@alpha.test', userId: 'alpha-u1' };
const TWO = { address: 'two@alpha.test', userId: 'alpha-u2' };

async function receive(raw: Buffer, recipients: { address: string; userId: string }[], mailFrom: string, clientIp: string, final = false) {
  const messageId = randomUUID();
  await storeMessage(mailModels(ctx.conn), {
    tenantId: 'alpha',
    messageId,
    direction: 'inbound',
    mailFrom,
    recipients: recipients.map((r) => ({ address: r.address, kind: 'user', id: r.userId })),
    raw,
    remoteAddress: clientIp,
    receivedAt: new Date(),
  });
  return ctx.services.protection.pipeline.protectInbound(
    { tenantId: 'alpha', messageId, raw: () => raw, envelope: { mailFrom, clientIp, helo: 'mail.partner.test' }, recipients },
    { final },
  );
}

async function userToken(admin: request.Agent, id: string, email: string): Promise<string> {
  await admin
    .put(`/api/users/${id}/cloud-password`)
    .send({ password: `${id} password long` })
    .expect(204);
  return (
    await request(ctx.app)
      .post('/api/user-auth/login')
      .send({ email, password: `${id} password long` })
      .expect(200)
  ).body.token as string;
}

/** The tenant's mode, whatever the harness starts tenants in. */
async function setMode(mode: 'protect' | 'disabled', scannerDown: 'hold' | 'tag' = 'hold') {
  const admin = await ctx.signIn('alpha', 'fullAdministrator');
  await admin
    .put('/api/protection/policies/default%3Aalpha')
    .send({ name: 'Default policy', mode, scannerDown: { action: scannerDown, holdMinutes: 30 } })
    .expect(200);
}
beforeAll(() => setMode('protect'));

type Row = { kind: string; verdict: string | null; subject: string; actions: string[]; from: string; reportedBy: string | null; comment: string };

describe('detections log', () => {
  test('verdicts with who, what and the placement; filters, keyset pages, bad parameters named; other tenants see nothing', async () => {
    const forged = plainMessage({ from: 'alpha Two <two@alpha.test>', to: 'two@alpha.test', subject: '=HYPERLINK("http://evil.example"); wire' });
    const spoof = await receive(forged, [TWO], 'two@alpha.test', '203.0.113.66');
    expect(spoof.verdict?.verdict).toBe('spoof');
    // No rspamd: an authenticated partner message is unscanned; once the hold is over it is stored and tagged.
    const partnerMail = plainMessage({ from: 'Partner <news@partner.test>', to: 'one@alpha.test', subject: 'Partner news' });
    const unscanned = await receive(partnerMail, [ONE], 'news@partner.test', '192.0.2.10', true);
    expect(unscanned.placements[0].action).toBe('tag');

    const admin = await ctx.signIn('alpha', 'readOnly');
    const all = (await admin.get('/api/protection/detections').expect(200)).body;
    const rows = all.items as Row[];
    expect(rows.map((r) => r.subject)).toEqual(['Partner news', '=HYPERLINK("http://evil.example"); wire']);
    expect(rows[0]).toMatchObject({
      kind: 'verdict',
      verdict: 'unscanned',
      actions: ['tag'],
      from: 'Partner <news@partner.test>',
      recipients: ['one@alpha.test'],
    });
    expect(rows[1]).toMatchObject({ verdict: 'spoof', actions: ['quarantine'], mailFrom: 'two@alpha.test', auth: { spf: 'fail' } });

    const spoofs = (await admin.get('/api/protection/detections?verdict=spoof').expect(200)).body.items as Row[];
    expect(spoofs.map((r) => r.verdict)).toEqual(['spoof']);
    const paged = (await admin.get('/api/protection/detections?limit=1').expect(200)).body;
    expect(paged.items).toHaveLength(1);
    const next = (await admin.get(`/api/protection/detections?limit=1&cursor=${paged.nextCursor}`).expect(200)).body;
    expect(next.items.map((r: Row) => r.subject)).toEqual([rows[1].subject]);
    expect(next.nextCursor).toBeNull();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await admin.get(`/api/protection/detections?from=${encodeURIComponent(future)}`).expect(200)).body.items).toEqual([]);

    const bad = await admin.get('/api/protection/detections?verdict=evil&kind=x&from=yesterday&cursor=nope&limit=0').expect(422);
    expect((bad.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['from', 'kind', 'limit', 'verdict'].sort());
    expect((await admin.get('/api/protection/detections?cursor=nope').expect(422)).body.errors).toEqual([{ path: 'cursor', message: 'is not valid' }]);

    const beta = await ctx.signIn('beta', 'fullAdministrator');
    expect((await beta.get('/api/protection/detections').expect(200)).body.items).toEqual([]);
    await request(ctx.app).get('/api/protection/detections').expect(401);
  });

  test('CSV export: BOM, formula-safe and semicolon-safe cells, the same filters', async () => {
    const admin = await ctx.signIn('alpha', 'readOnly');
    const res = await admin.get('/api/protection/detections/export.csv?verdict=spoof').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const text = res.text;
    expect(text.startsWith('\uFEFF')).toBe(true);
    const lines = text.slice(1).trim().split('\r\n');
    expect(lines[0]).toMatch(/^time \(UTC\),kind,verdict,actions,/);
    expect(lines).toHaveLength(2);
    // The subject starts with `=`: neutralised with an apostrophe, quoted because of its `"` and `;`.
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil.example""); wire"`);
    expect(lines[1]).not.toContain('Partner news');
    await admin.get('/api/protection/detections/export.csv?to=soon').expect(422);
  });

  test('verdicts per hour over 24 h and per 6 h over 7 days, every bucket present', async () => {
    const admin = await ctx.signIn('alpha', 'readOnly');
    const day = (await admin.get('/api/protection/detections/series').expect(200)).body;
    expect(day).toMatchObject({ range: '24h', bucketHours: 1 });
    expect(day.points).toHaveLength(24);
    const total = (s: { points: { counts: Record<string, number> }[] }, v: string) => s.points.reduce((n, p) => n + p.counts[v], 0);
    expect(total(day, 'spoof')).toBe(1);
    expect(total(day, 'unscanned')).toBe(1);
    const week = (await admin.get('/api/protection/detections/series?range=7d').expect(200)).body;
    expect(week.points).toHaveLength(28);
    expect(total(week, 'spoof')).toBe(1);
    expect((await admin.get('/api/protection/detections/series?range=1y').expect(422)).body.errors[0].path).toBe('range');
  });
});

describe('Report phishing and the External mark', () => {
  let receiver: ReturnType<typeof createReceiver>;
  let port: number;
  beforeAll(async () => {
    receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent'), maxMessageBytes: 1024 * 1024 });
    port = await receiver.listen(0, '127.0.0.1');
  });
  afterAll(async () => receiver.close());

  test('a user reports a message of their mailbox once; admins see it in the log; audited; others cannot report it', async () => {
    // Delivered unjudged (Disabled), so this part does not depend on the scanners; Protect again afterwards.
    await setMode('disabled');
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const token = await userToken(admin, 'alpha-u1', 'one@alpha.test');
    const as = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
    const from = 'Prize Desk <prize@lottery.example>';
    await sendOne(port, { from: 'prize@lottery.example', to: ['one@alpha.test'], message: simpleMessage({ from, to: 'one@alpha.test', subject: 'You won' }) });
    await sendOne(port, {
      from: 'two@alpha.test',
      to: ['one@alpha.test'],
      message: simpleMessage({ from: 'two@alpha.test', to: 'one@alpha.test', subject: 'Lunch' }),
    });
    let items: { id: string; subject: string }[] = [];
    await eventually(async () => {
      items = (await as(request(ctx.app).get('/api/me/mailbox?folder=inbox')).expect(200)).body.items;
      expect(items).toHaveLength(2);
    }, 30_000);
    await setMode('protect');
    const prize = items.find((m) => m.subject === 'You won')!;
    const lunch = items.find((m) => m.subject === 'Lunch')!;
    expect((await as(request(ctx.app).get(`/api/me/mailbox/${prize.id}`)).expect(200)).body.external).toBe(true);
    expect((await as(request(ctx.app).get(`/api/me/mailbox/${lunch.id}`)).expect(200)).body.external).toBe(false);

    const first = await as(request(ctx.app).post(`/api/me/mailbox/${prize.id}/report-phishing`))
      .send({ comment: 'asks for my bank details' })
      .expect(201);
    expect(first.body).toMatchObject({ alreadyReported: false });
    const again = await as(request(ctx.app).post(`/api/me/mailbox/${prize.id}/report-phishing`))
      .send({})
      .expect(200);
    expect(again.body).toMatchObject({ id: first.body.id, alreadyReported: true });
    const tooLong = await as(request(ctx.app).post(`/api/me/mailbox/${prize.id}/report-phishing`))
      .send({ comment: 'x'.repeat(501) })
      .expect(422);
    expect(tooLong.body.errors[0].path).toBe('comment');
    // Someone else's (or no) message: 404, nothing recorded.
    const other = await userToken(admin, 'alpha-u2', 'two@alpha.test');
    await request(ctx.app).post(`/api/me/mailbox/${prize.id}/report-phishing`).set('Authorization', `Bearer ${other}`).send({}).expect(404);
    await request(ctx.app).post(`/api/me/mailbox/${prize.id}/report-phishing`).send({}).expect(401);

    const reports = (await admin.get('/api/protection/detections?kind=report').expect(200)).body.items as Row[];
    expect(reports).toEqual([
      expect.objectContaining({
        kind: 'report',
        subject: 'You won',
        from: expect.stringContaining('prize@lottery.example'),
        reportedBy: 'one@alpha.test',
        comment: 'asks for my bank details',
      }),
    ]);
    const audit = (await admin.get('/api/audit?category=protection').expect(200)).body.items as { action: string; actor: { email: string } }[];
    expect(audit.filter((a) => a.action === 'phishing.report')).toEqual([
      expect.objectContaining({ actor: expect.objectContaining({ email: 'one@alpha.test' }) }),
    ]);
  });
});

describe('Threat Scan Only and the event report', () => {
  test('Threat Scan Only is a tenant mode (the default policy only): nothing is judged on the mail path', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const { name, matchOn, actions, scannerDown } = (await admin.get('/api/protection/policies').expect(200)).body.policies[0];
    const def = { id: 'default:alpha', name, mode: 'protect', matchOn, actions, scannerDown };
    const targeted = await admin.post('/api/protection/policies').send({ name: 'Pilot', mode: 'threatScanOnly' }).expect(422);
    expect(targeted.body.errors).toEqual([{ path: 'mode', message: expect.stringContaining('tenant') }]);
    await admin
      .put(`/api/protection/policies/${encodeURIComponent(def.id)}`)
      .send({ ...def, id: undefined, mode: 'threatScanOnly' })
      .expect(200);
    expect((await admin.get('/api/protection/policies').expect(200)).body.mode).toBe('threatScanOnly');
    const outcome = await receive(plainMessage({ from: 'two@alpha.test', to: 'one@alpha.test' }), [ONE], 'two@alpha.test', '203.0.113.66');
    expect(outcome.verdict).toBeNull();
    expect(outcome.placements[0].action).toBe('deliver');
    await admin
      .put(`/api/protection/policies/${encodeURIComponent(def.id)}`)
      .send({ ...def, id: undefined })
      .expect(200);
  });

  test('the post-incident report counts the threats quarantined and tagged during the event', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const event = await admin
      .post('/api/events')
      .send({ description: 'Outage', affectedGroupId: 'alpha-g1', timeZone: 'UTC', start: new Date(Date.now() - 3_600_000).toISOString(), end: null })
      .expect(201);
    const report = (await admin.get(`/api/events/${event.body.id}/report`).expect(200)).body;
    expect(report.protection).toMatchObject({ threats: 2, quarantined: 1, tagged: 1, byVerdict: { spoof: 1, unscanned: 1 }, reportedByUsers: 1 });
    const csv = (await admin.get(`/api/events/${event.body.id}/report.csv`).expect(200)).text;
    expect(csv).toContain('figures,,threats quarantined,1');
    expect(csv).toContain('figures,,threats delivered tagged,1');
  });
});
