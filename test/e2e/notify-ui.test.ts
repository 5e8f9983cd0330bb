/**
 * END TO END: the Notifications admin section and the pane's SMS alerts card and forgot-password
 * flow, in Chromium against the real server process on a fresh database, with a real SMS gateway
 * stand-in (Twilio shape, HTTP on loopback) and a real SMTP sink (the relay) on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { axeViolations } from '../harness/axe';
import { launchBrowser, newPanePage, screenshot, signInToAdminPage } from '../harness/browser';
import { testDatabaseUri } from '../harness/context';
import { eventually } from '../harness/eventually';
import { ensurePaneBuilt } from '../harness/pane-build';
import { startServer, type ServerProcess } from '../harness/server-process';
import { startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { installOfficeStandIn } from '../stand-ins/office-host';
import { startSmsGateway, type SmsGateway } from '../stand-ins/sms-gateway';

const ADMIN = { email: 'it@contoso.test', password: 'first admin password' };
const VIEWER = { email: 'viewer@contoso.test', password: 'viewer password 2026', role: 'readOnly' };
/** Ada in the demo directory: mobile +155501000, alternate address ada.home@example.org. */
const ADA = { id: 'u-ada', email: 'ada@contoso.test', phone: '+155501000', home: 'ada.home@example.org', password: 'Ada cloud password 2026!' };
const RELAY_PASSWORD = 'relay-password-never-shown';
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** The Fluent Field around a labelled control (its validation message sits inside it). */
const field = (scope: Locator, label: string) => scope.locator('.fui-Field').filter({ has: scope.page().getByText(label, { exact: true }) });

