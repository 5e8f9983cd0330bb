/**
 * END TO END: the admin page an IT admin needs at 3 a.m. (issue 19), in Chromium at laptop and 360 px
 * phone width against the real server: the spreadsheet import of cloud passwords (dry run with every
 * row's number and result, apply, the one-time download), Generate and Copy in the set-password
 * dialog, the monitor form's Look Up and inline validation (the server's 422 on the field), narrow
 * tables stacked on a phone, the event form in the URL (reload and Back keep a half-filled form),
 * Start now on a pending event, an edit refused when another admin saved first, readiness fixes that name real controls, and the reset page's hint
 * for a signed-in admin when self-service reset is off.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { axeViolations } from '../harness/axe';
import { ARTIFACTS, LAPTOP_VIEWPORT, launchBrowser, newAdminPage, screenshot, signInToAdminPage } from '../harness/browser';
import { testDatabaseUri } from '../harness/context';
import { ensurePaneBuilt } from '../harness/pane-build';
import { startServer, type ServerProcess } from '../harness/server-process';
import { eventBody } from '../harness/event-fixtures';

const ADMIN = { email: 'it@contoso.test', password: 'first admin password' };
const PHONE = { width: 360, height: 740 };
const HOUR = 3_600_000;

const CSV = [
  'email,password',
  'ada@contoso.test,ada imported password',
  'ben@contoso.test,generate',
  'ghost@contoso.test,some long password here',
  'dev@contoso.test,short',
  'ADA@contoso.test,another long password',
].join('\r\n');

describe('admin page at 3 a.m.', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-admin-3am-e2e-'));

  /** A screenshot at laptop width, then at 360 px (the page must not widen past the phone). */
  async function both(name: string) {
    await screenshot(page, `${name}-laptop`);
    await page.setViewportSize(PHONE);
    await screenshot(page, `${name}-phone`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.setViewportSize(LAPTOP_VIEWPORT);
  }

  /** A user's cloud-password sign-in (retried once when an idle keep-alive socket was closed under it). */
  async function userLogin(email: string, password: string): Promise<number> {
    const post = () => page.request.post(`${server.url}/api/user-auth/login`, { data: { email, password } });
    const res = await post().catch((err: Error) => (/ECONNRESET|socket hang up/.test(err.message) ? post() : Promise.reject(err)));
    return res.status();
  }

  async function section(name: string, heading: string) {
    await page.getByRole('tab', { name }).click();
    await page.getByRole('heading', { name: heading, exact: true }).waitFor();
  }

  beforeAll(async () => {
    ensurePaneBuilt();
    server = await startServer({
      LIFEBOAT_ADMIN_EMAIL: ADMIN.email,
      LIFEBOAT_ADMIN_PASSWORD: ADMIN.password,
      LIFEBOAT_DATA_DIR: dataDir,
      MONGODB_URI: `${testDatabaseUri().replace(/\/$/, '')}/e2e_3am_${Date.now()}`,
    });
    browser = await launchBrowser();
    page = await newAdminPage(browser);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await signInToAdminPage(page, `${server.url}/admin`, ADMIN);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('import: a dry run lists every row with its number and result, and changes nothing', async () => {
    await section('Directory', 'Directory');
    const card = page.getByTestId('password-import');
    await card.getByLabel('Spreadsheet (CSV or XLSX)').setInputFiles({ name: 'passwords.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await card.getByRole('button', { name: 'Check the file (dry run)' }).click();
    await card.getByTestId('import-summary').getByText('Dry run: nothing has changed').waitFor();
    const rows = card.getByTestId('import-row');
    expect(await rows.count()).toBe(5);
    const seen = await rows.evaluateAll((trs) =>
      trs.map((tr) => [tr.querySelector('td')!.textContent, tr.querySelector('[data-outcome]')!.getAttribute('data-outcome')]),
    );
    expect(seen).toEqual([
      ['2', 'set'],
      ['3', 'generate'],
      ['4', 'unknownUser'],
      ['5', 'weakPassword'],
      ['6', 'duplicate'],
    ]);
    await rows.filter({ hasText: 'same user as row 2' }).waitFor();
    await card.scrollIntoViewIfNeeded();
    await both('3am-import-dry-run');
    expect(await axeViolations(page)).toEqual([]);
    const users = (await (await page.request.get(`${server.url}/api/directory/users?include=cloudPassword&search=ada`)).json()) as {
      cloudPasswordSetAt: string | null;
    }[];
    expect(users[0]!.cloudPasswordSetAt).toBeNull();
  });

  test('import: Apply sets the good rows; the generated passwords download once; Users shows who has one', async () => {
    const card = page.getByTestId('password-import');
    await card.getByRole('button', { name: 'Apply: set 2 passwords' }).click();
    await card.getByTestId('import-summary').getByText('Applied').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), card.getByTestId('generated-download').click()]);
    const file = readFileSync((await download.path())!, 'utf8').replace(/^\uFEFF/, '');
    const lines = file.trim().split('\r\n');
    expect(lines[0]).toBe('email,password');
    expect(lines).toHaveLength(2);
    const [email, generated] = lines[1]!.split(',');
    expect(email).toBe('ben@contoso.test');
    expect(generated!.length).toBeGreaterThanOrEqual(12);
    await card.getByTestId('generated-downloaded').waitFor();
    expect(await card.getByTestId('generated-download').count()).toBe(0);
    const link = download.url();
    expect((await page.request.get(link)).status()).toBe(404); // once
    expect(await userLogin('ben@contoso.test', generated!)).toBe(200);
    // The users list reloaded: Ada and Ben have a cloud password now, with the time it was set.
    const users = page.getByRole('list', { name: 'Users' });
    await users
      .getByRole('listitem')
      .filter({ hasText: 'Ada Park' })
      .getByText(/^Cloud password set /)
      .waitFor();
    await users
      .getByRole('listitem')
      .filter({ hasText: 'Ben Okafor' })
      .getByText(/^Cloud password set /)
      .waitFor();
    await card.scrollIntoViewIfNeeded();
    await both('3am-import-applied');
    // The card alone at phone width: its results table stacked row by row.
    await page.setViewportSize(PHONE);
    await card.screenshot({ path: path.join(ARTIFACTS, '3am-import-card-phone.png') });
    await page.setViewportSize(LAPTOP_VIEWPORT);
  });

  test('the set-password dialog generates a password and copies it', async () => {
    await page.getByLabel('Search users by name or address').fill('chlo');
    await page.getByRole('button', { name: 'Set cloud password for Chloé Martin' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Generate a password' }).click();
    const input = dialog.getByTestId('cloud-password-input');
    const value = await input.inputValue();
    expect(value).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(await input.getAttribute('type')).toBe('text');
    await dialog.getByRole('button', { name: 'Copy' }).click();
    await dialog.getByTestId('copy-status').getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);
    await page.waitForTimeout(400); // the dialog's fade-in, for the screenshot only
    await both('3am-set-password-generated');
    expect(await axeViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Set password' }).click();
    await page.getByText("Chloé Martin's cloud password is set.", { exact: false }).waitFor();
    expect(await userLogin('chloe@contoso.test', value)).toBe(200);
  });

  test('monitor form: inline validation (the server’s 422 on its field), Look Up for the group, the zone list', async () => {
    await section('Monitor', 'Continuity monitor');
    await page.getByRole('button', { name: 'New monitor' }).click();
    const editor = page.getByTestId('monitor-form');
    expect(await editor.evaluate((f) => (f as HTMLFormElement).noValidate)).toBe(true);
    await editor.getByLabel('Window (minutes)').fill('');
    await editor.getByRole('button', { name: 'Save monitor' }).click();
    const summary = editor.getByTestId('error-summary');
    await summary.waitFor();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('error-summary');
    await summary.getByRole('button', { name: 'Name' }).waitFor();
    await editor.locator('[data-field="name"]').getByText('Is required').waitFor();
    await editor.locator('[data-field="windowMinutes"]').getByText('Must be a number').waitFor();
    await both('3am-monitor-form-local-errors');
    expect(await axeViolations(page)).toEqual([]);

    // Fixed fields lose their errors; what only the server knows comes back on the field.
    await editor.getByLabel('Name').fill('Night watch');
    await editor.locator('[data-field="name"]').getByText('Is required').waitFor({ state: 'detached' });
    await editor.getByLabel('Window (minutes)').fill('0');
    await editor.getByLabel('Probe mailbox (UPN or object id)').fill('probe@contoso.test');
    await editor.getByRole('button', { name: 'Save monitor' }).click();
    await summary.getByRole('button', { name: 'Window' }).waitFor();
    const windowError = editor.locator('[data-field="windowMinutes"]').locator('.fui-Field__validationMessage');
    await windowError.waitFor();
    expect(await windowError.textContent()).toMatch(/1/);
    await summary.getByRole('button', { name: 'Window' }).click();
    expect(await page.evaluate(() => document.activeElement?.closest('[data-field]')?.getAttribute('data-field'))).toBe('windowMinutes');
    await both('3am-monitor-form-server-error');

    await editor.getByLabel('Window (minutes)').fill('2');
    await editor.getByRole('button', { name: 'Look Up default affected group' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Search groups by name or address').fill('pilot');
    await dialog.getByRole('button', { name: 'Select Continuity Pilot' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await editor.getByTestId('monitor-default-group').inputValue()).toBe('Continuity Pilot');
    await editor.getByLabel('Time zone').selectOption('Europe/Berlin');
    await editor.getByTestId('monitor-default-group').scrollIntoViewIfNeeded();
    await both('3am-monitor-form-group');
    await editor.getByRole('button', { name: 'Save monitor' }).click();
    await editor.waitFor({ state: 'detached' });
    const all = (await (await page.request.get(`${server.url}/api/monitors`)).json()) as Record<string, unknown>[];
    expect(all.find((m) => m.name === 'Night watch')).toMatchObject({ defaultGroupId: 'g-continuity-pilot', timeZone: 'Europe/Berlin', windowMinutes: 2 });
  });

  test('phone width: the audit table stacks its rows so no column is clipped', async () => {
    await section('Audit', 'Audit trail');
    const table = page.getByTestId('audit-table');
    await table.locator('tbody tr').first().waitFor();
    await both('3am-audit');
    await page.setViewportSize(PHONE);
    const cells = await table.locator('tbody tr').first().locator('td').all();
    expect(cells).toHaveLength(5);
    for (const cell of cells) {
      const box = (await cell.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    }
    // Each cell says which column it is.
    const label = await cells[2]!.evaluate((td) => getComputedStyle(td, '::before').content);
    expect(label).toBe('"Action"');
    expect(await axeViolations(page)).toEqual([]);
    await page.setViewportSize(LAPTOP_VIEWPORT);
  });

  test('the event form is in the URL: reload and Back keep a half-filled form; Cancel forgets it', async () => {
    await section('Events', 'Continuity events');
    await page.getByRole('button', { name: 'New continuity event' }).click();
    const form = page.getByTestId('event-form');
    await form.waitFor();
    expect(new URL(page.url()).hash).toBe('#events/new');
    await form.getByLabel('Description').fill('Half-filled at 3 a.m.');
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.type());
      void d.accept();
    });
    await page.reload();
    // Leaving the page asked first; the form came back with what was typed.
    expect(dialogs).toContain('beforeunload');
    await form.getByTestId('draft-restored').waitFor();
    expect(await form.getByLabel('Description').inputValue()).toBe('Half-filled at 3 a.m.');
    await both('3am-event-form-restored');
    expect(await axeViolations(page)).toEqual([]);

    await page.goBack();
    await page.getByRole('heading', { name: 'Continuity events' }).waitFor();
    await form.waitFor({ state: 'detached' });
    await page.goForward();
    await form.waitFor();
    expect(await form.getByLabel('Description').inputValue()).toBe('Half-filled at 3 a.m.');
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'detached' });
    expect(new URL(page.url()).hash).toBe('#events');
    await page.getByRole('button', { name: 'New continuity event' }).click();
    expect(await form.getByLabel('Description').inputValue()).toBe('');
    expect(await form.getByTestId('draft-restored').count()).toBe(0);
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'detached' });
    // A cancelled form's history entry became the list: Back does not reopen it.
    await page.goBack();
    await page.getByRole('heading', { name: 'Continuity events' }).waitFor();
    expect(await form.count()).toBe(0);
  });

  test('Start now on a pending event, confirmed with its group named', async () => {
    const created = await page.request.post(`${server.url}/api/events`, {
      data: eventBody('Planned cut-over', 2 * HOUR, { end: new Date(Date.now() + 6 * HOUR).toISOString() }),
    });
    expect(created.status()).toBe(201);
    const planned = await created.json();
    await page.reload();
    const card = page.getByTestId('event').filter({ hasText: 'Planned cut-over' });
    await card.getByTestId('event-status').getByText('Pending').waitFor();
    await page.getByRole('button', { name: 'Start now Planned cut-over' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/“Planned cut-over” \(group Continuity Pilot\) starts now/).waitFor();
    await page.waitForTimeout(400); // the dialog's fade-in, for the screenshot only
    await both('3am-start-now-confirm');
    await dialog.getByRole('button', { name: 'Start now' }).click();
    await page.getByText('“Planned cut-over” (group Continuity Pilot) has started.').waitFor();
    await card.getByTestId('event-status').getByText('Current').waitFor();
    await both('3am-start-now-current');
    const event = await (await page.request.get(`${server.url}/api/events/${planned.id}`)).json();
    expect(event).toMatchObject({ status: 'current', end: planned.end });
  });

  test('an edit saved over a change another admin made meanwhile is refused, and says so', async () => {
    const created = await page.request.post(`${server.url}/api/events`, { data: eventBody('Edited twice', 3 * HOUR) });
    expect(created.status()).toBe(201);
    const planned = await created.json();
    await page.reload();
    await page.getByRole('button', { name: 'Edit Edited twice' }).click();
    const form = page.getByTestId('event-form');
    await form.getByLabel(/Notes/).fill('Mine');
    // Another admin saves first, from the same version.
    const theirs = await page.request.patch(`${server.url}/api/events/${planned.id}`, { data: { notes: 'Theirs', updatedAt: planned.updatedAt } });
    expect(theirs.status()).toBe(200);
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page
      .getByTestId('error-summary')
      .getByText(/changed by someone else since you opened it/)
      .waitFor();
    await both('3am-event-edit-conflict');
    expect(await axeViolations(page)).toEqual([]);
    expect((await (await page.request.get(`${server.url}/api/events/${planned.id}`)).json()).notes).toBe('Theirs');
    await form.getByRole('button', { name: 'Cancel' }).click();
  });

  test('readiness: each fix names the section and the button that are really there', async () => {
    await section('Readiness', 'Readiness');
    const passwords = page.locator('[data-check="cloud-passwords"]').getByTestId('fix');
    await passwords.getByText(/Directory › Users: press Set cloud password/).waitFor();
    await passwords.getByText(/Import cloud passwords from a spreadsheet/).waitFor();
    const alerts = page.locator('[data-check="alerts"]').getByTestId('fix');
    await alerts.getByText(/press Edit configuration/).waitFor();
    await both('3am-readiness');
    expect(await axeViolations(page)).toEqual([]);
    // The named controls exist where the links lead.
    await passwords.getByRole('link', { name: 'Open Directory' }).click();
    await page.getByRole('heading', { name: 'Directory', exact: true }).waitFor();
    await page.getByRole('heading', { name: 'Import cloud passwords from a spreadsheet' }).waitFor();
    await page
      .getByRole('button', { name: /^Set cloud password for / })
      .first()
      .waitFor();
    await page.getByRole('heading', { name: 'Administrators' }).waitFor();
    await page.getByRole('button', { name: 'Add administrator' }).waitFor();
    await section('Readiness', 'Readiness');
    await alerts.getByRole('link', { name: 'Open Monitor' }).click();
    await page.getByRole('heading', { name: 'Continuity monitor' }).waitFor();
    await page.getByRole('button', { name: 'Edit configuration' }).waitFor();
    await page.getByRole('button', { name: 'New monitor' }).waitFor();
  });

  test('the reset page tells a signed-in admin that self-service reset is off; nobody else', async () => {
    const inbox = await page.context().newPage();
    await inbox.goto(`${server.url}/`);
    await inbox.getByTestId('forgot-password').click();
    const hint = inbox.getByTestId('reset-admin-hint');
    await hint.getByText(/self-service reset is off for everyone now/).waitFor();
    await hint.getByText(/Notifications › Cloud password reset/).waitFor();
    const was = page;
    page = inbox;
    await both('3am-reset-admin-hint');
    expect(await axeViolations(page)).toEqual([]);
    page = was;
    await inbox.close();

    const anonymous = await newAdminPage(browser);
    await anonymous.goto(`${server.url}/`);
    // The hint's question is asked and refused (no admin session): no hint.
    const answered = anonymous.waitForResponse((r) => r.url().endsWith('/api/notify/reset-policy'));
    await anonymous.getByTestId('forgot-password').click();
    await anonymous.getByTestId('reset-ask').waitFor();
    expect((await answered).status()).toBe(401);
    expect(await anonymous.getByTestId('reset-admin-hint').count()).toBe(0);
    await anonymous.context().close();
  });
});
