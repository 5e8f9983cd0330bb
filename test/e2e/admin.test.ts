/**
 * END TO END: the admin page (/admin) in Chromium against the real server process on a fresh
 * database. An admin signs in, creates an event through the form (first with a start the server
 * refuses, shown beside the field), sees it Pending, clones it to start now, ends the clone with
 * End Now, finds it under "Show all", reads and exports the audit trail and checks readiness.
 * Every page is screenshotted at laptop and phone width and checked with axe-core.
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
import { eventBody } from '../harness/event-fixtures';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

const ADMIN = { email: 'it@contoso.test', password: 'first admin password' };
const VIEWER = { email: 'viewer@contoso.test', password: 'viewer password 2026', role: 'readOnly' };
const LAPTOP = LAPTOP_VIEWPORT;
const PHONE = { width: 390, height: 844 };
const ZONE = 'Europe/Berlin';
const SPF_INCLUDE = 'spf.relay.lifeboat.test';
const SPF_US = 'spf-us.relay.lifeboat.test';
/** Required fields' labels end with an asterisk. */
const START = /^Start ?\*?$/;

/** The wall clock in the event's zone, as the form's datetime-local inputs take it. */
function wallClock(instant: Date, timeZone = ZONE): string {
  const p: Record<string, string> = {};
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  for (const x of f.formatToParts(instant)) p[x.type] = x.value;
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

describe('admin page', () => {
  let server: ServerProcess;
  let dns: DnsStandIn;
  let browser: Browser;
  let page: Page;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-admin-e2e-'));

  async function signIn(p: Page, who: { email: string; password: string }) {
    await signInToAdminPage(p, `${server.url}/admin`, who);
  }

  async function open(p: Page, section: string, heading: string) {
    await p.getByRole('tab', { name: section }).click();
    await p.getByRole('heading', { name: heading, exact: true }).waitFor();
  }

  async function expectAccessible(p: Page) {
    expect(await axeViolations(p)).toEqual([]);
  }

  const eventCard = (p: Page, description: string) => p.getByTestId('event').filter({ hasText: description });

  beforeAll(async () => {
    ensurePaneBuilt();
    // Contoso publishes SPF with the relay's include but no DMARC record.
    dns = await startDnsStandIn({ 'contoso.test': [`v=spf1 include:spf.protection.outlook.com include:${SPF_INCLUDE} -all`] });
    server = await startServer({
      LIFEBOAT_DNS_SERVERS: dns.server,
      LIFEBOAT_SPF_INCLUDE: SPF_INCLUDE,
      LIFEBOAT_SPF_REGIONS: `eu=${SPF_INCLUDE},us=${SPF_US}`,
      LIFEBOAT_ADMIN_EMAIL: ADMIN.email,
      LIFEBOAT_ADMIN_PASSWORD: ADMIN.password,
      LIFEBOAT_DATA_DIR: dataDir,
      MONGODB_URI: `${testDatabaseUri().replace(/\/$/, '')}/e2e_admin_${Date.now()}`,
    });
    browser = await launchBrowser();
    page = await newAdminPage(browser);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await dns?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('serves the page without caching its HTML, and asks for a sign-in', async () => {
    const res = await fetch(`${server.url}/admin`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    await page.goto(`${server.url}/admin`);
    await page.getByTestId('admin-sign-in').waitFor();
    await screenshot(page, 'admin-sign-in');
    await expectAccessible(page);
  });

  test('sign in → the events page, empty', async () => {
    await signIn(page, ADMIN);
    await page.getByTestId('empty').waitFor();
    await page.locator('[data-testid="live"][data-state="live"]').waitFor();
    await screenshot(page, 'admin-events-empty');
    await expectAccessible(page);
  });

  test('new event: a start skipped by the clock change, then one 6 days ago, are refused beside the field; fixed, it is Pending', async () => {
    await page.getByRole('button', { name: 'New continuity event' }).click();
    const form = page.getByTestId('event-form');
    await expect(form.getByTestId('form-status').inputValue()).resolves.toBe('New continuity event');
    await form.getByLabel('Description').fill('Planned Exchange maintenance');
    // A new event ends 4 hours after its start by default; this one is open-ended.
    await form.getByRole('button', { name: 'Eternal (no end)' }).click();
    await form.getByRole('button', { name: 'Look Up affected group' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Search groups by name or address').fill('pilot');
    await dialog.getByRole('button', { name: 'Select Continuity Pilot' }).click();
    await expect(form.getByTestId('affected-group').inputValue()).resolves.toBe('Continuity Pilot');
    await form.getByLabel('Time zone').selectOption(ZONE);
    // 02:30 on 28 March 2027 does not exist in Berlin (clocks go from 02:00 to 03:00).
    await form.getByLabel(START).fill('2027-03-28T02:30');
    await form.getByRole('button', { name: 'Create event' }).click();
    await form.getByText(/Does not exist in Europe\/Berlin/).waitFor();
    await form.getByLabel(START).fill(wallClock(new Date(Date.now() - 6 * 86_400_000)));
    await form.getByLabel('Start message', { exact: true }).fill('Mail goes through Lifeboat tonight.');
    await form.getByText('35 / 250 characters').waitFor();
    await form.getByRole('switch', { name: 'Send SMS to a group' }).check();
    await form.getByLabel('SMS start message').fill('Use Lifeboat for mail');
    await form.getByTestId('sms-preview').getByText('Email Status: Use Lifeboat for mail').waitFor();
    // Where the numbers come from: the tenant's notification setting, shown read-only.
    await form.getByTestId('sms-phone-attribute').getByText('mobilePhone', { exact: true }).waitFor();
    await form.getByTestId('sms-phone-attribute').scrollIntoViewIfNeeded();
    await screenshot(page, 'admin-event-form-sms');
    await page.setViewportSize(PHONE);
    await form.getByTestId('sms-phone-attribute').scrollIntoViewIfNeeded();
    await screenshot(page, 'admin-phone-event-form-sms');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.setViewportSize(LAPTOP);
    await form.getByRole('button', { name: 'Look Up SMS group' }).click();
    await dialog.getByLabel('Search groups by name or address').fill('pilot');
    await dialog.getByRole('button', { name: 'Select Continuity Pilot' }).click();
    await form.getByRole('button', { name: 'Create event' }).click();

    // The server's 422 for `startLocal` appears under the Start field, which is marked invalid.
    await form.getByText('May lie at most 5 days in the past').waitFor();
    await expect(form.getByLabel(START).getAttribute('aria-invalid')).resolves.toBe('true');
    await screenshot(page, 'admin-event-form-error');
    await expectAccessible(page);

    const tomorrow = wallClock(new Date(Date.now() + 86_400_000)).slice(0, 10);
    await form.getByLabel(START).fill(`${tomorrow}T09:30`);
    await form.getByRole('button', { name: 'Create event' }).click();
    const card = eventCard(page, 'Planned Exchange maintenance');
    await card.getByTestId('event-status').getByText('Pending').waitFor();
    await card.getByText(ZONE).waitFor();
    await card.getByText('09:30').waitFor();
    await card.getByText('Eternal (until ended)').waitFor();
    await screenshot(page, 'admin-events-pending');
  });

  test('clone: the affected group must be chosen again; the clone starts now and goes live', async () => {
    // A saved event's form shows the attribute from GET /api/events/:id, i.e. the tenant's current setting.
    expect((await page.request.patch(`${server.url}/api/notify/settings`, { data: { phoneAttribute: 'businessPhones' } })).ok()).toBe(true);
    await page.getByRole('button', { name: 'Clone Planned Exchange maintenance' }).click();
    const form = page.getByTestId('event-form');
    await form.getByTestId('sms-phone-attribute').getByText('businessPhones', { exact: true }).waitFor();
    expect((await page.request.patch(`${server.url}/api/notify/settings`, { data: { phoneAttribute: 'mobilePhone' } })).ok()).toBe(true);
    await expect(form.getByTestId('affected-group').inputValue()).resolves.toBe('');
    await expect(form.getByTestId('form-status').inputValue()).resolves.toBe('New continuity event');
    await form.getByLabel('Description').fill('Outage drill');
    const now = wallClock(new Date());
    await form.getByLabel(START).fill(now);
    // The SMS went out at the start; moving the start moves it along.
    await expect(form.getByLabel('Send the start SMS at (optional)').inputValue()).resolves.toBe(now);
    await form.getByRole('button', { name: 'Create clone' }).click();
    await form.getByText(/Choose the affected group for the clone/).waitFor();
    await screenshot(page, 'admin-clone-form');

    await form.getByRole('button', { name: 'Look Up affected group' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Search groups by name or address').fill('pilot');
    await dialog.getByRole('button', { name: 'Select Continuity Pilot' }).click();
    await form.getByRole('button', { name: 'Create clone' }).click();
    // The scheduler starts it within a second; the socket tells the page, which refetches.
    await eventCard(page, 'Outage drill').getByTestId('event-status').getByText('Current').waitFor({ timeout: 15_000 });
    await screenshot(page, 'admin-events-current');
  });

  test('End Now (confirmed) → gone from the default list, Expired under "Show all"', async () => {
    await page.getByRole('button', { name: 'End Now Outage drill' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('End this event now?').waitFor();
    await page.waitForTimeout(400); // the dialog's fade-in
    await screenshot(page, 'admin-end-now-confirm');
    await dialog.getByRole('button', { name: 'End Now' }).click();
    await eventCard(page, 'Outage drill').waitFor({ state: 'detached' });
    await eventCard(page, 'Planned Exchange maintenance').waitFor();

    await page.getByRole('button', { name: 'Show all events' }).click();
    await eventCard(page, 'Outage drill')
      .getByTestId('event-status')
      .getByText(/Expired/)
      .waitFor();
    await screenshot(page, 'admin-events-all');
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Hide expired events' }).click();
    await eventCard(page, 'Outage drill').waitFor({ state: 'detached' });
  });

  test('live: an event another admin plans for next week appears, and goes when deleted, without a reload', async () => {
    const created = await page.request.post(`${server.url}/api/events`, { data: eventBody('Planned elsewhere', 7 * 86_400_000) });
    expect(created.status()).toBe(201);
    const { id } = await created.json();
    // No transition fires for a pending event: the admin socket's continuity:changed comes from the edit itself.
    await eventCard(page, 'Planned elsewhere').getByTestId('event-status').getByText('Pending').waitFor({ timeout: 20_000 });
    expect((await page.request.delete(`${server.url}/api/events/${id}`)).ok()).toBe(true);
    await eventCard(page, 'Planned elsewhere').waitFor({ state: 'detached', timeout: 20_000 });
  });

  test('live: an event another admin schedules turns Current, then disappears when ended, without a reload', async () => {
    const created = await page.request.post(`${server.url}/api/events`, { data: eventBody('Started elsewhere', 3000) });
    expect(created.status()).toBe(201);
    const { id } = await created.json();
    // The scheduler fires the start; the admin socket's continuity:changed makes the page refetch.
    await eventCard(page, 'Started elsewhere').getByTestId('event-status').getByText('Current').waitFor({ timeout: 20_000 });
    expect((await page.request.post(`${server.url}/api/events/${id}/end`)).ok()).toBe(true);
    await eventCard(page, 'Started elsewhere').waitFor({ state: 'detached', timeout: 20_000 });
  });

  test('audit: entries, a category filter and the CSV download', async () => {
    await open(page, 'Audit', 'Audit trail');
    const table = page.getByTestId('audit-table');
    await table.getByText('security').first().waitFor();
    await page.getByLabel('Category').selectOption('continuity');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await table.getByText('security').first().waitFor({ state: 'detached' });
    await table.getByText('continuity').first().waitFor();
    await screenshot(page, 'admin-audit');
    await expectAccessible(page);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('audit-csv').click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split(/\r?\n/);
    expect(lines.length).toBeGreaterThan(2);
    expect(csv).toMatch(/continuity/);
    expect(csv).not.toMatch(/,security,/);
  });

  test('readiness: passing, failing (DMARC, from the local DNS server) and unknown checks, with how to fix them', async () => {
    // Three users' panes report their Outlook: classic Windows (cached mode unknown), Mac, the web.
    const clients = [
      { id: 'u-ada', email: 'ada@contoso.test', kind: 'classicWindows', cachedMode: 'unknown' },
      { id: 'u-ben', email: 'ben@contoso.test', kind: 'mac', cachedMode: 'always' },
      { id: 'u-chloe', email: 'chloe@contoso.test', kind: 'web', cachedMode: 'notApplicable' },
    ];
    for (const c of clients) {
      const password = `${c.id} cloud password 2026`;
      expect((await page.request.put(`${server.url}/api/users/${c.id}/cloud-password`, { data: { password } })).ok()).toBe(true);
      const login = await (
        await fetch(`${server.url}/api/user-auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: c.email, password }),
        })
      ).json();
      const report = await fetch(`${server.url}/api/me/client`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${login.token}` },
        body: JSON.stringify({ kind: c.kind, hostName: 'Outlook', platform: 'PC', accountType: 'office365', hostVersion: '16.0', cachedMode: c.cachedMode }),
      });
      expect(report.status).toBe(204);
    }
    await open(page, 'Readiness', 'Readiness');
    await page.locator('[data-check="admins"][data-status="pass"]').waitFor();
    await page.locator('[data-check="census"][data-status="warn"]').getByTestId('census-chart').locator('.recharts-bar-rectangle').first().waitFor();
    await page.locator('[data-check="drill"][data-status="pass"]').waitFor();
    await page.locator('[data-check="graph"][data-status="unknown"]').getByText('How to fix').waitFor();
    await page.locator('[data-check="spf-contoso.test"][data-status="pass"]').waitFor();
    await page.locator('[data-check="dmarc-contoso.test"][data-status="fail"]').getByText('_dmarc.contoso.test').waitFor();
    // No monitor yet (the monitor section below starts empty): nobody would be alerted.
    await page.locator('[data-check="alerts"][data-status="fail"]').getByText('No continuity monitor is configured').waitFor();
    // Three of the directory's users got a cloud password above; nobody has opted in to SMS yet.
    await page
      .locator('[data-check="cloud-passwords"][data-status="warn"]')
      .getByText(/\(3 of \d+ users\)/)
      .waitFor();
    await page.locator('[data-check="sms-opt-in"][data-status="fail"]').waitFor();
    // Lifeboat's signing key is not published yet: the exact record to publish, and the ARC trust line.
    await page.locator('[data-check="signing-contoso.test"][data-status="fail"]').getByText('lifeboat1._domainkey.contoso.test: "v=DKIM1; k=rsa; p=').waitFor();
    await page.locator('[data-check="arc-trust"]').getByText('Set-ArcConfig -Identity Default -ArcTrustedSealers contoso.test').waitFor();
    await screenshot(page, 'admin-readiness');
    await expectAccessible(page);

    // The Exchange Online set-up row: SPF verified by DNS, no probe mail yet for the ARC seal, what only
    // Exchange knows with its Get- command; routed through Lifeboat, the MX (not Lifeboat's here) is not verified.
    const exchange = page.getByTestId('exchange-readiness');
    await exchange.locator('[data-check="spf"][data-state="verified"]').waitFor();
    await exchange
      .locator('[data-check="arc"][data-state="notVerified"]')
      .getByText(/No inbound probe message/)
      .waitFor();
    await exchange
      .locator('[data-check="enhancedFiltering"][data-state="cannotVerify"]')
      .getByText(/Get-InboundConnector/)
      .waitFor();
    await exchange.getByRole('checkbox', { name: 'Inbound mail is routed through Lifeboat' }).check();
    await exchange.getByRole('button', { name: 'Check again' }).click();
    await exchange.locator('[data-check="mx"][data-state="notVerified"]').waitFor();
    await exchange
      .locator('[data-check="ruleOrder"][data-state="cannotVerify"]')
      .getByText(/Get-TransportRule/)
      .waitFor();
    await exchange.scrollIntoViewIfNeeded();
    await screenshot(page, 'admin-readiness-exchange');
    await expectAccessible(page);
    await page.setViewportSize({ width: 360, height: 800 });
    await page.waitForTimeout(300);
    await exchange.scrollIntoViewIfNeeded();
    await screenshot(page, 'admin-readiness-exchange-phone');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await expectAccessible(page);
    await page.setViewportSize(LAPTOP);

    // The region picker next to the SPF checks: the US relay is not in contoso.test's record, so SPF fails;
    // back to the EU relay (the record carries it), it passes again.
    const region = page.getByTestId('spf-region');
    await region.getByText(`SPF records must include ${SPF_INCLUDE} (from the server default`).waitFor();
    await region.getByLabel('Region', { exact: true }).selectOption('us');
    await region.getByRole('button', { name: 'Save region' }).click();
    await region.getByText(`SPF records must include ${SPF_US} (from region us)`).waitFor();
    await page.locator('[data-check="spf-contoso.test"][data-status="fail"]').getByText(`include:${SPF_US}`).waitFor();
    await screenshot(page, 'admin-readiness-spf-region');
    await expectAccessible(page);
    await region.getByLabel('Region', { exact: true }).selectOption('eu');
    await region.getByRole('button', { name: 'Save region' }).click();
    await page.locator('[data-check="spf-contoso.test"][data-status="pass"]').waitFor();
    await region.getByText(`SPF records must include ${SPF_INCLUDE} (from region eu)`).waitFor();
  });

  test('directory, monitor and mail pages', async () => {
    await open(page, 'Directory', 'Directory');
    await page.getByTestId('connection-state').getByText('Not connected').waitFor();
    await page.locator('[data-testid="sync-status"][data-state="idle"]').waitFor();
    await page.getByRole('list', { name: 'Users' }).getByText('Ada Park').waitFor();
    await screenshot(page, 'admin-directory');
    await expectAccessible(page);

    await page.getByRole('button', { name: 'Set cloud password for Ada Park' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('New cloud password').fill('short');
    await dialog.getByRole('button', { name: 'Set password' }).click();
    await dialog
      .getByText(/12 characters/)
      .first()
      .waitFor();
    await dialog.getByLabel('New cloud password').fill('Ada cloud password 2026!');
    await dialog.getByRole('button', { name: 'Set password' }).click();
    await page.getByText("Ada Park's cloud password is set.", { exact: false }).waitFor();

    // SMS consent in the users card: Ada opts in (recorded here through the admin API), Ben has not.
    const users = page.getByRole('list', { name: 'Users' });
    const userItem = (name: string) => users.getByRole('listitem').filter({ hasText: name });
    await userItem('Ben Okafor').getByTestId('sms-consent').getByText('SMS: not opted in').waitFor();
    const consent = await page.request.put(`${server.url}/api/notify/consents/u-ada`, { data: { optedIn: true } });
    expect(consent.status()).toBe(200);
    await page.getByLabel('Search users by name or address').fill('a');
    await userItem('Ada Park').locator('[data-testid="sms-consent"][data-state="opted-in"]').getByText('SMS: opted in (+155501000)').waitFor();
    await userItem('Ben Okafor').locator('[data-testid="sms-consent"][data-state="opted-out"]').waitFor();
    await userItem('Nia Mensah').locator('[data-testid="sms-consent"][data-state="no-phone"]').getByText('SMS: no mobile number').waitFor();
    await screenshot(page, 'admin-directory-sms-consent');
    await expectAccessible(page);
    await page.getByLabel('Search users by name or address').fill('');

    // The monitor section: no monitor yet, so it says what a monitor does.
    await open(page, 'Monitor', 'Continuity monitor');
    await page
      .getByTestId('empty')
      .getByText(/No monitor yet/)
      .waitFor();
    await screenshot(page, 'admin-monitor-empty');
    await expectAccessible(page);
    // The Mail section is covered in admin-mail-report.test.ts.
    await open(page, 'Mail', 'Mail');
    await page.getByTestId('mail-settings').waitFor();
  });

  test('phone width, read-only admin: everything visible, controls disabled with the reason', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('admin-sign-in').waitFor();
    const res = await page.request.post(`${server.url}/api/auth/login`, { data: ADMIN });
    expect(res.ok()).toBe(true);
    const created = await page.request.post(`${server.url}/api/admins`, { data: VIEWER });
    expect(created.status()).toBe(201);

    const phone = await browser.newContext({ viewport: PHONE, locale: 'en-US', timezoneId: 'UTC', isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await signIn(p, VIEWER);
    await p.getByTestId('read-only').waitFor();
    const create = p.getByRole('button', { name: 'New continuity event' });
    await expect(create.getAttribute('aria-disabled')).resolves.toBe('true');
    await eventCard(p, 'Planned Exchange maintenance').waitFor();
    await expect(p.getByRole('button', { name: 'Clone Planned Exchange maintenance' }).getAttribute('aria-disabled')).resolves.toBe('true');
    await create.focus();
    await p
      .getByRole('tooltip')
      .getByText(/can view this but not change it/)
      .waitFor();
    await screenshot(p, 'admin-phone-events');
    await expectAccessible(p);
    // The page never scrolls sideways on a phone.
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    for (const [section, heading] of [
      ['Readiness', 'Readiness'],
      ['Directory', 'Directory'],
      ['Audit', 'Audit trail'],
      ['Monitor', 'Continuity monitor'],
    ]) {
      await p.getByRole('tab', { name: section }).scrollIntoViewIfNeeded();
      await open(p, section, heading);
      await p.waitForTimeout(300);
      await screenshot(p, `admin-phone-${section.toLowerCase()}`);
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    }
    await expect(p.getByRole('button', { name: 'New monitor' }).getAttribute('aria-disabled')).resolves.toBe('true');
    // The readiness region picker: visible, disabled, with the reason.
    await open(p, 'Readiness', 'Readiness');
    const picker = p.getByTestId('spf-region');
    await picker.getByText(/can view this but not change it/).waitFor();
    expect(await picker.getByLabel('Region', { exact: true }).isDisabled()).toBe(true);
    expect(await picker.getByRole('button', { name: 'Save region' }).isDisabled()).toBe(true);
    await picker.scrollIntoViewIfNeeded();
    await screenshot(p, 'admin-phone-readiness-spf-region');
    // The session ends elsewhere: the next request brings the sign-in form back, saying why.
    expect((await p.request.post(`${server.url}/api/auth/logout`)).status()).toBe(204);
    await p.getByRole('tab', { name: 'Events' }).click();
    await p.getByTestId('admin-sign-in').getByText('Your session has ended').waitFor();
    await phone.close();
  });
});
