/**
 * END TO END: the continuity monitor against real peers. Lifeboat's SMTP receiver on loopback; the
 * Graph stand-in (HTTPS, real msal-node + Graph SDK) plays Exchange Online: its sendMail delivers by
 * SMTP to Lifeboat's receiver, and its probe mailbox lists what the primary SMTP server (a real
 * smtp-server peer that can be slowed or broken) accepted. Windows are 4 s (a "minute" is 1 s here).
 *
 * Healthy windows → break the primary route → the counter climbs → an alert with a working portal
 * link → an event started from the portal in Chromium (phone width) → the affected user's status
 * turns active (pull and push) → repair → recovered. Alerts go out through the notification channels:
 * a local SMS gateway (Twilio's API shape) and an SMTP sink. Bad links get a clear page and do nothing.
 */
import { simpleParser } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { signPortalToken } from '../../server/portal/token';
import { createLogger } from '../../server/log';
import { createReceiver } from '../../server/mail/receiver';
import { axeViolations } from '../harness/axe';
import { launchBrowser, newPanePage, screenshot, signInToAdminPage } from '../harness/browser';
import { TEST_PASSWORD, TEST_SECRET, tenantDirectory, useLifeboat } from '../harness/context';
import { ensurePaneBuilt } from '../harness/pane-build';
import { eventually } from '../harness/eventually';
import { startLiveServer, statusClient, type LiveServer } from '../harness/live-server';
import { startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { connectAndSync, useGraphStandIns } from '../harness/graph-stand-ins';
import { twilioThrough } from '../harness/notify-fixtures';
import { StandInWorld } from '../stand-ins/entra';
import { startSmsGateway, type SmsGateway } from '../stand-ins/sms-gateway';

const CLIENT_ID = '77777777-2222-4333-8444-555555555555';
const SECRET = 'probe-app-secret-value-0123456789';
const PHONE = { width: 390, height: 844 };

const world = new StandInWorld();
const entraTenant = world.addTenant('cccccccc-0000-4000-8000-000000000003');
entraTenant.domains = [{ id: 'alpha.test', isVerified: true, isDefault: true }];
entraTenant.putUser({ id: 'u-probe', displayName: 'Lifeboat Probe', mail: 'probe@alpha.test', userPrincipalName: 'probe@alpha.test' });
entraTenant.putUser({ id: 'u-ann', displayName: 'Ann Field', mail: 'ann@alpha.test', userPrincipalName: 'ann@alpha.test' });
entraTenant.putUser({ id: 'u-bob', displayName: 'Bob Stone', mail: 'bob@alpha.test', userPrincipalName: 'bob@alpha.test' });
entraTenant.putGroup({
  id: 'g-ops',
  displayName: 'Operations',
  mail: 'ops@alpha.test',
  groupTypes: ['Unified'],
  mailEnabled: true,
  securityEnabled: false,
  members: ['u-ann'],
});
entraTenant.registerApp({
  clientId: CLIENT_ID,
  clientSecret: SECRET,
  grantedPermissions: ['GroupMember.Read.All', 'User.Read.All', 'Domain.Read.All', 'Mail.Send', 'Mail.ReadBasic.All', 'Application.Read.All'],
});

interface Sent {
  kind: 'alert' | 'recovered';
  sms: string;
  email: string;
  portalUrl: string;
  alertId: string;
}

const standIns = useGraphStandIns(world);

const ctx = useLifeboat({
  graph: standIns.graph,
  directories: [tenantDirectory('alpha'), tenantDirectory('beta')],
  services: {
    monitor: { minuteMs: 1000, tickMs: 100 },
    notify: { retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 50 } },
    publicUrl: 'https://lifeboat.example',
  },
});

