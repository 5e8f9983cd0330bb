/**
 * END TO END: the admin page's Mail section and an event's post-incident report, in Chromium against
 * the real server process (real SMTP in, a real SMTP peer as the primary server). The admin saves
 * mail settings (first with errors shown beside their fields), watches mail held by a pausing event
 * and its release after End Now, then opens the event's report, prints it and downloads it as CSV.
 * A read-only admin on a phone sees the settings disabled with the reason. Every state is
 * screenshotted at laptop and phone width and checked with axe-core.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { axeViolations } from '../harness/axe';
import { LAPTOP_VIEWPORT, launchBrowser, newAdminPage, screenshot, signInToAdminPage } from '../harness/browser';
import { testDatabaseUri } from '../harness/context';
import { ensurePaneBuilt } from '../harness/pane-build';
import { startServer, type ServerProcess } from '../harness/server-process';
import { sendOne, simpleMessage, startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { eventBody } from '../harness/event-fixtures';

const ADMIN = { email: 'it@contoso.test', password: 'first admin password' };
const VIEWER = { email: 'viewer@contoso.test', password: 'viewer password 2026', role: 'readOnly' };
const LAPTOP = LAPTOP_VIEWPORT;
const PHONE = { width: 390, height: 844 };
const OUTAGE = 'Exchange Online outage';
/** Mail held during the outage. */
const HELD = 80;

