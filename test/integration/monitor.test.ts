/**
 * The continuity monitor's API and rules against the real database: configuration (roles, every bad
 * field named, warnings, audit, tenant isolation, unique addresses), the receiver handing monitor
 * mail to the monitor, the detection log (filters, cursor pages, formula-safe CSV), the series, and
 * the window loop: a deterministic clock for which window runs, and two processes claiming one window.
 */
import request from 'supertest';
import { createLogger } from '../../server/log';
import { createReceiver } from '../../server/mail/receiver';
import { monitorModels } from '../../server/monitor/model';
import { createServices } from '../../server/services';
import { testServiceOptions, useLifeboat } from '../harness/context';
import { sendOne, simpleMessage } from '../harness/smtp-peers';

// A fixed clock on the next full hour (session cookies must not look expired to the test client).
const BASE = Math.ceil(Date.now() / 3600_000) * 3600_000;
const at = (ms: number) => new Date(BASE + ms);
let clock = at(0);
const ctx = useLifeboat({ now: () => clock, services: { monitor: { minuteMs: 1000, tickMs: 60_000 } } });

const valid = {
  name: 'Primary flow',
  probeMailbox: 'probe@alpha.test',
  address: 'watch-alpha@monitor.lifeboat.test',
  alertRecipients: { sms: ['+15550100'], email: ['oncall@example.org'] },
  defaultGroupId: 'alpha-g1',
  timeZone: 'Europe/Berlin',
};