describe('notifications UI', () => {
  let server: ServerProcess;
  let gateway: SmsGateway;
  let smtp: SmtpPeer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-notify-e2e-'));

  async function signIn(p: Page, who: { email: string; password: string }) {
    await signInToAdminPage(p, `${server.url}/admin#notifications`, who, { name: 'Notifications', exact: true });
  }

  async function adminApi(method: string, url: string, body?: unknown) {
    const res = await page.request.fetch(`${server.url}${url}`, { method, data: body === undefined ? undefined : body });
    if (!res.ok()) throw new Error(`${method} ${url}: ${res.status()} ${await res.text()}`);
    return res.status() === 204 ? null : res.json();
  }

  async function expectAccessible(p: Page) {
    // Colours are checked once Fluent's transitions (a button turning enabled again) have finished.
    await p.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined))));
    const violations = await axeViolations(p);
    if (violations.length) {
      // Say which element, so a failure can be fixed without rerunning.
      const html = await p.evaluate(async () => {
        const axe = (
          window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: { nodes: { html: string; failureSummary?: string }[] }[] }> } }
        ).axe;
        const r = await axe.run({ exclude: [['[data-tabster-dummy]']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
        return r.violations.flatMap((v) => v.nodes.map((n) => `${n.html} ${n.failureSummary ?? ''}`));
      });
      console.log(html.join('\n'));
    }
    expect(violations).toEqual([]);
  }

  beforeAll(async () => {
    ensurePaneBuilt();
    gateway = await startSmsGateway();
    smtp = await startPeer('accept');
    server = await startServer({
      LIFEBOAT_ADMIN_EMAIL: ADMIN.email,
      LIFEBOAT_ADMIN_PASSWORD: ADMIN.password,
      LIFEBOAT_DATA_DIR: dataDir,
      MONGODB_URI: `${testDatabaseUri().replace(/\/$/, '')}/e2e_notify_${Date.now()}`,
    });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: LAPTOP, locale: 'en-US', timezoneId: 'UTC' });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await gateway?.close();
    await smtp?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the section before anything is configured', async () => {
    await signIn(page, ADMIN);
    await page.getByTestId('email-state').getByText('Not configured').waitFor();
    await page.getByTestId('sms-state').getByText('Not configured').waitFor();
    await page.getByTestId('send-log').getByTestId('empty').waitFor();
    await expect(page.getByTestId('email-password-state').textContent()).resolves.toBe('not set');
    await screenshot(page, 'admin-notify-empty');
    await expectAccessible(page);
  });

  test('email channel: saved with a write-only password that is never shown back; a test mail reaches the relay', async () => {
    const card = page.getByTestId('email-channel');
    await card.getByLabel('SMTP relay host').fill('127.0.0.1');
    await card.getByRole('spinbutton', { name: 'Port' }).fill(String(smtp.port));
    await card.getByLabel('From address').fill('lifeboat@contoso.test');
    await card.getByLabel('User name').fill('relay-user');
    await card.getByLabel('Password').fill(RELAY_PASSWORD);
    await expect(page.getByTestId('email-password-state').textContent()).resolves.toBe('will be replaced');
    await card.getByRole('button', { name: 'Save email channel' }).click();
    await page.getByTestId('email-message').getByText('Email channel saved.').waitFor();
    await expect(page.getByTestId('email-password-state').textContent()).resolves.toBe('set');
    await expect(card.getByLabel('Password').inputValue()).resolves.toBe('');
    await page.getByTestId('email-state').getByText(`Sending through 127.0.0.1:${smtp.port}`).waitFor();
    // Neither the page nor the API gives the secret back, also after a reload.
    await page.reload();
    await page.getByTestId('email-password-state').getByText('set', { exact: true }).waitFor();
    expect(await page.content()).not.toContain(RELAY_PASSWORD);
    expect(JSON.stringify(await adminApi('GET', '/api/notify/settings'))).not.toContain(RELAY_PASSWORD);

    const test = page.getByTestId('email-test');
    await test.getByLabel('Test email to (address)').fill('not-an-address');
    await test.getByRole('button', { name: 'Send test' }).click();
    await field(test, 'Test email to (address)').getByText('must be an email address').waitFor();
    await test.getByLabel('Test email to (address)').fill('ops@example.org');
    await test.getByRole('button', { name: 'Send test' }).click();
    await page
      .getByTestId('email-test-result')
      .getByText(/^Sent \(1 attempt\)/)
      .waitFor();
    expect(smtp.received.filter((m) => m.to.includes('ops@example.org'))).toHaveLength(1);
  });

  test('SMS channel: a bad gateway URL is refused beside its field; fixed, a test SMS reaches the gateway and shows in the send log', async () => {
    const card = page.getByTestId('sms-channel');
    await card.getByLabel('Base URL').fill('http://gateway.example.com');
    await card.getByLabel('Account SID').fill(gateway.credentials.accountSid);
    await card.getByLabel('From number').fill('+15550009999');
    await card.getByLabel('Auth token').fill(gateway.credentials.authToken);
    await card.getByRole('button', { name: 'Save SMS channel' }).click();
    await field(card, 'Base URL').getByText('must be an https:// URL (http:// only to localhost)').waitFor();
    await page.getByTestId('sms-message').getByText('Some fields need attention.').waitFor();
    await expect(page.getByTestId('sms-token-state').textContent()).resolves.toBe('will be replaced');
    await screenshot(page, 'admin-notify-field-error');
    await expectAccessible(page);
    // Nothing was half-saved.
    expect((await adminApi('GET', '/api/notify/settings')).sms).toBeNull();

    await card.getByLabel('Base URL').fill(gateway.url);
    await card.getByRole('button', { name: 'Save SMS channel' }).click();
    await page.getByTestId('sms-message').getByText('SMS channel saved.').waitFor();
    await expect(page.getByTestId('sms-token-state').textContent()).resolves.toBe('set');
    expect(await page.content()).not.toContain(gateway.credentials.authToken);

    const test = page.getByTestId('sms-test');
    await test.getByLabel('Test SMS to (phone number)').fill('+15550001234');
    await test.getByRole('button', { name: 'Send test' }).click();
    await page
      .getByTestId('sms-test-result')
      .getByText(/^Sent \(1 attempt\)/)
      .waitFor();
    expect(gateway.delivered.map((r) => r.fields.To)).toEqual(['+15550001234']);

    const log = page.getByTestId('send-log');
    const row = log.getByTestId('log-row').filter({ hasText: '+15550001234' });
    await row.waitFor();
    await expect(row.textContent()).resolves.toMatch(/SMS \(twilio\).*\+15550001234.*test.*sent.*1/);
    await expect(log.getByTestId('log-row').filter({ hasText: 'ops@example.org' }).count()).resolves.toBe(1);
    await screenshot(page, 'admin-notify-configured');
    await expectAccessible(page);
  });

  test('phone attribute and reset default saved; the log pages with Load more', async () => {
    const card = page.getByTestId('notify-general');
    await card.getByLabel('Self-service password reset (tenant default)').selectOption('email');
    await card.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('general-message').getByText('Saved.').waitFor();
    expect((await adminApi('GET', '/api/notify/settings')).cloudPasswordReset).toBe('email');

    // 25 more test sends: the log's first page (25) no longer holds them all.
    for (let i = 0; i < 25; i++) await adminApi('POST', '/api/notify/test', { channel: 'sms', to: `+1555000${String(i).padStart(4, '0')}` });
    const log = page.getByTestId('send-log');
    await log.getByRole('button', { name: 'Refresh' }).click();
    await eventually(async () => expect(await log.getByTestId('log-row').count()).toBe(25));
    await log.getByTestId('log-more').click();
    await eventually(async () => expect(await log.getByTestId('log-row').count()).toBe(27));
    await expect(log.getByTestId('log-more').count()).resolves.toBe(0);
  });

  test('at phone width the section fits without sideways scrolling', async () => {
    const phone = await browser.newContext({ viewport: PHONE, locale: 'en-US', timezoneId: 'UTC', isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await signIn(p, ADMIN);
    await p.getByTestId('sms-state').getByText('Sending through').waitFor();
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await screenshot(p, 'admin-notify-configured-phone');
    await expectAccessible(p);
    await phone.close();
  });

  test('a read-only admin sees everything, with every control disabled and the reason', async () => {
    const created = await page.request.post(`${server.url}/api/admins`, { data: VIEWER });
    expect(created.status()).toBe(201);
    for (const [viewport, name] of [
      [LAPTOP, 'admin-notify-read-only'],
      [PHONE, 'admin-notify-read-only-phone'],
    ] as const) {
      const ctx = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC' });
      const p = await ctx.newPage();
      await signIn(p, VIEWER);
      await p.getByTestId('read-only').waitFor();
      await p.getByTestId('email-password-state').getByText('set', { exact: true }).waitFor();
      for (const button of ['Save email channel', 'Save SMS channel', 'Save']) {
        await expect(p.getByRole('button', { name: button, exact: true }).getAttribute('aria-disabled')).resolves.toBe('true');
      }
      for (const id of ['email-test', 'sms-test']) {
        await expect(p.getByTestId(id).getByRole('button', { name: 'Send test' }).getAttribute('aria-disabled')).resolves.toBe('true');
      }
      await expect(p.getByTestId('email-channel').getByLabel('SMTP relay host').isDisabled()).resolves.toBe(true);
      await expect(p.getByTestId('sms-channel').getByLabel('Auth token').isDisabled()).resolves.toBe(true);
      await expect(
        p
          .getByTestId('email-channel')
          .getByText(/can view this but not change it/)
          .count(),
      ).resolves.toBeGreaterThan(0);
      // The send log is readable.
      await p.getByTestId('send-log').getByTestId('log-row').first().waitFor();
      await screenshot(p, name);
      await expectAccessible(p);
      await ctx.close();
    }
  });

  describe('task pane', () => {
    let pane: Page;
    const stateOf = (p: Page) => p.getByTestId('sms-alerts').getAttribute('data-state');

    test('SMS alerts: the number on file, opt in (with the time) and out again', async () => {
      await adminApi('PUT', `/api/users/${ADA.id}/cloud-password`, { password: ADA.password });
      ({ page: pane } = await newPanePage(browser));
      await installOfficeStandIn(pane, {
        hostName: 'Outlook',
        platform: 'PC',
        accountType: 'office365',
        emailAddress: ADA.email,
        requirements: { Mailbox: '1.8' },
      });
      await pane.goto(`${server.url}/addin/taskpane.html`);
      const form = pane.getByTestId('sign-in-form');
      await form.getByLabel('Lifeboat password').fill(ADA.password);
      await form.getByRole('button', { name: 'Sign in with password' }).click();
      await pane.locator('[data-testid="sms-alerts"][data-state="opted-out"]').waitFor();
      await expect(pane.getByTestId('sms-phone').textContent()).resolves.toBe(ADA.phone);
      await pane.getByTestId('sms-alerts').scrollIntoViewIfNeeded();
      await screenshot(pane, 'pane-sms-alerts-off');
      await expectAccessible(pane);

      await pane.getByTestId('sms-opt-in').click();
      await pane.locator('[data-testid="sms-alerts"][data-state="opted-in"]').waitFor();
      await expect(pane.getByTestId('sms-state').textContent()).resolves.toMatch(/^You get SMS alerts: opted in by you on \d+ \w+ \d{4}, \d\d:\d\d/);
      const consents = (await adminApi('GET', '/api/notify/consents?search=ada')) as { userId: string; optedIn: boolean; source: string }[];
      expect(consents.find((c) => c.userId === ADA.id)).toMatchObject({ optedIn: true, source: 'user' });
      await screenshot(pane, 'pane-sms-alerts-on');
      await expectAccessible(pane);

      await pane.getByTestId('sms-opt-out').click();
      await pane.locator('[data-testid="sms-alerts"][data-state="opted-out"]').waitFor();
      await expect(pane.getByTestId('sms-state').textContent()).resolves.toMatch(/opted out by you/);
      const after = (await adminApi('GET', '/api/notify/consents?search=ada')) as { userId: string; optedIn: boolean }[];
      expect(after.find((c) => c.userId === ADA.id)?.optedIn).toBe(false);
    });

    test('SMS alerts: no number on file (the tenant reads an attribute Ada lacks) is explained', async () => {
      await adminApi('PATCH', '/api/notify/settings', { phoneAttribute: 'pagerNumber' });
      try {
        await pane.reload();
        await pane.locator('[data-testid="sms-alerts"][data-state="no-number"]').waitFor();
        await expect(pane.getByTestId('sms-no-number').textContent()).resolves.toMatch(/no mobile number for you.*\(pagerNumber\)/);
        await expect(pane.getByTestId('sms-opt-in').count()).resolves.toBe(0);
        await screenshot(pane, 'pane-sms-alerts-no-number');
        await expectAccessible(pane);
      } finally {
        await adminApi('PATCH', '/api/notify/settings', { phoneAttribute: 'mobilePhone' });
      }
      expect(await stateOf(pane)).toBe('no-number');
    });

    test('forgot password: the same answer for any address, wrong code and weak password explained, then signed in with the new password', async () => {
      const { page: p } = await newPanePage(browser);
      await installOfficeStandIn(p, {
        hostName: 'Outlook',
        platform: 'PC',
        accountType: 'office365',
        emailAddress: ADA.email,
        requirements: { Mailbox: '1.8' },
      });
      await p.goto(`${server.url}/addin/taskpane.html`);
      await p.getByTestId('forgot-password').click();
      const reset = p.getByTestId('reset');
      await screenshot(p, 'pane-reset-ask');
      await expectAccessible(p);

      // An address with no account gets the same words.
      await reset.getByLabel('Email').fill('nobody@contoso.test');
      await reset.getByRole('button', { name: 'Send me a code' }).click();
      const unknown = (await p.getByTestId('reset-sent').textContent())!;
      await p.getByTestId('reset-back').click();
      await p.getByTestId('forgot-password').click();
      await reset.getByLabel('Email').fill(ADA.email);
      await reset.getByRole('button', { name: 'Send me a code' }).click();
      const known = (await p.getByTestId('reset-sent').textContent())!;
      expect(known.replace(ADA.email, 'X')).toBe(unknown.replace('nobody@contoso.test', 'X'));
      await screenshot(p, 'pane-reset-code');
      await expectAccessible(p);

      await eventually(() => expect(smtp.received.filter((x) => x.to.includes(ADA.home))).toHaveLength(1));
      const mail = smtp.received.find((x) => x.to.includes(ADA.home))!;
      // The code is in the body: headers (Message-ID, boundaries) may hold 8-digit runs of their own.
      const code = /\b(\d{8})\b/.exec(mail.raw.slice(mail.raw.indexOf('\r\n\r\n')))![1]!;
      const newPassword = 'Ada reset password 2026!';

      await reset.getByLabel('Code').fill(code === '00000000' ? '11111111' : '00000000');
      await reset.getByLabel('New Lifeboat password').fill(newPassword);
      await reset.getByRole('button', { name: 'Set password and sign in' }).click();
      await field(reset, 'Code').getByText('This code is wrong or has expired. Check it, or ask for a new one.').waitFor();
      await screenshot(p, 'pane-reset-wrong-code');
      await expectAccessible(p);

      await reset.getByLabel('Code').fill(code);
      await reset.getByLabel('New Lifeboat password').fill('short');
      await reset.getByRole('button', { name: 'Set password and sign in' }).click();
      const weak = field(reset, 'New Lifeboat password').locator('.fui-Field__validationMessage');
      await weak.waitFor();
      // The policy's own words from the 422.
      await expect(weak.textContent()).resolves.toMatch(/at least 12 characters/);
      await screenshot(p, 'pane-reset-weak-password');
      await expectAccessible(p);

      await reset.getByLabel('New Lifeboat password').fill(newPassword);
      await reset.getByRole('button', { name: 'Set password and sign in' }).click();
      await p.locator('[data-testid="header-state"]').waitFor();
      await p.getByText(`Signed in as ${ADA.email}`).waitFor();
      await screenshot(p, 'pane-reset-signed-in');

      // The new password works for a fresh sign-in; the old one does not.
      const login = (password: string) =>
        fetch(`${server.url}/api/user-auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: ADA.email, password }),
        });
      expect((await login(newPassword)).status).toBe(200);
      expect((await login(ADA.password)).status).toBe(401);
    });
  });
});
