/**
 * END TO END: the admin page during a pretend outage (issue 19), in Chromium at laptop and phone width
 * against the real server: the event form's default end in words, the error summary that takes focus
 * and links to each field (a fixed field loses its stale error), the SMS audience warning before
 * saving, clones marked until edited, the affected group named in End Now and "has ended" and in the
 * audit trail, status colours, the section tabs all on screen at phone width, and the Mail page's
 * list of undelivered mail with Release for one held message and Retry now.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { axeViolations } from '../harness/axe';
import { LAPTOP_VIEWPORT, launchBrowser, newAdminPage, screenshot, signInToAdminPage } from '../harness/browser';
import { testDatabaseUri } from '../harness/context';
import { ensurePaneBuilt } from '../harness/pane-build';
import { startServer, type ServerProcess } from '../harness/server-process';
import { sendOne, simpleMessage } from '../harness/smtp-peers';
import { eventBody } from '../harness/event-fixtures';

const ADMIN = { email: 'it@contoso.test', password: 'first admin password' };
const PHONE = { width: 390, height: 844 };

describe('admin page in an outage', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-admin-outage-e2e-'));
  const eventCard = (description: string) => page.getByTestId('event').filter({ hasText: description });

  async function pickGroup(button: string) {
    const form = page.getByTestId('event-form');
    await form.getByRole('button', { name: button }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Search groups by name or address').fill('pilot');
    await dialog.getByRole('button', { name: 'Select Continuity Pilot' }).click();
    await dialog.waitFor({ state: 'detached' });
  }

  /** A screenshot at laptop width, then at phone width (the page must not widen past the phone). */
  async function both(name: string) {
    await screenshot(page, `${name}-laptop`);
    await page.setViewportSize(PHONE);
    await screenshot(page, `${name}-phone`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.setViewportSize(LAPTOP_VIEWPORT);
  }

  beforeAll(async () => {
    ensurePaneBuilt();
    server = await startServer({
      LIFEBOAT_ADMIN_EMAIL: ADMIN.email,
      LIFEBOAT_ADMIN_PASSWORD: ADMIN.password,
      LIFEBOAT_DATA_DIR: dataDir,
      MONGODB_URI: `${testDatabaseUri().replace(/\/$/, '')}/e2e_outage_${Date.now()}`,
    });
    browser = await launchBrowser();
    page = await newAdminPage(browser);
    await signInToAdminPage(page, `${server.url}/admin`, ADMIN);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('phone width: every section tab is on screen', async () => {
    await page.setViewportSize(PHONE);
    for (const name of ['Events', 'Readiness', 'Directory', 'Audit', 'Monitor', 'Mail', 'Notifications']) {
      const box = await page.getByRole('tab', { name }).boundingBox();
      expect(box).not.toBeNull();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    }
    await screenshot(page, 'outage-tabs-phone');
    await page.setViewportSize(LAPTOP_VIEWPORT);
  });

  test('a new event ends 4 hours after its start by default, said in words; Eternal is one click away', async () => {
    await page.getByRole('button', { name: 'New continuity event' }).click();
    const form = page.getByTestId('event-form');
    await form
      .getByTestId('end-choice')
      .getByText(/4 hours after the start/)
      .waitFor();
    await form.getByRole('button', { name: 'Eternal (no end)' }).click();
    await form
      .getByTestId('end-choice')
      .getByText(/^Eternal: no end is set/)
      .waitFor();
    await form.getByRole('button', { name: 'Eternal (no end)' }).click();
    await form
      .getByTestId('end-choice')
      .getByText(/4 hours after the start/)
      .waitFor();
    await form.getByTestId('end-choice').scrollIntoViewIfNeeded();
    await both('outage-event-form-default-end');
  });

  test('a refused Create moves focus to a summary linking each field; fixing a field clears its error', async () => {
    const form = page.getByTestId('event-form');
    await form.getByRole('button', { name: 'Create event' }).click();
    const summary = page.getByTestId('error-summary');
    await summary.waitFor();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('error-summary');
    await summary.getByRole('button', { name: 'Description' }).waitFor();
    await summary.getByRole('button', { name: 'Affected group' }).waitFor();
    const groupError = form.locator('[data-field="affectedGroupId"]').getByText('Is required');
    await groupError.waitFor();
    await both('outage-event-form-summary');
    expect(await axeViolations(page)).toEqual([]);
    // The link takes the keyboard to the field (its Look Up button: the name box is read-only).
    await summary.getByRole('button', { name: 'Affected group' }).click();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Look Up affected group');
    await pickGroup('Look Up affected group');
    await groupError.waitFor({ state: 'detached' });
    await summary.getByRole('button', { name: 'Affected group' }).waitFor({ state: 'detached' });
  });

  test('Send SMS to a group warns before saving: channel missing, N of M opted in with a number', async () => {
    const form = page.getByTestId('event-form');
    await form.getByRole('switch', { name: 'Send SMS to a group' }).check();
    await pickGroup('Look Up SMS group');
    const warning = form.getByTestId('sms-audience');
    await warning.getByText(/0 of \d+ member\(s\) opted in with a number/).waitFor();
    await warning.getByText(/The SMS channel is not configured/).waitFor();
    await warning.scrollIntoViewIfNeeded();
    await both('outage-event-form-sms-audience');
  });

  test('the event goes live; End Now and "has ended" name the group; the audit trail does too', async () => {
    const form = page.getByTestId('event-form');
    await form.getByLabel('Description').fill('Exchange Online outage');
    // The last stale error goes with the fix, and the summary with it.
    await form.getByText('Is required').waitFor({ state: 'detached' });
    await page.getByTestId('error-summary').waitFor({ state: 'detached' });
    await form.getByLabel('SMS start message').fill('Use Lifeboat for mail');
    await form.getByRole('button', { name: 'Create event' }).click();
    const card = eventCard('Exchange Online outage');
    await card.getByTestId('event-status').getByText('Current').waitFor({ timeout: 15_000 });
    // Its SMS run is on the card: nothing went out, and why.
    await card
      .getByTestId('sms-runs')
      .getByText(/Start SMS:/)
      .waitFor({ timeout: 15_000 });
    await both('outage-events-current');
    expect(await axeViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'End Now Exchange Online outage' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('“Exchange Online outage” (group Continuity Pilot) ends now').waitFor();
    await page.waitForTimeout(400); // the dialog's fade-in, for the screenshot only
    await both('outage-end-now-confirm');
    await dialog.getByRole('button', { name: 'End Now' }).click();
    await page.getByText('“Exchange Online outage” (group Continuity Pilot) has ended.').waitFor();

    const audit = await (await page.request.get(`${server.url}/api/audit?category=continuity`)).json();
    const labels = (audit.items as { action: string; target: { label: string } }[]).map((x) => `${x.action} ${x.target.label}`);
    expect(labels).toContain('event.ended Exchange Online outage (group: Continuity Pilot)');
    expect(labels).toContain('event.created Exchange Online outage (group: Continuity Pilot)');
  });

  test('a clone is marked as a copy until its description is edited; expired is grey, newest first', async () => {
    await page.getByRole('button', { name: 'Show all events' }).click();
    await eventCard('Exchange Online outage')
      .getByTestId('event-status')
      .getByText(/Expired/)
      .waitFor();
    await page.getByRole('button', { name: 'Clone Exchange Online outage' }).click();
    const form = page.getByTestId('event-form');
    await form.getByTestId('copy-badge').getByText('Copy of “Exchange Online outage”', { exact: false }).waitFor();
    await both('outage-clone-marked');
    await form.getByLabel('Description').fill('Exchange Online outage, second wave');
    await form.getByTestId('copy-badge').waitFor({ state: 'detached' });
    await form.getByRole('button', { name: 'Cancel' }).click();
    const status = eventCard('Exchange Online outage').getByTestId('event-status');
    await status.getByText(/Expired/).waitFor();
    await both('outage-events-expired');
  });

  test('a live update of the old list that answers after Show all does not put the old list back', async () => {
    await page.getByRole('tab', { name: 'Events' }).click();
    await page.getByRole('button', { name: 'Hide expired events' }).click();
    await page.getByText('No current or pending continuity events.', { exact: false }).waitFor();
    // Hold the current-only list's next answer, as a slow server would.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let heldOne!: () => void;
    const holding = new Promise<void>((resolve) => (heldOne = resolve));
    await page.route(
      (url) => url.pathname === '/api/events' && url.search === '',
      async (route) => {
        heldOne();
        await held;
        await route.continue();
      },
    );
    // Any continuity change makes the page reload its list (live update): a pending event is one.
    const created = await page.request.post(`${server.url}/api/events`, { data: eventBody('Planned failover drill', 86_400_000) });
    expect(created.status()).toBe(201);
    await holding;
    await page.getByRole('button', { name: 'Show all events' }).click();
    const expired = eventCard('Exchange Online outage')
      .getByTestId('event-status')
      .getByText(/Expired/);
    await expired.waitFor();
    const late = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/events' && new URL(r.url()).search === '');
    release();
    await late;
    await page.unrouteAll({ behavior: 'wait' });
    // The late answer has been read and rendered (two frames later): the list is still the one the button names.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    expect(await expired.isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Hide expired events' }).waitFor();
    const id = ((await created.json()) as { id: string }).id;
    expect((await page.request.delete(`${server.url}/api/events/${id}`)).status()).toBe(204);
  });

  test('Mail lists held mail (recipient, sender, subject) with filters; Release one, then Retry now', async () => {
    const smtpPort = Number(/Lifeboat SMTP receiver on port (\d+)/.exec(server.stdout())?.[1]);
    const created = await page.request.post(`${server.url}/api/events`, { data: eventBody('Paused inbound', -60_000, { pauseInboundDelivery: true }) });
    expect(created.status()).toBe(201);
    // The list is open (and empty) before the mail arrives, is judged (protection, Protect) and held:
    // it refreshes itself, with nothing pressed.
    await page.getByRole('tab', { name: 'Mail' }).click();
    await page.getByRole('heading', { name: 'Mail', exact: true }).waitFor();
    await page.getByLabel('State').selectOption('held');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No queued, deferred, held or failed mail matches.').waitFor();
    const from = 'partner@fabrikam.example';
    for (const subject of ['Order 1', 'Order 2']) {
      await sendOne(smtpPort, { from, to: ['ada@contoso.test'], message: simpleMessage({ from, to: 'ada@contoso.test', subject }) });
    }
    const rows = page.getByTestId('mail-queue-row');
    await rows.filter({ hasText: 'Order 2' }).waitFor({ timeout: 120_000 });
    expect(await rows.count()).toBe(2);
    await rows.first().getByText(from).waitFor();
    await page.getByTestId('mail-queue').scrollIntoViewIfNeeded();
    await both('outage-mail-queue-held');
    expect(await axeViolations(page)).toEqual([]);

    await rows.filter({ hasText: 'Order 1' }).getByRole('button', { name: 'Release ada@contoso.test' }).click();
    await page.getByTestId('queue-notice').getByText('Released the held message to ada@contoso.test.').waitFor();
    await rows.filter({ hasText: 'Order 1' }).waitFor({ state: 'detached' });
    expect(await rows.count()).toBe(1);
    // No primary server is set, so the released message waits in the queue: Retry now is offered there.
    await page.getByLabel('State').selectOption('');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const released = rows.filter({ hasText: 'Order 1' });
    await released.getByRole('button', { name: 'Retry now ada@contoso.test' }).click();
    await page.getByTestId('queue-notice').getByText('Retrying the message to ada@contoso.test now.').waitFor();
    await both('outage-mail-queue-all');
  }, 150_000);

  test('Monitor form: per-direction thresholds (empty: shared), its own Allow Cloud Password Reset, the zone list', async () => {
    await page.getByRole('tab', { name: 'Monitor' }).click();
    await page.getByRole('button', { name: 'New monitor' }).click();
    const editor = page.getByTestId('monitor-form');
    await editor.getByLabel('Name').fill('Night watch');
    await editor.getByLabel('Probe mailbox (UPN or object id)').fill('probe@contoso.test');
    await editor.getByLabel('Outbound latency threshold (seconds)').fill('90');
    await editor.getByLabel('Inbound failure threshold (windows)').fill('5');
    await editor.getByLabel('Allow Cloud Password Reset').selectOption('sms');
    await editor.getByLabel('Time zone').selectOption('Europe/Berlin');
    await editor.getByLabel('Enabled').uncheck();
    await editor.getByLabel('Allow Cloud Password Reset').scrollIntoViewIfNeeded();
    await both('outage-monitor-form');
    await editor.getByRole('button', { name: 'Save monitor' }).click();
    await editor.waitFor({ state: 'detached' });
    const all = (await (await page.request.get(`${server.url}/api/monitors`)).json()) as Record<string, unknown>[];
    expect(all.find((m) => m.name === 'Night watch')).toMatchObject({
      timeZone: 'Europe/Berlin',
      cloudPasswordReset: 'sms',
      outbound: { enabled: true, latencyThresholdSeconds: 90, failureThreshold: null },
      inbound: { enabled: true, latencyThresholdSeconds: null, failureThreshold: 5 },
    });
  });
});