describe('monitor configuration API', () => {
  it('lets full administrators configure, basic ones operate and read-only ones read; audits every change', async () => {
    const full = await ctx.signIn('alpha', 'fullAdministrator');
    const basic = await ctx.signIn('alpha', 'basicAdministrator');
    const reader = await ctx.signIn('alpha', 'readOnly');
    await request(ctx.app).get('/api/monitors').expect(401);
    await basic.post('/api/monitors').send(valid).expect(403);
    await reader.post('/api/monitors').send(valid).expect(403);

    const created = await full.post('/api/monitors').send(valid).expect(201);
    expect(created.headers.location).toBe(`/api/monitors/${created.body.id}`);
    expect(created.body).toMatchObject({
      name: 'Primary flow',
      enabled: true,
      inbound: { enabled: true },
      outbound: { enabled: true },
      address: 'watch-alpha@monitor.lifeboat.test',
      windowMinutes: 2,
      repeatMinutes: 30,
      failureThreshold: 3,
      defaultGroup: { id: 'alpha-g1', displayName: 'alpha Group' },
      autoActivation: { enabled: false, afterMinutes: 30 },
      state: { status: 'normal', failureCount: 0, suppressedUntil: null, lastDecision: null },
    });
    expect(created.body.warnings).toBeUndefined();
    expect((await reader.get('/api/monitors').expect(200)).body).toHaveLength(1);

    const id = created.body.id;
    await basic
      .put(`/api/monitors/${id}`)
      .send({ ...valid, failureThreshold: 5 })
      .expect(403);
    const changed = await full
      .put(`/api/monitors/${id}`)
      .send({ ...valid, failureThreshold: 5 })
      .expect(200);
    expect(changed.body.failureThreshold).toBe(5);

    await reader.post(`/api/monitors/${id}/suppress`).send({ hours: 2 }).expect(403);
    const suppressed = await basic.post(`/api/monitors/${id}/suppress`).send({ hours: 2 }).expect(200);
    expect(suppressed.body.state.suppressedUntil).toBe(new Date(clock.getTime() + 2 * 3600_000).toISOString());
    expect((await basic.post(`/api/monitors/${id}/resume`).send({}).expect(200)).body.state.suppressedUntil).toBeNull();
    await basic.post(`/api/monitors/${id}/suppress`).send({ until: '2020-01-01T00:00:00Z' }).expect(422);

    const audit = (await full.get('/api/audit?category=monitor').expect(200)).body.items as {
      action: string;
      before: Record<string, unknown>;
      after: Record<string, unknown>;
    }[];
    expect(audit.map((a) => a.action)).toEqual(['monitor.resumed', 'monitor.suppressed', 'monitor.updated', 'monitor.created']);
    expect(audit[2]).toMatchObject({ before: { failureThreshold: 3 }, after: { failureThreshold: 5 } });

    await full.delete(`/api/monitors/${id}`).expect(204);
    await full.get(`/api/monitors/${id}`).expect(404);
    // The address is free again.
    await full.post('/api/monitors').send(valid).expect(201);
  });

  it('keeps thresholds per direction, the shared ones by default', async () => {
    const full = await ctx.signIn('alpha', 'fullAdministrator');
    const body = {
      name: 'Per direction',
      address: 'directions@monitor.lifeboat.test',
      inbound: { enabled: false, latencyThresholdSeconds: 120, failureThreshold: 5 },
      outbound: { enabled: false, latencyThresholdSeconds: 30 },
    };
    const created = await full.post('/api/monitors').send(body).expect(201);
    expect(created.body).toMatchObject({
      latencyThresholdSeconds: 60,
      failureThreshold: 3,
      inbound: { enabled: false, latencyThresholdSeconds: 120, failureThreshold: 5 },
      outbound: { enabled: false, latencyThresholdSeconds: 30, failureThreshold: null },
    });
    expect((await full.get(`/api/monitors/${created.body.id}`).expect(200)).body.inbound).toEqual(created.body.inbound);
    const bad = await full
      .put(`/api/monitors/${created.body.id}`)
      .send({ ...body, inbound: { enabled: false, failureThreshold: 0 }, outbound: { enabled: false, latencyThresholdSeconds: 'slow' } })
      .expect(422);
    expect((bad.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['inbound.failureThreshold', 'outbound.latencyThresholdSeconds']);
    await full.delete(`/api/monitors/${created.body.id}`).expect(204);
  });

  it('names every bad field at once (422 problem+json) and writes nothing', async () => {
    const full = await ctx.signIn('alpha', 'fullAdministrator');
    const before = (await full.get('/api/monitors').expect(200)).body.length;
    const bad = await full
      .post('/api/monitors')
      .send({
        name: '',
        probeMailbox: 'not a mailbox',
        windowMinutes: 0,
        failureThreshold: 'x',
        alertRecipients: { sms: ['555-0100'], email: ['nope'] },
        timeZone: 'Mars/Olympus',
        address: 'a b@c',
      })
      .expect(422);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    const paths = (bad.body.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'name',
        'probeMailbox',
        'windowMinutes',
        'failureThreshold',
        'alertRecipients.sms.0',
        'alertRecipients.email.0',
        'timeZone',
        'address',
      ]),
    );
    const group = await full
      .post('/api/monitors')
      .send({ ...valid, address: 'other@monitor.lifeboat.test', defaultGroupId: 'no-such-group' })
      .expect(422);
    expect(group.body.errors).toEqual([{ path: 'defaultGroupId', message: 'no group "no-such-group" in this tenant\'s directory' }]);
    const auto = await full
      .post('/api/monitors')
      .send({ ...valid, address: 'other@monitor.lifeboat.test', defaultGroupId: null, autoActivation: { enabled: true } })
      .expect(422);
    expect(auto.body.errors[0].path).toBe('autoActivation.enabled');
    await full.post('/api/monitors').set('content-type', 'application/json').send('{"name":').expect(400);
    expect((await full.get('/api/monitors').expect(200)).body.length).toBe(before);
    // The refused monitor did not keep its address.
    await full
      .post('/api/monitors')
      .send({ ...valid, name: 'Second', address: 'other@monitor.lifeboat.test' })
      .expect(201);
  });

  it('warns when an alert address is inside the tenant’s own domains', async () => {
    const full = await ctx.signIn('alpha', 'fullAdministrator');
    const res = await full
      .post('/api/monitors')
      .send({
        ...valid,
        name: 'Warned',
        address: 'warned@monitor.lifeboat.test',
        alertRecipients: { sms: [], email: ['oncall@example.org', 'IT@Alpha.Test', 'ops@eu.alpha.test'] },
      })
      .expect(201);
    expect(res.body.warnings.map((w: { path: string }) => w.path)).toEqual(['alertRecipients.email.1', 'alertRecipients.email.2']);
    expect(res.body.warnings[0].message).toContain('it@alpha.test is inside your own domain alpha.test');
  });

  it('keeps tenants apart: other tenants cannot see, change or reuse a monitor or its address', async () => {
    const alpha = await ctx.signIn('alpha', 'fullAdministrator');
    const beta = await ctx.signIn('beta', 'fullAdministrator');
    const id = (await alpha.get('/api/monitors').expect(200)).body[0].id;
    expect((await beta.get('/api/monitors').expect(200)).body).toEqual([]);
    for (const path of [`/api/monitors/${id}`, `/api/monitors/${id}/log`, `/api/monitors/${id}/series`, `/api/monitors/${id}/log/export.csv`])
      await beta.get(path).expect(404);
    await beta
      .put(`/api/monitors/${id}`)
      .send({ ...valid, defaultGroupId: 'beta-g1' })
      .expect(404);
    await beta.post(`/api/monitors/${id}/suppress`).send({ hours: 1 }).expect(404);
    await beta.delete(`/api/monitors/${id}`).expect(404);
    const taken = await beta
      .post('/api/monitors')
      .send({ ...valid, defaultGroupId: 'beta-g1', probeMailbox: 'probe@beta.test' })
      .expect(422);
    expect(taken.body.errors).toEqual([{ path: 'address', message: 'this address is already used by another monitor' }]);
  });
});