describe('admin page: mail and post-incident report', () => {
  let server: ServerProcess;
  let primary: SmtpPeer;
  let browser: Browser;
  let page: Page;
  let smtpPort: number;
  let eventId: string;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-admin-mail-e2e-'));

  async function signIn(p: Page, who: { email: string; password: string }) {
    await signInToAdminPage(p, `${server.url}/admin`, who);
  }

  async function expectAccessible(p: Page) {
    expect(await axeViolations(p)).toEqual([]);
  }

  /** Screenshots a state at laptop width, then at phone width (where the page must not scroll sideways). */
  async function shoot(p: Page, name: string) {
    await screenshot(p, name);
    await p.setViewportSize(PHONE);
    await p.waitForTimeout(300);
    await screenshot(p, `${name}-phone`);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await p.setViewportSize(LAPTOP);
  }

  const count = (p: Page, which: string) => p.getByTestId(`count-${which}`).locator('dd');

  beforeAll(async () => {
    ensurePaneBuilt();
    primary = await startPeer('accept');
    server = await startServer({
      LIFEBOAT_ADMIN_EMAIL: ADMIN.email,
      LIFEBOAT_ADMIN_PASSWORD: ADMIN.password,
      LIFEBOAT_DATA_DIR: dataDir,
      MONGODB_URI: `${testDatabaseUri().replace(/\/$/, '')}/e2e_admin_mail_${Date.now()}`,
    });
    smtpPort = Number(/Lifeboat SMTP receiver on port (\d+)/.exec(server.stdout())?.[1]);
    expect(smtpPort).toBeGreaterThan(0);
    browser = await launchBrowser();
    page = await newAdminPage(browser);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await primary?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('mail: counts and an empty release state; settings refused beside their fields, then saved', async () => {
    await signIn(page, ADMIN);
    await page.getByRole('tab', { name: 'Mail' }).click();
    await page.getByRole('heading', { name: 'Mail', exact: true }).waitFor();
    await count(page, 'queued').getByText('0').waitFor();
    await page.locator('[data-testid="release"][data-state="none"]').waitFor();
    await page.getByTestId('no-primary').waitFor();
    await page.getByText('Setup: MX and connectors').waitFor();
    await shoot(page, 'admin-mail');
    await expectAccessible(page);

    const form = page.getByTestId('mail-settings');
    await form.getByRole('button', { name: 'Add primary server' }).click();
    await form.getByLabel('Primary server 1 host').fill('bad host!');
    await form.getByLabel('Primary server 1 port').fill('70000');
    await form.getByLabel('Retention (days)').fill('45');
    await form.getByRole('button', { name: 'Save mail settings' }).click();
    // The server's 422 names each field; each message sits under its own field, marked invalid.
    await form.getByText('must be a host name or IP address').waitFor();
    await expect(form.getByLabel('Primary server 1 host').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(form.getByLabel('Primary server 1 port').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(form.getByLabel('Retention (days)').getAttribute('aria-invalid')).resolves.toBe('true');
    await form.getByTestId('settings-invalid').waitFor();
    await shoot(page, 'admin-mail-settings-error');
    await expectAccessible(page);
    expect((await (await page.request.get(`${server.url}/api/mail/settings`)).json()).primaryServers).toEqual([]);

    await form.getByLabel('Primary server 1 host').fill('127.0.0.1');
    await form.getByLabel('Primary server 1 port').fill(String(primary.port));
    await form.getByLabel('Retention (days)').fill('7');
    await form.getByRole('button', { name: 'Add primary server' }).click();
    await form.getByLabel('Primary server 2 host').fill('backup.contoso.test');
    await form.getByRole('button', { name: 'Remove primary server 2' }).click();
    await form.getByRole('button', { name: 'Save mail settings' }).click();
    await form.getByTestId('settings-saved').waitFor();
    // TLS certificates are verified unless an admin turns it off (for an internal relay with its own CA).
    await expect(form.getByLabel('Verify the TLS certificates of the primary servers and relay').isChecked()).resolves.toBe(true);
    expect(await (await page.request.get(`${server.url}/api/mail/settings`)).json()).toEqual({
      primaryServers: [{ host: '127.0.0.1', port: primary.port }],
      relay: null,
      retentionDays: 7,
      verifyTls: true,
    });
    await page.reload();
    await expect(page.getByTestId('mail-settings').getByLabel('Primary server 1 port').inputValue()).resolves.toBe(String(primary.port));
  });

  test('mail: held by a pausing event, shown live; released after End Now with its progress', async () => {
    const created = await page.request.post(`${server.url}/api/events`, {
      data: {
        description: OUTAGE,
        affectedGroupId: 'g-continuity-pilot',
        timeZone: 'Europe/Berlin',
        start: new Date(Date.now() - 60_000).toISOString(),
        end: null,
        pauseInboundDelivery: true,
      },
    });
    expect(created.status()).toBe(201);
    eventId = (await created.json()).id;
    const from = 'partner@fabrikam.example';
    // Enough mail that its release (20 a second) takes a few seconds: the page shows it running.
    for (let i = 1; i <= HELD; i++) {
      await sendOne(smtpPort, { from, to: ['ada@contoso.test'], message: simpleMessage({ from, to: 'ada@contoso.test', subject: `Order ${i}` }) });
    }
    // The page polls: the held count appears without a reload.
    await count(page, 'held').getByText(String(HELD), { exact: true }).waitFor({ timeout: 15_000 });
    expect(primary.received).toHaveLength(0);
    await shoot(page, 'admin-mail-held');

    expect((await page.request.post(`${server.url}/api/events/${eventId}/end`)).ok()).toBe(true);
    // The event's end reaches the page over the socket; it polls every second while the release runs.
    await page
      .locator('[data-testid="release"][data-state="running"]')
      .getByText(new RegExp(`Releasing held mail: \\d+ of ${HELD} released`))
      .waitFor({ timeout: 10_000 });
    await shoot(page, 'admin-mail-releasing');
    const release = page.locator('[data-testid="release"][data-state="done"]');
    await release.getByText(`${HELD} of ${HELD} released`, { exact: false }).waitFor({ timeout: 20_000 });
    await count(page, 'held').getByText('0', { exact: true }).waitFor();
    await count(page, 'delivered').getByText(String(HELD), { exact: true }).waitFor({ timeout: 20_000 });
    expect(primary.received).toHaveLength(HELD);
    await shoot(page, 'admin-mail-released');
    await expectAccessible(page);
  });

  test('report: from the events list; timeline in the event zone, figures, printable, CSV', async () => {
    await page.getByRole('tab', { name: 'Events' }).click();
    await page.getByRole('button', { name: 'Show all events' }).click();
    await page.getByRole('button', { name: `Report for ${OUTAGE}` }).click();
    const report = page.getByTestId('event-report');
    await report.getByRole('heading', { name: 'Post-incident report' }).waitFor();
    expect(await page.evaluate(() => window.location.hash)).toBe(`#events/report/${eventId}`);
    await report.getByText('Expired (ended early with End Now)').waitFor();
    await report
      .getByText(/Europe\/Berlin \(UTC\+0[12]:00\)/)
      .first()
      .waitFor();
    await expect(report.getByTestId('figure-users').locator('dd').first().textContent()).resolves.toBe('8');
    await expect(report.getByTestId('figure-received').locator('dd').first().textContent()).resolves.toBe(String(HELD));
    await expect(report.getByTestId('figure-held').locator('dd').first().textContent()).resolves.toBe(String(HELD));
    await expect(report.getByTestId('figure-released').locator('dd').first().textContent()).resolves.toBe(String(HELD));
    const timeline = report.getByTestId('report-timeline');
    await timeline.locator('[data-kind="endNow"]').getByText(`By ${ADMIN.email}`).waitFor();
    await timeline
      .locator('[data-kind="ended"]')
      .getByText(/ended by End Now/)
      .waitFor();
    // No pane of this test acknowledged the banner: a counted zero, no longer an unknown.
    await expect(report.getByTestId('figure-banner').locator('dd').first().textContent()).resolves.toBe('0');
    await report
      .getByTestId('figure-banner')
      .getByText(/^0% of users covered/)
      .waitFor();
    await expect(report.getByTestId('report-unknowns').getByText('Users whose pane received the start banner').count()).resolves.toBe(0);
    await expect(report.getByTestId('report-not-final').count()).resolves.toBe(0);
    // Threats on the mail path during the event, from the same verdicts as the detections log.
    const threats = await page.request.get(`${server.url}/api/events/${eventId}/report`).then((r) => r.json());
    const protection = report.getByTestId('report-protection');
    await expect(protection.getByTestId('threat-figure-threats').locator('dd').textContent()).resolves.toBe(String(threats.protection.threats));
    await expect(protection.getByTestId('threat-figure-quarantined').locator('dd').textContent()).resolves.toBe(String(threats.protection.quarantined));
    await protection.getByText(/messages judged on the tenant’s inbound mail path/i).waitFor();
    await shoot(page, 'admin-report');
    await expectAccessible(page);

    // On paper: no header, tabs or buttons.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header').isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Print' }).isVisible()).toBe(false);
    await screenshot(page, 'admin-report-print');
    await page.emulateMedia({ media: 'screen' });

    const [download] = await Promise.all([page.waitForEvent('download'), report.getByTestId('report-csv').click()]);
    expect(download.suggestedFilename()).toBe(`lifeboat-event-report-${eventId}.csv`);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('\uFEFFsection,time (Europe/Berlin),item,value');
    expect(csv).toContain(`event,,description,${OUTAGE}`);
    expect(csv).toMatch(/\r\ntimeline,\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00,End Now,it@contoso\.test/);
    expect(csv).toContain(`figures,,held mail released,${HELD}`);

    // The event's detections one click away: the log opens filtered to the minutes the event covered.
    await report.getByTestId('report-detections-link').click();
    const log = page.getByTestId('detections-card');
    const minute = (iso: string, up: boolean) => new Date((up ? Math.ceil : Math.floor)(Date.parse(iso) / 60_000) * 60_000).toISOString().slice(0, 16);
    await expect(log.getByLabel('From (your local time)').inputValue()).resolves.toBe(minute(threats.event.start, false));
    await expect(log.getByLabel('To (your local time)').inputValue()).resolves.toBe(minute(threats.event.end, true));
    await log.getByText('No detections match these filters.').waitFor();
    await screenshot(page, 'admin-report-detections');
    await page.goBack();
    await report.getByRole('heading', { name: 'Post-incident report' }).waitFor();

    await page.getByRole('button', { name: 'Back to events' }).click();
    await page.getByRole('heading', { name: 'Continuity events' }).waitFor();
    expect(await page.evaluate(() => window.location.hash)).toBe('#events');
  });

  test('report of a running event: marked not final; pending events have no report button', async () => {
    const running = await page.request.post(`${server.url}/api/events`, {
      data: eventBody('Still running', -120_000, { affectedGroupId: 'g-leadership', timeZone: 'America/New_York' }),
    });
    const pending = await page.request.post(`${server.url}/api/events`, {
      data: eventBody('Next weekend', 2 * 86_400_000, { affectedGroupId: 'g-leadership' }),
    });
    expect([running.status(), pending.status()]).toEqual([201, 201]);
    const card = page.getByTestId('event').filter({ hasText: 'Still running' });
    await card.getByTestId('event-status').getByText('Current').waitFor({ timeout: 15_000 });
    await page.getByTestId('event').filter({ hasText: 'Next weekend' }).waitFor();
    expect(await page.getByRole('button', { name: 'Report for Next weekend' }).count()).toBe(0);
    await shoot(page, 'admin-events-report-buttons');

    await card.getByRole('button', { name: 'Report for Still running' }).click();
    const report = page.getByTestId('event-report');
    await report.getByTestId('report-not-final').getByText('This event is still running').waitFor();
    await report
      .getByText(/America\/New_York \(UTC-0[45]:00\)/)
      .first()
      .waitFor();
    await report.getByTestId('report-timeline').locator('[data-kind="started"]').waitFor();
    await shoot(page, 'admin-report-running');
    await expectAccessible(page);
    expect((await page.request.post(`${server.url}/api/events/${(await running.json()).id}/end`)).ok()).toBe(true);
    // Live: the End Now elsewhere makes the report final without a reload.
    await report.getByTestId('report-not-final').waitFor({ state: 'detached', timeout: 15_000 });
    await page.getByRole('button', { name: 'Back to events' }).click();
  });

  test('phone width, read-only admin: mail settings disabled with the reason; the report fits', async () => {
    const res = await page.request.post(`${server.url}/api/admins`, { data: VIEWER });
    expect(res.status()).toBe(201);
    const phone = await browser.newContext({ viewport: PHONE, locale: 'en-US', timezoneId: 'UTC', isMobile: true, hasTouch: true });
    phone.setDefaultTimeout(10_000);
    const p = await phone.newPage();
    await signIn(p, VIEWER);
    await p.getByRole('tab', { name: 'Mail' }).scrollIntoViewIfNeeded();
    await p.getByRole('tab', { name: 'Mail' }).click();
    const form = p.getByTestId('mail-settings');
    await form
      .getByTestId('settings-read-only')
      .getByText(/can view this but not change it/)
      .waitFor();
    await expect(form.getByLabel('Primary server 1 host').isDisabled()).resolves.toBe(true);
    await expect(form.getByLabel('Primary server 1 host').inputValue()).resolves.toBe('127.0.0.1');
    await expect(form.getByRole('button', { name: 'Save mail settings' }).isDisabled()).resolves.toBe(true);
    await expect(form.getByRole('button', { name: 'Add primary server' }).isDisabled()).resolves.toBe(true);
    await p.locator('[data-testid="release"][data-state="done"]').waitFor();
    await screenshot(p, 'admin-phone-mail');
    await expectAccessible(p);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    // A read-only admin PUT is refused by the server too.
    expect((await p.request.put(`${server.url}/api/mail/settings`, { data: { primaryServers: [], relay: null } })).status()).toBe(403);

    await p.goto(`${server.url}/admin#events/report/${eventId}`);
    await p.getByTestId('event-report').getByTestId('report-timeline').waitFor();
    await p.waitForTimeout(300);
    await screenshot(p, 'admin-phone-report');
    await expectAccessible(p);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await phone.close();
  });
});