describe('continuity monitor end to end', () => {
  let admin: request.Agent;
  let live: LiveServer;
  let primary: SmtpPeer;
  let gateway: SmsGateway;
  let sink: SmtpPeer;
  let receiver: ReturnType<typeof createReceiver>;
  let browser: Browser;
  let page: Page;
  let monitorId: string;
  let portalEventId = '';

  /** The alerts as they arrived: SMS at the gateway, email at the sink, paired by their alert id. */
  async function sentAlerts(): Promise<Sent[]> {
    const out: Sent[] = [];
    for (const sms of gateway.delivered) {
      const body = String(sms.fields.Body ?? '');
      const portalUrl = /https:\/\/lifeboat\.example\/portal\/\S+/.exec(body)?.[0] ?? '';
      const mail = await Promise.all(sink.received.map((m) => simpleParser(m.raw)));
      const email = mail.find((m) => (m.text ?? '').includes(portalUrl));
      const alertId = /Alert id: (\S+)/.exec(email?.text ?? '')?.[1] ?? '';
      out.push({
        kind: body.includes('recovered') ? 'recovered' : 'alert',
        sms: body,
        email: email ? `${email.subject}\n${email.text}` : '',
        portalUrl,
        alertId,
      });
    }
    return out;
  }
  const state = async () => (await admin.get(`/api/monitors/${monitorId}`).expect(200)).body.state;
  const decisions = async () =>
    ((await admin.get(`/api/monitors/${monitorId}/log?check=window&limit=100`).expect(200)).body.items as { decision: string; failureCount: number }[]).map(
      (r) => r.decision,
    );

  beforeAll(async () => {
    admin = await ctx.signIn('alpha', 'fullAdministrator');
    receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent') });
    const port = await receiver.listen(0, '127.0.0.1');
    world.mailFlow.smtp = { host: '127.0.0.1', port };
    primary = await startPeer('accept');
    primary.onReceived = (mail) => mail.to.forEach((to) => entraTenant.deliverToMailbox(to, mail.raw));
    await admin
      .put('/api/mail/settings')
      .send({ primaryServers: [{ host: '127.0.0.1', port: primary.port }], relay: null })
      .expect(200);
    gateway = await startSmsGateway();
    sink = await startPeer('accept');
    await admin
      .put('/api/notify/settings')
      .send({
        sms: twilioThrough(gateway),
        email: { host: '127.0.0.1', port: sink.port, secure: false, from: 'lifeboat@alpha.test' },
      })
      .expect(200);
    await connectAndSync(admin, { entraTenantId: entraTenant.id, clientId: CLIENT_ID, clientSecret: SECRET });
    ensurePaneBuilt();
    live = await startLiveServer(ctx);
    browser = await launchBrowser();
    page = (await newPanePage(browser, PHONE)).page;
  }, 120_000);

  afterAll(async () => {
    await ctx.services.monitor.stop();
    await browser?.close();
    await live?.close();
    await receiver?.close();
    await primary?.close();
    await gateway?.close();
    await sink?.close();
  });

  it('checks both directions, alerts when the route breaks, acts from the portal, and recovers', async () => {
    const created = await admin
      .post('/api/monitors')
      .send({
        name: 'Exchange Online mail flow',
        probeMailbox: 'probe@alpha.test',
        address: 'monitor-alpha@lifeboat.example',
        windowMinutes: 4,
        latencyThresholdSeconds: 3,
        failureThreshold: 2,
        repeatMinutes: 30,
        alertRecipients: { sms: ['+15550100'], email: ['oncall@example.org'] },
        defaultGroupId: 'g-ops',
        defaultDurationHours: 2,
        timeZone: 'Europe/Berlin',
      })
      .expect(201);
    monitorId = created.body.id;
    ctx.services.monitor.start();

    // Healthy: outbound (Graph sendMail → Lifeboat's receiver) and inbound (SMTP → probe mailbox) both arrive.
    await eventually(async () => {
      const log = (await admin.get(`/api/monitors/${monitorId}/log?outcome=ok`).expect(200)).body.items;
      expect(log.some((r: { check: string }) => r.check === 'outbound')).toBe(true);
      expect(log.some((r: { check: string }) => r.check === 'inbound')).toBe(true);
    }, 30_000);
    const okRows = (await admin.get(`/api/monitors/${monitorId}/log?outcome=ok`).expect(200)).body.items;
    const outbound = okRows.find((r: { check: string }) => r.check === 'outbound');
    expect(outbound).toMatchObject({ address: 'monitor-alpha@lifeboat.example', outcome: 'ok', failureCount: 0 });
    expect(outbound.latencyMs).toBeGreaterThanOrEqual(0);
    expect(outbound.probeId).toMatch(/^[0-9a-f]{24}$/);
    const inbound = okRows.find((r: { check: string }) => r.check === 'inbound');
    expect(inbound).toMatchObject({ route: `127.0.0.1:${primary.port}`, address: 'probe@alpha.test', outcome: 'ok' });
    expect(gateway.delivered).toHaveLength(0);

    // Break the only primary route: every inbound route fails, so windows fail; the counter climbs.
    primary.mode = 'reject';
    await eventually(async () => {
      expect(gateway.delivered).toHaveLength(1);
      expect(sink.received).toHaveLength(1);
    }, 30_000);
    expect(gateway.delivered[0]!.fields).toMatchObject({ To: '+15550100', From: '+15550009999' });
    expect(sink.received[0]!.to).toEqual(['oncall@example.org']);
    const alert = (await sentAlerts())[0]!;
    expect(alert.kind).toBe('alert');
    expect(alert.sms).toContain('mail flow problem detected by monitor "Exchange Online mail flow"');
    expect(alert.email).toContain('[Lifeboat] Mail flow problem detected: Exchange Online mail flow');
    expect(alert.alertId).toMatch(/^al[0-9a-f]{16}$/);
    expect(alert.portalUrl).toMatch(/^https:\/\/lifeboat\.example\/portal\/[\w-]+\.[\w-]+$/);
    const s = await state();
    expect(s.status).toBe('detected');
    expect(s.failureCount).toBeGreaterThanOrEqual(2);
    // The alert goes out before its window's decision row is written: wait for the row.
    await eventually(async () => expect(await decisions()).toContain('alert sent'));
    expect(await decisions()).toContain('below threshold');
    const failedInbound = (await admin.get(`/api/monitors/${monitorId}/log?check=inbound&outcome=failed`).expect(200)).body.items[0];
    expect(failedInbound.error).toMatch(/550|No such mailbox/);
    expect(ctx.logs()).toContain('monitor decision: alert sent');

    // The affected user (Ann, in Operations) is not in continuity yet.
    await admin.put('/api/users/u-ann/cloud-password').send({ password: 'ann cloud password 1' }).expect(204);
    const annToken = (await request(ctx.app).post('/api/user-auth/login').send({ email: 'ann@alpha.test', password: 'ann cloud password 1' }).expect(200)).body
      .token as string;
    const pull = async () => (await request(ctx.app).get('/api/me/status').set('Authorization', `Bearer ${annToken}`).expect(200)).body;
    expect((await pull()).active).toBe(false);
    const socket = statusClient(live.url, annToken);
    await socket.connected();

    // The portal link works in a phone-sized Chromium: what was detected, and the actions.
    const path = new URL(alert.portalUrl).pathname;
    await page.goto(`${live.url}${path}`);
    await page.getByRole('heading', { name: 'Exchange Online mail flow' }).waitFor();
    expect(await page.getByText('Problem detected').isVisible()).toBe(true);
    expect(
      await page
        .getByText(/CET|CEST|GMT\+1|GMT\+2/)
        .first()
        .isVisible(),
    ).toBe(true); // times with their zone
    expect(await page.locator('input[name=groupId]').inputValue()).toBe('g-ops');
    await screenshot(page, 'portal-detected-phone');
    await page.getByRole('button', { name: 'Start event now' }).click();
    await page.getByText('The continuity event has started.').waitFor();
    await screenshot(page, 'portal-event-started-phone');

    // Ann's status turns active: pulled, and pushed.
    await eventually(async () => expect((await pull()).active).toBe(true), 10_000);
    await socket.waitFor((st) => st.active);
    socket.socket.close();
    const events = (await admin.get('/api/events').expect(200)).body;
    const started = events.find((e: { affectedGroupId: string }) => e.affectedGroupId === 'g-ops');
    expect(started).toMatchObject({ status: 'current', timeZone: 'Europe/Berlin', createdBy: `via portal link ${alert.alertId}` });
    expect(new Date(started.end).getTime() - new Date(started.start).getTime()).toBe(2 * 3600_000);
    expect(await decisions()).toContain('event started');
    const audit = (await admin.get('/api/audit?category=monitor').expect(200)).body.items;
    expect(audit.find((a: { action: string }) => a.action === 'portal.eventStarted')).toMatchObject({
      actor: { email: `via portal link ${alert.alertId}` },
      after: { via: `via portal link ${alert.alertId}`, groupId: 'g-ops' },
    });

    // Extend it and suppress alerts from the same page.
    await page.getByLabel('Extend by (hours)').fill('1');
    await page.getByRole('button', { name: 'Extend event' }).click();
    await page.getByText('The event was extended.').waitFor();
    const extended = (await admin.get(`/api/events/${started.id}`).expect(200)).body;
    expect(new Date(extended.end).getTime() - new Date(started.end).getTime()).toBe(3600_000);
    await page.getByLabel('For (hours)').fill('1');
    await page.getByRole('button', { name: 'Suppress alerts' }).click();
    await page.getByText(/Alerts suppressed until/).waitFor();
    expect((await state()).suppressedUntil).not.toBeNull();
    await screenshot(page, 'portal-suppressed-phone');
    await admin.post(`/api/monitors/${monitorId}/resume`).send({}).expect(200);

    // Repair the route: the counter falls, and below the threshold the monitor recovers with a notice.
    primary.mode = 'accept';
    await eventually(async () => {
      const recovered = (await sentAlerts()).filter((m) => m.kind === 'recovered');
      if (recovered.length === 0)
        throw new Error(
          `not recovered yet; windows: ${JSON.stringify((await admin.get(`/api/monitors/${monitorId}/log?limit=30`).expect(200)).body.items.map((r: { check: string; outcome: string; error: string | null; failureCount: number; decision: string | null }) => [r.check, r.outcome, r.error, r.failureCount, r.decision]))}`,
        );
      expect(recovered).toHaveLength(1);
    }, 90_000);
    // Suppressed for a while and resumed: no further alert went out in between (repeat is 30 "minutes").
    expect((await sentAlerts()).filter((m) => m.kind === 'alert')).toHaveLength(1);
    const notifyLog = (await admin.get('/api/notify/log').expect(200)).body.items as { purpose: string }[];
    expect(notifyLog.map((r) => r.purpose)).toEqual(expect.arrayContaining(['monitor.alert', 'monitor.recovered']));
    // The notice goes out before the window's decision row is written: wait for the row.
    await eventually(async () => {
      expect((await state()).status).toBe('normal');
      expect(await decisions()).toContain('recovered');
    }, 30_000);

    // End the event from the portal; then the page still works and says so.
    await page.goto(`${live.url}${path}`);
    await page.getByRole('button', { name: 'End event now' }).click();
    await page.getByText('The event has ended.').waitFor();
    expect((await admin.get(`/api/events/${started.id}`).expect(200)).body.status).toBe('expired');
    portalEventId = started.id;

    // The post-incident report: the time from the alert's detection to the event's start.
    const report = (await admin.get(`/api/events/${started.id}/report`).expect(200)).body;
    expect(report.detectionToStart).toMatchObject({
      detectedAt: s.detectedAt,
      startedVia: 'portal',
      alertId: alert.alertId,
      monitorName: 'Exchange Online mail flow',
    });
    const startedAt = Date.parse(report.event.startedAt ?? report.event.start);
    expect(startedAt).toBeGreaterThanOrEqual(Date.parse(s.detectedAt));
    expect(report.detectionToStart.minutes).toBe(Math.round(((startedAt - Date.parse(s.detectedAt)) / 60_000) * 10) / 10);
    expect(report.unknowns.map((u: { metric: string }) => u.metric)).not.toContain('detectionToStart');
    const csv = (await admin.get(`/api/events/${started.id}/report.csv`).expect(200)).text;
    expect(csv).toContain(`time from detection to event start (minutes),${report.detectionToStart.minutes}`);
  }, 180_000);

  it('refuses expired, tampered and other-tenant links with a clear page, and forged forms', async () => {
    const alert = (await sentAlerts()).find((m) => m.kind === 'alert')!;
    const token = new URL(alert.portalUrl).pathname.split('/').pop()!;
    const expired = signPortalToken(TEST_SECRET, { tenantId: 'alpha', monitorId, alertId: alert.alertId, expiresAt: new Date(Date.now() - 1000) });
    const otherTenant = signPortalToken(TEST_SECRET, { tenantId: 'beta', monitorId, alertId: alert.alertId, expiresAt: new Date(Date.now() + 3600_000) });
    const tampered = `${token.slice(0, -3)}${token.endsWith('A') ? 'BBB' : 'AAA'}`;

    const expiredPage = await request(ctx.app).get(`/portal/${expired}`).expect(410);
    expect(expiredPage.text).toContain('This link has expired');
    expect(expiredPage.text).not.toContain('<form');
    const tamperedPage = await request(ctx.app).get(`/portal/${tampered}`).expect(404);
    expect(tamperedPage.text).toContain('This link is not valid');
    const otherPage = await request(ctx.app).get(`/portal/${otherTenant}`).expect(404);
    expect(otherPage.text).toContain('does not belong');
    expect(otherPage.text).not.toContain('Exchange Online mail flow');

    // Actions with a bad link do nothing.
    const before = (await admin.get('/api/events?show=all').expect(200)).body.length;
    for (const bad of [expired, tampered, otherTenant]) {
      await request(ctx.app)
        .post(`/portal/${bad}/actions/start`)
        .type('form')
        .send({ csrf: 'x', groupId: 'g-ops', hours: '1' })
        .expect((r) => expect(r.status).toBeGreaterThanOrEqual(400));
    }
    // A valid link without the page's form token (a forged cross-site form) does nothing either.
    const forged = await request(ctx.app).post(`/portal/${token}/actions/start`).type('form').send({ groupId: 'g-ops', hours: '1' }).expect(403);
    expect(forged.text).toContain('The form has expired or did not come from this page');
    expect((await admin.get('/api/events?show=all').expect(200)).body.length).toBe(before);

    await page.goto(`${live.url}/portal/${expired}`);
    await screenshot(page, 'portal-expired-phone');
    await page.goto(`${live.url}/portal/${tampered}`);
    await screenshot(page, 'portal-invalid-phone');
  }, 60_000);

  it('shows the monitor on the admin page: state, suppress and resume, the log with filters and CSV, the latency chart, a new monitor with a warning', async () => {
    await ctx.createAdmin('alpha', 'fullAdministrator', 'monitor-admin@alpha.test', TEST_PASSWORD);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'UTC', acceptDownloads: true });
    context.setDefaultTimeout(15_000);
    const p = await context.newPage();
    await signInToAdminPage(
      p,
      `${live.url}/admin#monitor`,
      { email: 'monitor-admin@alpha.test', password: TEST_PASSWORD },
      { name: 'Continuity monitor', exact: true },
    );

    const stateCard = p.getByTestId('monitor-state');
    await stateCard.getByRole('heading', { name: 'Exchange Online mail flow' }).waitFor();
    expect(await p.getByTestId('monitor-status').textContent()).toBe('Normal');
    await p.getByTestId('monitor-log').waitFor();
    await p.getByTestId('latency-chart').waitFor();
    expect(await p.getByTestId('monitor-log').textContent()).toMatch(/CET|CEST/);
    await screenshot(p, 'admin-monitor-laptop');
    expect(await axeViolations(p)).toEqual([]);

    // Filter the log to the alert decisions.
    await p.getByLabel('Decision').selectOption('alert sent');
    await eventually(async () => {
      const rows = await p.getByTestId('monitor-log').locator('tbody tr').allTextContents();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.includes('alert sent'))).toBe(true);
    });
    // CSV of the same filter.
    const [download] = await Promise.all([p.waitForEvent('download'), p.getByTestId('monitor-csv').click()]);
    const csv = await new Promise<string>((resolve, reject) => {
      let text = '';
      void download.createReadStream().then((stream) => {
        stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      });
    });
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('time,monitor,check,route,testMessageId,address,latencyMs,outcome,error,failureCountAfter,decision,alertId');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.slice(1).every((l) => l.includes('alert sent'))).toBe(true);

    // Suppress, then resume, from the page.
    await p.getByLabel('Suppress alerts for (hours)').fill('2');
    await p.getByRole('button', { name: 'Suppress alerts' }).click();
    await p.getByText('Alerts suppressed').waitFor();
    expect((await state()).suppressedUntil).not.toBeNull();
    await p.getByRole('button', { name: 'Resume alerts' }).click();
    await p.getByText('Alerts suppressed').waitFor({ state: 'detached' });
    expect((await state()).suppressedUntil).toBeNull();

    // At phone width.
    await p.setViewportSize({ width: 390, height: 844 });
    await screenshot(p, 'admin-monitor-phone');
    await p.setViewportSize({ width: 1280, height: 900 });

    // A second monitor whose alert address is inside the tenant's own domain: saved, with a warning.
    await p.getByRole('button', { name: 'New monitor' }).click();
    const editor = p.getByTestId('monitor-form');
    await editor.getByLabel('Name').fill('Backup route');
    await editor.getByLabel('Probe mailbox (UPN or object id)').fill('probe@alpha.test');
    await editor.getByLabel('Alert email addresses (one per line)').fill('it@alpha.test');
    await editor.getByLabel('Enabled').uncheck();
    await editor.getByRole('button', { name: 'Save monitor' }).click();
    await p.getByTestId('monitor-warnings').waitFor();
    expect(await p.getByTestId('monitor-warnings').textContent()).toContain('it@alpha.test is inside your own domain alpha.test');
    await screenshot(p, 'admin-monitor-new-warning');
    await editor.getByRole('button', { name: 'Done' }).click();
    await p.getByRole('tab', { name: 'Backup route' }).waitFor();
    const all = (await admin.get('/api/monitors').expect(200)).body as { name: string; enabled: boolean; address: string }[];
    expect(all.find((m) => m.name === 'Backup route')).toMatchObject({
      enabled: false,
      address: expect.stringMatching(/^monitor-[0-9a-f]{10}@lifeboat\.local$/),
    });

    // Readiness: the enabled monitor alerts an SMS number and an external address (the disabled one's own-domain address does not count).
    await p.getByRole('tab', { name: 'Readiness' }).click();
    await p.locator('[data-check="alerts"][data-status="pass"]').getByText('Alerts go to 1 SMS number and 1 email address').waitFor();

    // The portal-started event's post-incident report: the time from the detection to its start.
    await p.goto(`${live.url}/admin#events/report/${portalEventId}`);
    const detection = p.getByTestId('figure-detection-to-start');
    await detection.getByText(/^\d+(\.\d)? min$/).waitFor();
    await detection.getByText(/by monitor Exchange Online mail flow; started from the portal link/).waitFor();
    await detection.scrollIntoViewIfNeeded();
    await screenshot(p, 'admin-report-detection-to-start');
    await context.close();
  }, 120_000);

  it('guarded auto-activation: starts an event after N minutes detected, unless an admin cancels first', async () => {
    await admin.delete(`/api/monitors/${monitorId}`).expect(204);
    const base = {
      probeMailbox: 'probe@alpha.test',
      inbound: { enabled: false },
      windowMinutes: 2,
      failureThreshold: 1,
      latencyThresholdSeconds: 2,
      defaultGroupId: 'g-ops',
      defaultDurationHours: 1,
      alertRecipients: { sms: ['+15550100'], email: [] },
    };
    const auto = (
      await admin
        .post('/api/monitors')
        .send({ ...base, name: 'Auto', address: 'auto@lifeboat.example', autoActivation: { enabled: true, afterMinutes: 1 } })
        .expect(201)
    ).body;
    const guarded = (
      await admin
        .post('/api/monitors')
        .send({ ...base, name: 'Guarded', address: 'guarded@lifeboat.example', autoActivation: { enabled: true, afterMinutes: 4 } })
        .expect(201)
    ).body;
    const stateOf = async (id: string) => (await admin.get(`/api/monitors/${id}`).expect(200)).body.state;
    const decisionsOf = async (id: string) =>
      ((await admin.get(`/api/monitors/${id}/log?check=window`).expect(200)).body.items as { decision: string }[]).map((r) => r.decision);

    // Exchange stops sending: the outbound test messages never reach the monitor addresses.
    world.mailFlow.broken = true;
    await eventually(async () => expect((await stateOf(guarded.id)).autoActivation.firesAt).not.toBeNull(), 30_000);
    const cancelled = await admin.post(`/api/monitors/${guarded.id}/auto-activation/cancel`).send({}).expect(200);
    expect(cancelled.body.state.autoActivation).toMatchObject({ firesAt: null, cancelled: true });

    await eventually(async () => expect(await decisionsOf(auto.id)).toContain('event started'), 30_000);
    const autoState = await stateOf(auto.id);
    const event = (await admin.get(`/api/events/${autoState.autoActivation.eventId}`).expect(200)).body;
    expect(event).toMatchObject({ status: 'current', affectedGroupId: 'g-ops', createdBy: `auto-activation of monitor ${auto.id}` });
    const failedOutbound = (await admin.get(`/api/monitors/${auto.id}/log?check=outbound&outcome=failed`).expect(200)).body.items[0];
    expect(failedOutbound.error).toBe('the test message did not arrive at the monitor address within the window');

    // The guarded monitor's 4 "minutes" pass without an event.
    const detectedAt = new Date((await stateOf(guarded.id)).detectedAt).getTime();
    await eventually(async () => expect(Date.now()).toBeGreaterThan(detectedAt + 6000), 15_000, 250);
    expect(await decisionsOf(guarded.id)).not.toContain('event started');
    const audit = (await admin.get('/api/audit?category=monitor').expect(200)).body.items.map((a: { action: string }) => a.action);
    expect(audit).toEqual(expect.arrayContaining(['monitor.autoActivation.cancelled', 'monitor.autoActivation.eventStarted']));
    world.mailFlow.broken = false;
    await admin.post(`/api/events/${event.id}/end`).send({}).expect(200);
  }, 90_000);

  it('a slowed primary server makes the inbound check slow (above the latency threshold), which fails the window', async () => {
    for (const m of (await admin.get('/api/monitors').expect(200)).body as { id: string }[]) await admin.delete(`/api/monitors/${m.id}`).expect(204);
    const slow = (
      await admin
        .post('/api/monitors')
        .send({
          name: 'Slow route',
          probeMailbox: 'probe@alpha.test',
          address: 'slow@lifeboat.example',
          outbound: { enabled: false },
          windowMinutes: 8,
          latencyThresholdSeconds: 1,
          failureThreshold: 5,
        })
        .expect(201)
    ).body;
    primary.delayMs = 2000;
    try {
      await eventually(
        async () => expect((await admin.get(`/api/monitors/${slow.id}/log?check=window`).expect(200)).body.items.length).toBeGreaterThan(0),
        30_000,
        250,
      );
    } finally {
      primary.delayMs = 0;
    }
    const inbound = (await admin.get(`/api/monitors/${slow.id}/log?check=inbound`).expect(200)).body.items[0];
    expect(inbound).toMatchObject({ outcome: 'slow', error: 'latency above 1 s', failureCount: 1 });
    expect(inbound.latencyMs).toBeGreaterThanOrEqual(1000);
    const window = (await admin.get(`/api/monitors/${slow.id}/log?check=window`).expect(200)).body.items[0];
    expect(window).toMatchObject({ outcome: 'failed', decision: 'below threshold', failureCount: 1 });
  }, 60_000);
});