describe('the receiver and monitor addresses', () => {
  let receiver: ReturnType<typeof createReceiver>;
  let port: number;
  beforeAll(async () => {
    receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent') });
    port = await receiver.listen(0, '127.0.0.1');
  });
  afterAll(() => receiver.close());

  it('accepts mail for a monitor address (whatever its domain), records the named probe, and stores nothing', async () => {
    const models = monitorModels(ctx.conn);
    const m = await models.monitors.findOne({ address: valid.address }).lean();
    const probeId = 'a'.repeat(24);
    await models.probes.create({
      _id: probeId,
      tenantId: 'alpha',
      monitorId: m!._id,
      check: 'outbound',
      route: null,
      address: valid.address,
      sentAt: clock,
      receivedAt: null,
    });
    const messagesBefore = await ctx.services.mail.models.messages.countDocuments({});
    const ok = await sendOne(port, {
      from: 'probe@alpha.test',
      to: [valid.address],
      message: simpleMessage({ from: 'probe@alpha.test', to: valid.address, subject: `Lifeboat probe ${probeId}` }),
    });
    expect(ok.rcpts[0]).toMatch(/^250/);
    expect(ok.data).toMatch(/^250/);
    expect((await models.probes.findById(probeId).lean())!.receivedAt).toEqual(clock);
    expect(await ctx.services.mail.models.messages.countDocuments({})).toBe(messagesBefore);
    // Other addresses of that domain are not an open relay.
    const refused = await sendOne(port, {
      from: 'x@example.org',
      to: ['someone@monitor.lifeboat.test'],
      message: simpleMessage({ from: 'x@example.org', to: 'someone@monitor.lifeboat.test', subject: 'hi' }),
    });
    expect(refused.rcpts[0]).toMatch(/^550/);
  });
});

describe('detection log, CSV and series', () => {
  let id: string;
  let full: request.Agent;
  beforeAll(async () => {
    full = await ctx.signIn('alpha', 'fullAdministrator');
    id = (
      await full
        .post('/api/monitors')
        .send({ ...valid, name: 'Logged', address: 'logged@monitor.lifeboat.test' })
        .expect(201)
    ).body.id;
    const models = monitorModels(ctx.conn);
    const rows = [];
    for (let i = 0; i < 120; i++) {
      const at = new Date(clock.getTime() - (120 - i) * 60_000);
      rows.push({
        tenantId: 'alpha',
        monitorId: id,
        at,
        windowStart: at,
        check: i % 3 === 2 ? 'window' : i % 3 === 0 ? 'outbound' : 'inbound',
        route: '10.0.0.1:25',
        probeId: null,
        address: null,
        latencyMs: i % 3 === 2 ? null : 100 + i,
        outcome: i % 10 === 0 ? 'failed' : 'ok',
        error: i === 30 ? '=HYPERLINK("http://evil.example","click")' : null,
        failureCount: 0,
        decision: i % 3 === 2 ? 'below threshold' : null,
        alertId: null,
      });
    }
    await models.log.insertMany(rows);
  });

  it('pages newest first with a cursor, filters by check, outcome, decision and time', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string; at: string }[]; nextCursor: string | null } = (
        await full.get(`/api/monitors/${id}/log?limit=50${cursor ? `&cursor=${cursor}` : ''}`).expect(200)
      ).body;
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(120);
    expect(new Set(seen).size).toBe(120);
    const failed = (await full.get(`/api/monitors/${id}/log?outcome=failed&limit=500`).expect(200)).body.items;
    expect(failed).toHaveLength(12);
    const windows = (await full.get(`/api/monitors/${id}/log?check=window&decision=below%20threshold&limit=500`).expect(200)).body.items;
    expect(windows).toHaveLength(40);
    const from = new Date(clock.getTime() - 10 * 60_000).toISOString();
    expect((await full.get(`/api/monitors/${id}/log?from=${encodeURIComponent(from)}&limit=500`).expect(200)).body.items).toHaveLength(10);
    const bad = await full.get(`/api/monitors/${id}/log?check=nope&outcome=x&cursor=zz`).expect(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['check', 'outcome']));
    await full.get(`/api/monitors/${id}/log?cursor=bm90LWEtY3Vyc29y`).expect(422);
  });

  it('exports CSV that is safe to open in a spreadsheet', async () => {
    const res = await full.get(`/api/monitors/${id}/log/export.csv?outcome=failed`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.text.trim().split('\r\n');
    expect(lines[0]).toBe('time,monitor,check,route,testMessageId,address,latencyMs,outcome,error,failureCountAfter,decision,alertId');
    expect(lines).toHaveLength(13);
    expect(res.text).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(res.text).not.toMatch(/(^|,)=HYPERLINK/m);
  });

  it('serves a latency series for 24 hours and 7 days', async () => {
    const day = (await full.get(`/api/monitors/${id}/series?range=24h`).expect(200)).body;
    expect(day).toMatchObject({ range: '24h', bucketMinutes: 15 });
    expect(day.points.length).toBeGreaterThanOrEqual(96);
    const measured = day.points.filter((p: { outboundMs: number | null }) => p.outboundMs !== null);
    expect(measured.length).toBeGreaterThanOrEqual(8);
    // Failed checks only (12 failed rows, 4 of them window decisions).
    expect(day.points.reduce((n: number, p: { failedChecks: number }) => n + p.failedChecks, 0)).toBe(8);
    const week = (await full.get(`/api/monitors/${id}/series?range=7d`).expect(200)).body;
    expect(week).toMatchObject({ range: '7d', bucketMinutes: 120 });
    await full.get(`/api/monitors/${id}/series?range=1y`).expect(422);
  });
});

