/**
 * END TO END, the web continuity inbox at / (issue 16): the built app in Chromium at phone width
 * (360 px) and laptop width, against the real server process on a fresh database, with mail
 * delivered into Lifeboat's receiver over SMTP and sent mail leaving through a relay peer. Sign-in,
 * inbox, search, reading, reply with directory autocomplete and an attachment, the live banner when
 * an event starts, the offline shell; axe on every view, every view screenshotted into test-artifacts/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { axeViolations } from '../harness/axe';
import { LAPTOP_VIEWPORT, launchBrowser, screenshot, signInToAdminPage } from '../harness/browser';
import { testDatabaseUri } from '../harness/context';
import { eventually } from '../harness/eventually';
import { ensurePaneBuilt } from '../harness/pane-build';
import { callAsAdmin, startServer, type ServerProcess } from '../harness/server-process';
import { smtpSession, startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { eventBody, OUTAGE_APP_NOTIFICATIONS } from '../harness/event-fixtures';

const ADMIN = { email: 'it@contoso.test', password: 'first admin password' };
const ADA = { id: 'u-ada', email: 'ada@contoso.test', password: 'Ada cloud password 2026!' };
const PHONE = { width: 360, height: 740 };

describe('the web continuity inbox, against the real backend', () => {
  let server: ServerProcess;
  let smtpPort: number;
  let relay: SmtpPeer;
  let primary: SmtpPeer;
  let browser: Browser;
  let cookie: string;
  let phone: Page;
  let phoneContext: BrowserContext;
  const contexts: BrowserContext[] = [];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-e2e-inbox-'));

  const admin = (method: string, url: string, body?: unknown) => callAsAdmin(server.url, cookie, method, url, body);

  async function deliver(messages: Buffer[]) {
    const s = await smtpSession(smtpPort);
    await s.command('EHLO sender.fabrikam.example');
    for (const raw of messages) {
      expect(await s.command('MAIL FROM:<bob@fabrikam.example>')).toMatch(/^250/);
      expect(await s.command(`RCPT TO:<${ADA.email}>`)).toMatch(/^250/);
      expect(await s.data(raw)).toMatch(/^250/);
    }
    await s.quit();
  }
  const mime = (options: ConstructorParameters<typeof MailComposer>[0]) => new MailComposer(options).compile().build();

  async function newPage(viewport: { width: number; height: number }) {
    const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC', acceptDownloads: true });
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    return { context, page: await context.newPage() };
  }

  async function signIn(page: Page) {
    await page.goto(`${server.url}/`);
    const form = page.getByTestId('sign-in-form');
    await form.getByLabel('Email').fill(ADA.email);
    await form.getByLabel('Lifeboat password').fill(ADA.password);
    await form.getByRole('button', { name: 'Sign in with password' }).click();
    await page.getByTestId('header-state').waitFor();
  }

  async function look(page: Page, name: string) {
    await screenshot(page, `inbox-${name}`);
    expect(await axeViolations(page)).toEqual([]);
  }

  beforeAll(async () => {
    ensurePaneBuilt();
    [relay, primary] = await Promise.all([startPeer('accept'), startPeer('accept')]);
    server = await startServer({
      LIFEBOAT_ADMIN_EMAIL: ADMIN.email,
      LIFEBOAT_ADMIN_PASSWORD: ADMIN.password,
      LIFEBOAT_DATA_DIR: dataDir,
      MONGODB_URI: `${testDatabaseUri().replace(/\/$/, '')}/e2e_inbox_${Date.now()}`,
    });
    smtpPort = Number(/Lifeboat SMTP receiver on port (\d+)/.exec(server.stdout())![1]);
    browser = await launchBrowser();
    const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    await admin('PUT', `/api/users/${ADA.id}/cloud-password`, { password: ADA.password });
    await admin('PUT', '/api/mail/settings', {
      primaryServers: [{ host: '127.0.0.1', port: primary.port }],
      relay: { host: '127.0.0.1', port: relay.port },
      retentionDays: 5,
    });
    await deliver([
      await mime({
        from: 'Bob Stone <bob@fabrikam.example>',
        to: ADA.email,
        subject: 'Quarterly numbers',
        text: 'Figures attached.',
        attachments: [{ filename: 'q3.csv', content: 'quarter,revenue\nQ3,1200\n' }],
      }),
      await mime({
        from: 'Carol Diaz <carol@fabrikam.example>',
        to: ADA.email,
        subject: 'Lunch on Friday?',
        html: '<p>The <b>pineapple</b> place at noon?</p><script>alert(1)</script>',
      }),
      await mime({ from: 'Bob Stone <bob@fabrikam.example>', to: ADA.email, subject: 'Travel plans', text: 'Flights are booked.' }),
    ]);
  }, 240_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.stop();
    await Promise.all([relay?.close(), primary?.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a wrong link shows a page that says what to do; the API keeps problem+json', async () => {
    const page = await fetch(`${server.url}/no/such/page`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/Open your continuity inbox/);
    const api = await fetch(`${server.url}/api/no-such-thing`, { headers: { accept: 'text/html' } });
    expect(api.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const manifest = await (await fetch(`${server.url}/manifest.webmanifest`)).json();
    expect(manifest).toMatchObject({ start_url: '/', display: 'standalone' });
    expect((await fetch(`${server.url}${manifest.icons.at(-1).src}`)).status).toBe(200);
  });

  test('phone: sign in and see the inbox with the mail delivered over SMTP', async () => {
    ({ context: phoneContext, page: phone } = await newPage(PHONE));
    await phone.goto(`${server.url}/`);
    await phone.getByTestId('sign-in-form').waitFor();
    await look(phone, 'phone-sign-in');
    await signIn(phone);
    await eventually(async () => {
      await phone.getByTestId('mail-refresh').click();
      expect(await phone.getByTestId('mail-row').count()).toBe(3);
    });
    expect(await phone.locator('[data-testid="header-state"]').getAttribute('data-state')).toBe('normal');
    expect(await phone.getByTestId('mail-row').first().textContent()).toMatch(/Travel plans/);
    // Nothing wider than the phone: no sideways scrolling.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await look(phone, 'phone-inbox');
  });

  test('phone: search finds body text; the reading view shows sanitised HTML in a sandboxed frame', async () => {
    await phone.getByTestId('mail-search').fill('pineapple');
    await phone.getByTestId('mail-search').press('Enter');
    await eventually(async () => expect(await phone.getByTestId('mail-row').count()).toBe(1));
    expect(await phone.getByTestId('search-summary').textContent()).toMatch(/1 found/);
    await look(phone, 'phone-search');
    await phone.getByTestId('mail-row').click();
    const frame = phone.locator('iframe');
    await frame.first().waitFor();
    expect(await frame.first().getAttribute('sandbox')).not.toMatch(/allow-scripts/);
    await phone.frameLocator('[data-testid="reading-body"]').getByText('place at noon?').waitFor();
    await look(phone, 'phone-reading');
    await phone
      .getByTestId('search-clear')
      .waitFor({ state: 'detached' })
      .catch(() => {});
  });

  test('phone: reply with a recipient from directory autocomplete and an attachment; the relay gets it', async () => {
    await phone.goto(`${server.url}/`);
    await phone.getByTestId('mail-row').first().waitFor();
    await phone.locator('[data-testid="mail-row"]', { hasText: 'Quarterly numbers' }).click();
    await phone.getByRole('button', { name: 'Reply all' }).click();
    await phone.getByTestId('compose').waitFor();
    const cc = phone.getByTestId('compose-cc');
    await cc.fill('ben');
    await phone.getByTestId('suggestion').first().waitFor();
    await look(phone, 'phone-autocomplete');
    await phone.locator('[data-testid="suggestion"][data-address="ben@contoso.test"]').click();
    expect(await cc.inputValue()).toMatch(/^ben@contoso\.test, $/);
    await phone.getByTestId('compose-body').fill('Thanks, numbers look good.');
    await phone.frameLocator('[data-testid="compose-quoted"]').getByText('Figures attached.').waitFor();
    await phone.getByTestId('compose-files').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('my notes') });
    await look(phone, 'phone-compose');
    await phone.getByTestId('compose-send').click();
    await phone.getByTestId('sent-notice').waitFor();
    await eventually(async () => {
      const all = [...relay.received, ...primary.received].filter((m) => /Subject: Re: Quarterly numbers/.test(m.raw));
      expect(all.flatMap((m) => m.to).sort()).toEqual(['ben@contoso.test', 'bob@fabrikam.example']);
      expect(all[0]!.raw).toMatch(/filename=notes\.txt/);
    }, 30_000);
    await phone.frameLocator('[data-testid="reading-body"]').getByText('Thanks, numbers look good.').waitFor();
    await look(phone, 'phone-sent');
  });

  test('phone: the banner turns to "Continuity active" live when an event starts', async () => {
    await phone.goto(`${server.url}/`);
    await phone.locator('[data-testid="header-state"][data-state="normal"]').waitFor();
    await admin(
      'POST',
      '/api/events',
      eventBody('Exchange Online outage', 0, { affectedGroupId: 'g-all-staff', timeZone: 'Europe/London', appNotifications: OUTAGE_APP_NOTIFICATIONS }),
    );
    await phone.locator('[data-testid="header-state"][data-state="active"]').waitFor();
    expect(await phone.getByTestId('header-state').textContent()).toMatch(/Mail goes through Lifeboat/);
    // During the event the inbox shows the mail since it began.
    await deliver([await mime({ from: 'Bob Stone <bob@fabrikam.example>', to: ADA.email, subject: 'During the outage', text: 'Still reaching you.' })]);
    await eventually(async () => {
      await phone.getByTestId('mail-refresh').click();
      expect(await phone.getByTestId('mail-row').count()).toBe(1);
    });
    await look(phone, 'phone-active');
  });

  test('phone: offline, the installed shell opens and shows the last loaded messages, read-only and marked', async () => {
    await phone.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await phone.reload();
    await phone.getByTestId('mail-row').first().waitFor();
    await phoneContext.setOffline(true);
    await phone.reload();
    await phone.getByTestId('offline-banner').waitFor();
    expect(await phone.getByTestId('mail-row').count()).toBeGreaterThan(0);
    expect(await phone.getByTestId('mail-new').isDisabled()).toBe(true);
    await look(phone, 'phone-offline');
    await phoneContext.setOffline(false);
  });

  test('laptop: the same inbox at laptop width', async () => {
    const { page } = await newPage(LAPTOP_VIEWPORT);
    await signIn(page);
    await page.getByTestId('mail-row').first().waitFor();
    await look(page, 'laptop-inbox');
    await page.getByTestId('tab-sent').click();
    await page.locator('[data-testid="mail-list"][data-folder="sent"]').waitFor();
    await look(page, 'laptop-sent');
  });

  test('sent mail and Exchange Sent Items: the user is told it cannot be copied (no Graph connection), the admin page says why', async () => {
    for (const viewport of [PHONE, LAPTOP_VIEWPORT]) {
      const { page } = await newPage(viewport);
      await signIn(page);
      const notice = page.getByTestId('sent-items-unavailable');
      await notice.waitFor();
      expect(await notice.textContent()).toMatch(/cannot be copied into your Outlook Sent Items/);
      await look(page, `${viewport === PHONE ? 'phone' : 'laptop'}-sent-items-notice`);
      await notice.getByRole('button', { name: 'Dismiss' }).click();
      await notice.waitFor({ state: 'detached' });
      await page.reload();
      await page.getByTestId('header-state').waitFor();
      await page.getByTestId('mail-row').first().waitFor();
      expect(await page.getByTestId('sent-items-unavailable').count()).toBe(0);

      // The admin's line on the Mail page.
      await signInToAdminPage(page, `${server.url}/admin`, ADMIN);
      await page.getByRole('tab', { name: 'Mail' }).click();
      const card = page.getByTestId('sent-items-card');
      await card.waitFor();
      await card.getByTestId('sent-items-start').click();
      await eventually(async () => expect(await card.getByTestId('sent-items-line').textContent()).toMatch(/Cannot copy: no Microsoft Graph connection/));
      await card.scrollIntoViewIfNeeded();
      await screenshot(page, `admin-sent-items-${viewport === PHONE ? 'phone' : 'laptop'}`);
      expect(await axeViolations(page)).toEqual([]);
    }
  });

  test('admin page: only chosen groups may use the end-user apps; a user outside them is told to ask IT; back to everyone', async () => {
    for (const viewport of [PHONE, LAPTOP_VIEWPORT]) {
      const name = viewport === PHONE ? 'phone' : 'laptop';
      const { page } = await newPage(viewport);
      await signInToAdminPage(page, `${server.url}/admin`, ADMIN);
      await page.getByRole('tab', { name: 'Directory' }).click();
      const card = page.getByTestId('end-user-access-card');
      await card.getByRole('radio', { name: 'Only members of these groups' }).check();
      await card.getByTestId('end-user-access-add').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Search groups by name or address').fill('Engineering');
      await dialog.getByRole('button', { name: 'Select Engineering' }).click();
      await card.getByTestId('end-user-access-groups').getByText('Engineering').waitFor();
      await card.getByTestId('end-user-access-save').click();
      await card.getByTestId('end-user-access-saved').waitFor();
      await card.scrollIntoViewIfNeeded();
      await screenshot(page, `admin-end-user-access-${name}`);
      expect(await axeViolations(page)).toEqual([]);
      expect(await admin('GET', '/api/end-user-access')).toEqual({ groupIds: ['g-engineering'] });

      // Ada (Sales) is refused, with what to do.
      const inbox = (await newPage(viewport)).page;
      await signIn(inbox);
      await inbox
        .getByText(/ask your IT administrator to add you to a group/)
        .first()
        .waitFor();
      await look(inbox, `${name}-refused`);

      await card.getByRole('radio', { name: 'Everyone in the directory' }).check();
      await card.getByTestId('end-user-access-save').click();
      await eventually(async () => expect(await admin('GET', '/api/end-user-access')).toEqual({ groupIds: null }));
    }
  });

  test('offline-capable pages contact no Microsoft host when they load: every request goes to this server', async () => {
    const { page } = await newPage(PHONE);
    const hosts = new Set<string>();
    page.on('request', (r) => hosts.add(new URL(r.url()).host));
    const origin = new URL(server.url).host;
    await signIn(page);
    await page.getByTestId('mail-row').first().waitFor();
    await page.goto(`${server.url}/admin`);
    await page.getByTestId('admin-sign-in').waitFor();
    // The pane outside Outlook: office.js and what it loads come from /addin/office-js/ on this server.
    await page.goto(`${server.url}/addin/taskpane.html`);
    await page.waitForLoadState('networkidle');
    expect([...hosts].filter((h) => h !== origin)).toEqual([]);
    // And the pages name no Microsoft script source: office.js is the package's copy.
    for (const path of ['/', '/admin', '/addin/taskpane.html', '/addin/commands.html']) {
      const html = await (await fetch(`${server.url}${path}`)).text();
      const sources = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(sources.filter((src) => /^(https?:)?\/\//.test(src))).toEqual([]);
    }
  });
});
