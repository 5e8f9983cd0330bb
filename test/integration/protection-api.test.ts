/**
 * Policies and quarantine through the pinned API, with the real verdict pipeline behind them: the DNS
 * stand-in for sender authentication, a real clamd, no rspamd (so scanning is `unavailable` and the
 * scanner-down rule shows). The mail side's delivery of released copies is not built yet; the test
 * records the deliverReleased calls the quarantine makes through that interface.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { mailModels } from '../../server/mail/model';
import { storeMessage } from '../../server/mail/store';
import { NO_ENGINES, type ProtectionEngines } from '../../server/protection/engines';
import type { ReleasedCopy } from '../../server/protection/mail-side';
import { tenantDirectory, useLifeboat } from '../harness/context';
import { startTestClamd, type TestClamd } from '../harness/engines';
import { dkimKey, EICAR, plainMessage, senderRecords, signed, withAttachment, zip } from '../harness/protection-fixtures';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

const PARTNER_IP = '192.0.2.10';
const partner = dkimKey('partner.test');
let dns: DnsStandIn;
let clamd: TestClamd;
let engines: ProtectionEngines = NO_ENGINES;
const delivered: ReleasedCopy[] = [];

beforeAll(async () => {
  dns = await startDnsStandIn({ ...senderRecords(partner, PARTNER_IP), 'alpha.test': ['v=spf1 -all'], '_dmarc.alpha.test': ['v=DMARC1; p=none'] });
  clamd = await startTestClamd();
  engines = { ...NO_ENGINES, clamd: clamd.client };
}, 120_000);
afterAll(async () => {
  await clamd?.close();
  await dns?.close();
});

// alpha: one@ is in "alpha Group", which is inside "Finance" (nested); two@ only in "alpha Group".
const alpha = tenantDirectory('alpha');
alpha.groups = [
  { ...alpha.groups![0], members: ['alpha-u1'] },
  { id: 'alpha-finance', displayName: 'Finance', mail: 'finance@alpha.test', groupTypes: [], mailEnabled: false, securityEnabled: true, members: ['alpha-g1'] },
];
const ctx = useLifeboat({
  directories: [alpha, tenantDirectory('beta')],
  services: {
    protection: {
      engines: () => engines,
      get dnsServers() {
        return [dns.server];
      },
      deliverReleased: async (copy) => void delivered.push(copy),
    },
  },
});

const ONE = { address: 'one@alpha.test', userId: 'alpha-u1' };
const TWO = { address: 'two@alpha.test', userId: 'alpha-u2' };

async function receive(raw: Buffer, recipients: { address: string; userId: string }[], mailFrom: string, clientIp = PARTNER_IP) {
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
  const outcome = await ctx.services.protection.pipeline.protectInbound({
    tenantId: 'alpha',
    messageId,
    raw: () => raw,
    envelope: { mailFrom, clientIp, helo: 'mail.partner.test' },
    recipients,
  });
  return { messageId, ...outcome };
}

const eicarMail = () =>
  withAttachment(
    { from: 'Billing <billing@partner.test>', to: 'one@alpha.test, two@alpha.test' },
    { filename: 'invoice.zip', contentType: 'application/zip', content: zip({ 'invoice.com': Buffer.from(EICAR) }) },
  );

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

describe('policies API', () => {
  test('a tenant starts with one default policy in Protect; it cannot be deleted or targeted', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const list = (await admin.get('/api/protection/policies').expect(200)).body;
    expect(list.mode).toBe('protect');
    expect(list.policies).toHaveLength(1);
    const def = list.policies[0];
    expect(def).toMatchObject({ id: 'default:alpha', isDefault: true, mode: 'protect', actions: { malware: 'quarantine', spam: 'tag' } });
    await admin.delete(`/api/protection/policies/${def.id}`).expect(409);
    const res = await admin
      .put(`/api/protection/policies/${def.id}`)
      .send({ name: 'Default', mode: 'protect', recipients: { include: [{ type: 'domain', value: 'alpha.test' }] } })
      .expect(422);
    expect(res.body.errors).toEqual([{ path: 'recipients.include', message: expect.stringContaining('cannot be targeted') }]);
  });

  test('every bad field is named in one 422', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const res = await admin
      .post('/api/protection/policies')
      .send({
        name: '',
        mode: 'paranoid',
        priority: 0,
        matchOn: 'body',
        senders: { include: [{ type: 'address', value: 'not-an-address' }] },
        recipients: { exclude: [{ type: 'domain', value: 'bad domain' }] },
        actions: { spam: 'reject', phishing: 'explode' },
        scannerDown: { action: 'hold', holdMinutes: 0 },
      })
      .expect(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    const paths = (res.body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(
      [
        'name',
        'mode',
        'priority',
        'matchOn',
        'senders.include.0.value',
        'recipients.exclude.0.value',
        'actions.spam',
        'actions.phishing',
        'scannerDown.holdMinutes',
      ].sort(),
    );
    const unknownGroup = await admin
      .post('/api/protection/policies')
      .send({ name: 'x', mode: 'monitor', recipients: { include: [{ type: 'group', value: 'beta-g1' }] } })
      .expect(422);
    expect(unknownGroup.body.errors).toEqual([{ path: 'recipients.include.0.value', message: 'is not a group of this tenant' }]);
  });

  test('create, read, replace, delete; audited; read-only admins and other tenants cannot', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const created = (await admin.post('/api/protection/policies').send({ name: 'Temp', mode: 'monitor', priority: 500 }).expect(201)).body;
    expect(created).toMatchObject({ name: 'Temp', mode: 'monitor', priority: 500, isDefault: false, matchOn: 'both' });
    expect((await admin.get(`/api/protection/policies/${created.id}`).expect(200)).body.name).toBe('Temp');
    const replaced = (await admin.put(`/api/protection/policies/${created.id}`).send({ name: 'Temp 2', mode: 'disabled' }).expect(200)).body;
    expect(replaced).toMatchObject({ name: 'Temp 2', mode: 'disabled', priority: 100 });

    const reader = await ctx.signIn('alpha', 'readOnly');
    await reader.get('/api/protection/policies').expect(200);
    await reader.post('/api/protection/policies').send({ name: 'x', mode: 'monitor' }).expect(403);
    const beta = await ctx.signIn('beta', 'fullAdministrator');
    await beta.get(`/api/protection/policies/${created.id}`).expect(404);
    await beta.delete(`/api/protection/policies/${created.id}`).expect(404);

    await admin.delete(`/api/protection/policies/${created.id}`).expect(204);
    await admin.get(`/api/protection/policies/${created.id}`).expect(404);
    const audit = (await admin.get('/api/audit?category=protection').expect(200)).body.items.map((e: { action: string }) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['policy.create', 'policy.update', 'policy.delete']));
  });
});

describe('verdicts, policies and the quarantine', () => {
  test('Monitor for a nested group, Protect for the rest (with an exception): EICAR in a zip is judged once', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    await admin
      .post('/api/protection/policies')
      .send({ name: 'Finance pilot', mode: 'monitor', priority: 10, recipients: { include: [{ type: 'group', value: 'alpha-finance' }], exclude: [] } })
      .expect(201);

    const raw = eicarMail();
    const first = await receive(raw, [ONE, TWO], 'billing@partner.test');
    expect(first.verdict).toMatchObject({ verdict: 'malware', fresh: true, evidence: { clamd: { signature: expect.stringContaining('Eicar') } } });
    // one@ is in Finance through the nested group: monitored, delivered. two@ is not: quarantined.
    expect(first.placements.map((p) => [p.recipient, p.action])).toEqual([
      ['one@alpha.test', 'deliver'],
      ['two@alpha.test', 'quarantine'],
    ]);

    // Judging again (a retry after a crash) returns the stored verdict and the same quarantine entry.
    const again = await ctx.services.protection.pipeline.protectInbound({
      tenantId: 'alpha',
      messageId: first.messageId,
      raw: () => raw,
      envelope: { mailFrom: 'billing@partner.test', clientIp: PARTNER_IP, helo: 'mail.partner.test' },
      recipients: [ONE, TWO],
    });
    expect(again.verdict).toMatchObject({ fresh: false, judgedAt: first.verdict!.judgedAt });
    expect(again.placements[1].quarantineId).toBe(first.placements[1].quarantineId);

    const list = (await admin.get('/api/quarantine?verdict=malware').expect(200)).body;
    expect(list.items.filter((e: { messageId: string }) => e.messageId === first.messageId)).toHaveLength(1);
  });

  test('two processes judging the same message at once store one verdict', async () => {
    const raw = await signed(plainMessage({ from: 'news@partner.test', to: 'one@alpha.test' }), partner);
    const envelope = { mailFrom: 'news@partner.test', rcptTo: ['one@alpha.test'], clientIp: PARTNER_IP, helo: 'mail.partner.test' };
    // final: without rspamd the verdict is unscanned, which is stored only when final.
    const results = await Promise.all([1, 2, 3].map(() => ctx.services.protection.verdicts.judgeOnce('alpha', 'race-1', () => raw, envelope, { final: true })));
    expect(results.filter((r) => r.fresh).length).toBe(1);
    expect(new Set(results.map((r) => r.judgedAt)).size).toBe(1);
    expect(await ctx.conn.collection('protectionverdicts').countDocuments({ _id: 'alpha:race-1' } as never)).toBe(1);
  });

  test('a batch judged by two processes at once stores one verdict per message, carrying its placement actions, and one quarantine entry per copy', async () => {
    const raws = [eicarMail(), await signed(plainMessage({ from: 'news@partner.test', to: 'one@alpha.test' }), partner), eicarMail()];
    const items = raws.map((raw) => ({
      message: {
        tenantId: 'alpha',
        messageId: randomUUID(),
        raw: () => raw,
        envelope: { mailFrom: 'billing@partner.test', clientIp: PARTNER_IP, helo: 'mail.partner.test' },
        recipients: [ONE, TWO],
      },
      // Just received (routing's path): nobody looks for a stored verdict first, so only the insert decides.
      lookFirst: false,
      final: true,
    }));
    const [a, b] = await Promise.all([ctx.services.protection.pipeline.protectMany(items), ctx.services.protection.pipeline.protectMany(items)]);
    for (const [i, item] of items.entries()) {
      const id = `alpha:${item.message.messageId}`;
      const stored = await ctx.conn
        .collection('protectionverdicts')
        .find({ _id: id } as never)
        .toArray();
      expect(stored).toHaveLength(1);
      // Both acted on the one stored verdict, so both place the copies alike.
      expect([a[i]!.verdict!.fresh, b[i]!.verdict!.fresh].filter(Boolean)).toHaveLength(1);
      expect(a[i]!.verdict!.judgedAt).toBe(b[i]!.verdict!.judgedAt);
      expect(a[i]!.placements).toEqual(b[i]!.placements);
      // The actions are written with the verdict (no later update).
      expect(stored[0]!.actions).toEqual([...new Set(a[i]!.placements.map((p) => p.action))].sort());
      const quarantined = a[i]!.placements.filter((p) => p.action === 'quarantine').length;
      expect(await ctx.conn.collection('quarantineentries').countDocuments({ messageId: item.message.messageId } as never)).toBe(quarantined);
    }
    expect(a[0]!.verdict!.verdict).toBe('malware');
  });

  test('release: previewed, rescanned first (malware needs force from a full admin), delivered once, audited', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const basic = await ctx.signIn('alpha', 'basicAdministrator');
    const { placements } = await receive(eicarMail(), [TWO], 'billing@partner.test');
    const id = placements[0].quarantineId!;

    const detail = (await admin.get(`/api/quarantine/${encodeURIComponent(id)}`).expect(200)).body;
    expect(detail).toMatchObject({
      verdict: 'malware',
      recipient: 'two@alpha.test',
      status: 'held',
      evidence: { engines: { clamd: 'ok', rspamd: 'unavailable' } },
    });
    expect(detail.preview.attachments).toEqual([{ filename: 'invoice.zip', contentType: 'application/zip', size: expect.any(Number) }]);
    expect(detail.preview.headers).toEqual(expect.arrayContaining([{ name: 'From', value: 'Billing <billing@partner.test>' }]));

    await basic
      .post(`/api/quarantine/${encodeURIComponent(id)}/release`)
      .send({ reason: 'needed', force: true })
      .expect(409);
    await admin
      .post(`/api/quarantine/${encodeURIComponent(id)}/release`)
      .send({})
      .expect(422);
    const before = delivered.length;
    const released = (
      await admin
        .post(`/api/quarantine/${encodeURIComponent(id)}/release`)
        .send({ reason: 'vendor confirmed', force: true })
        .expect(200)
    ).body;
    expect(released).toMatchObject({ status: 'released', rescan: { verdict: 'malware' }, decisionReason: 'vendor confirmed' });
    expect(delivered.slice(before)).toEqual([expect.objectContaining({ releaseId: id, recipient: 'two@alpha.test', userId: 'alpha-u2' })]);
    await admin
      .post(`/api/quarantine/${encodeURIComponent(id)}/release`)
      .send({ reason: 'again', force: true })
      .expect(409);
    expect(delivered.length).toBe(before + 1);
    const audit = (await admin.get('/api/audit?category=protection').expect(200)).body.items;
    expect(audit.find((e: { action: string }) => e.action === 'quarantine.release')).toMatchObject({
      after: { reason: 'vendor confirmed', rescan: 'malware', force: true },
    });
  });

  test('a forged tenant From is spoof; the user sees it and asks for release; an admin releases it', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const forged = plainMessage({ from: 'alpha Two <two@alpha.test>', to: 'two@alpha.test', subject: 'Urgent wire transfer' });
    const { verdict, placements } = await receive(forged, [TWO], 'two@alpha.test', '203.0.113.66');
    expect(verdict).toMatchObject({ verdict: 'spoof', evidence: { auth: { spf: 'fail', fromDomain: 'alpha.test' } } });
    expect(placements[0].action).toBe('quarantine');
    const id = placements[0].quarantineId!;

    const token = await userToken(admin, 'alpha-u2', 'two@alpha.test');
    const mine = (await request(ctx.app).get('/api/me/quarantine').set('Authorization', `Bearer ${token}`).expect(200)).body.items;
    expect(mine.map((e: { id: string }) => e.id)).toContain(id);
    expect(mine.find((e: { id: string }) => e.id === id)).toMatchObject({ subject: 'Urgent wire transfer', verdict: 'spoof' });
    const asked = (
      await request(ctx.app)
        .post(`/api/me/quarantine/${encodeURIComponent(id)}/release-request`)
        .set('Authorization', `Bearer ${token}`)
        .send({ reason: 'I sent it' })
        .expect(200)
    ).body;
    expect(asked.releaseRequests).toEqual([expect.objectContaining({ userId: 'alpha-u2', reason: 'I sent it' })]);
    // Another user cannot see or request it.
    const other = await userToken(admin, 'alpha-u1', 'one@alpha.test');
    await request(ctx.app)
      .post(`/api/me/quarantine/${encodeURIComponent(id)}/release-request`)
      .set('Authorization', `Bearer ${other}`)
      .send({})
      .expect(404);

    const released = (
      await admin
        .post(`/api/quarantine/${encodeURIComponent(id)}/release`)
        .send({ reason: 'user request' })
        .expect(200)
    ).body;
    expect(released).toMatchObject({ status: 'released', rescan: { verdict: 'spoof' } });
    expect(
      (await request(ctx.app).get('/api/me/quarantine').set('Authorization', `Bearer ${token}`).expect(200)).body.items.map((e: { id: string }) => e.id),
    ).not.toContain(id);
  });

  test('scanner down: a clean, authenticated message is unscanned and held, or tagged at once when the policy says so', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const mail = () => signed(plainMessage({ from: 'news@partner.test', to: 'two@alpha.test' }), partner);
    const held = await receive(await mail(), [TWO], 'news@partner.test');
    expect(held.verdict).toMatchObject({
      verdict: 'unscanned',
      reasons: [expect.stringContaining('rspamd unavailable')],
      evidence: { auth: { spf: 'pass', dkim: 'pass', dmarc: 'pass' } },
    });
    expect(held.placements[0]).toMatchObject({ action: 'hold', holdMinutes: 30 });
    expect(held.marks.headers[0]).toMatch(/^Authentication-Results: lifeboat\.local; dkim=pass/);
    // Provisional: nothing is stored, so the held message is judged again when the engines are back...
    expect(held.verdict!.stored).toBe(false);
    expect(await ctx.services.protection.verdicts.get('alpha', held.messageId)).toBeNull();
    // ...and when the hold runs out, `final` stores unscanned as the verdict and delivers tagged.
    const raw = await mail();
    const base = {
      tenantId: 'alpha',
      raw: () => raw,
      envelope: { mailFrom: 'news@partner.test', clientIp: PARTNER_IP, helo: 'mail.partner.test' },
      recipients: [TWO],
    };
    const settled = await ctx.services.protection.pipeline.protectInbound({ ...base, messageId: held.messageId }, { final: true });
    expect(settled.verdict).toMatchObject({ verdict: 'unscanned', stored: true });
    expect(settled.placements[0]).toEqual(expect.objectContaining({ action: 'tag' }));
    expect(settled.placements[0].holdMinutes).toBeUndefined();
    expect((await ctx.services.protection.verdicts.get('alpha', held.messageId))?.verdict).toBe('unscanned');

    await admin
      .put('/api/protection/policies/default:alpha')
      .send({ name: 'Default policy', mode: 'protect', scannerDown: { action: 'tag' } })
      .expect(200);
    const tagged = await receive(await mail(), [TWO], 'news@partner.test');
    expect(tagged.placements[0].action).toBe('tag');
    expect(tagged.marks.subjectPrefix).toBe('[UNSCANNED]');
  });

  test('Disabled (the tenant mode) skips scanning; the mode change is audited', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    await admin.put('/api/protection/policies/default:alpha').send({ name: 'Default policy', mode: 'disabled' }).expect(200);
    expect((await admin.get('/api/protection/policies').expect(200)).body.mode).toBe('disabled');
    const outcome = await receive(eicarMail(), [TWO], 'billing@partner.test');
    expect(outcome.verdict).toBeNull();
    expect(outcome.placements[0].action).toBe('deliver');
    const audit = (await admin.get('/api/audit?category=protection').expect(200)).body.items;
    expect(audit.find((e: { action: string }) => e.action === 'mode.change')).toMatchObject({ before: { mode: 'protect' }, after: { mode: 'disabled' } });
    await admin.put('/api/protection/policies/default:alpha').send({ name: 'Default policy', mode: 'protect' }).expect(200);
  });

  test('impersonation: a directory user’s or a VIP’s display name from outside; the VIP list is edited and audited', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const bad = await admin
      .put('/api/protection/vips')
      .send({ vips: [{ displayName: '', address: 'nope' }] })
      .expect(422);
    expect((bad.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['vips.0.address', 'vips.0.displayName']);
    const saved = (
      await admin
        .put('/api/protection/vips')
        .send({ vips: [{ displayName: 'Board Chair', address: 'Chair@alpha.test' }] })
        .expect(200)
    ).body;
    expect(saved).toEqual({ vips: [{ displayName: 'Board Chair', address: 'chair@alpha.test' }] });
    expect((await admin.get('/api/protection/vips').expect(200)).body).toEqual(saved);

    const asVip = await receive(
      await signed(plainMessage({ from: 'Board Chair <news@partner.test>', to: 'two@alpha.test' }), partner),
      [TWO],
      'news@partner.test',
    );
    expect(asVip.verdict).toMatchObject({ verdict: 'impersonation', evidence: { impersonation: { kind: 'displayName', imitates: 'chair@alpha.test' } } });
    const asUser = await receive(
      await signed(plainMessage({ from: 'alpha One <news@partner.test>', to: 'two@alpha.test' }), partner),
      [TWO],
      'news@partner.test',
    );
    expect(asUser.verdict).toMatchObject({ verdict: 'impersonation', evidence: { impersonation: { imitates: 'one@alpha.test' } } });
    const audit = (await admin.get('/api/audit?category=protection').expect(200)).body.items;
    expect(audit.find((e: { action: string }) => e.action === 'vips.update')).toMatchObject({ after: saved.vips });
  });

  test('quarantine list: bad filters and cursors are named; paging is stable; deleted entries disappear', async () => {
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    const bad = await admin.get('/api/quarantine?verdict=nasty&recipient=nope&cursor=zzz').expect(422);
    expect((bad.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['recipient', 'verdict']);
    expect((await admin.get('/api/quarantine?cursor=zzz').expect(422)).body.errors).toEqual([{ path: 'cursor', message: 'is not valid' }]);

    for (let i = 0; i < 3; i++) await receive(eicarMail(), [TWO], 'billing@partner.test');
    const all = (await admin.get('/api/quarantine?recipient=two@alpha.test').expect(200)).body.items;
    expect(all.length).toBeGreaterThanOrEqual(3);
    await admin.delete(`/api/quarantine/${encodeURIComponent(all[0].id)}`).expect(204);
    await admin.get(`/api/quarantine/${encodeURIComponent(all[0].id)}`).expect(404);
    const after = (await admin.get('/api/quarantine?recipient=two@alpha.test').expect(200)).body.items;
    expect(after.map((e: { id: string }) => e.id)).not.toContain(all[0].id);
    // Pages of two, newest first, follow one another without gaps or repeats.
    const q = ctx.services.protection.quarantine;
    const whole = (await q.list('alpha', { limit: 200 })).items.map((e) => e.id);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await q.list('alpha', { limit: 2, cursor });
      paged.push(...p.items.map((e) => e.id));
      cursor = p.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(whole);
    const beta = await ctx.signIn('beta', 'fullAdministrator');
    expect((await beta.get('/api/quarantine').expect(200)).body.items).toEqual([]);

    // The retention sweep keeps entries younger than the quarantine retention, and removes older ones.
    expect(await q.sweep()).toBe(0);
    expect(await q.sweep(-1)).toBeGreaterThanOrEqual(whole.length);
    expect((await q.list('alpha', {})).items).toEqual([]);
    await beta.get(`/api/quarantine/${encodeURIComponent(all[1].id)}`).expect(404);
  });
});