describe('the window loop', () => {
  it('starts a window only near its beginning (deterministic clock), once', async () => {
    const full = await ctx.signIn('beta', 'fullAdministrator');
    // No checks configured: every window is idle, so the loop's own rules are all that is tested.
    const m = (
      await full
        .post('/api/monitors')
        .send({ name: 'Idle', address: 'idle@monitor.lifeboat.test', inbound: { enabled: false }, outbound: { enabled: false }, windowMinutes: 2 })
        .expect(201)
    ).body;
    const windows = monitorModels(ctx.conn).windows;
    const ofMonitor = () => windows.countDocuments({ monitorId: m.id });
    // Windows are 2 s here (a minute is 1 s): +1.5 s is 75% into the window that began on the hour.
    clock = at(1500);
    await ctx.services.monitor.tick();
    expect(await ofMonitor()).toBe(0);
    clock = at(2200);
    await ctx.services.monitor.tick();
    await ctx.services.monitor.tick();
    await ctx.services.monitor.stop(); // waits for the running window
    expect(await ofMonitor()).toBe(1);
    const log = (await full.get(`/api/monitors/${m.id}/log`).expect(200)).body.items;
    expect(log).toEqual([
      expect.objectContaining({ check: 'window', outcome: 'idle', decision: 'below threshold', failureCount: 0, windowStart: at(2000).toISOString() }),
    ]);
    expect(ctx.logs()).toContain('monitor decision: below threshold');
  });

  it('runs each window once when two server processes share the database', async () => {
    const full = await ctx.signIn('beta', 'fullAdministrator');
    const m = (
      await full
        .post('/api/monitors')
        .send({ name: 'Shared', address: 'shared@monitor.lifeboat.test', inbound: { enabled: false }, outbound: { enabled: false }, windowMinutes: 3 })
        .expect(201)
    ).body;
    const second = createServices(ctx.conn, testServiceOptions({ now: () => clock, monitor: { minuteMs: 1000, tickMs: 60_000 } }));
    clock = at(60_100); // just after the start of a 3 s window (an hour and a minute are multiples of 3 s)
    await Promise.all([ctx.services.monitor.tick(), second.monitor.tick(), ctx.services.monitor.tick(), second.monitor.tick()]);
    await Promise.all([ctx.services.monitor.stop(), second.monitor.stop(), second.mail.worker.stop(), second.scheduler.stop(), second.notify.stop()]);
    expect(await monitorModels(ctx.conn).windows.countDocuments({ monitorId: m.id })).toBe(1);
    const log = (await full.get(`/api/monitors/${m.id}/log`).expect(200)).body.items;
    expect(log).toHaveLength(1);
  });
});
