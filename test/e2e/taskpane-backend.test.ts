/**
 * END TO END against the real backend (docs/ARCHITECTURE.md, "Push and seq"): the built pane in Chromium with the Office host
 * stand-in, served by the real server process (`server/main.ts`) on a fresh database. An admin
 * drives the event through the real API; the network between pane and server is cut for real by a
 * TCP proxy to prove the seq replay.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPanePage, screenshot } from '../harness/browser';
import { testDatabaseUri } from '../harness/context';
import { eventually } from '../harness/eventually';
import { ensurePaneBuilt } from '../harness/pane-build';
import { callAsAdmin, startServer, type ServerProcess } from '../harness/server-process';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy';
import { eventBody, OUTAGE_APP_NOTIFICATIONS } from '../harness/event-fixtures';
import { installOfficeStandIn, standInMessages } from '../stand-ins/office-host';

const ADMIN = { email: 'it@contoso.test', password: 'first admin password' };
const USER = { id: 'u-ada', email: 'ada@contoso.test', password: 'Ada cloud password 2026!' };

/** The admin API calls the test drives events with. */
const BACKEND = {
  setCloudPassword: (userId: string) => ({ method: 'PUT', path: `/api/users/${userId}/cloud-password` }),
  startEvent: () => ({ method: 'POST', path: '/api/events' }),
  editEvent: (id: string) => ({ method: 'PATCH', path: `/api/events/${id}` }),
  report: (id: string) => ({ method: 'GET', path: `/api/events/${id}/report` }),
  endNow: (id: string) => ({ method: 'POST', path: `/api/events/${id}/end` }),
};

describe('task pane against the real backend', () => {
  let server: ServerProcess;
  let network: TcpProxy;
  let browser: Browser;
  let page: Page;
  let cookie: string;
  let eventId: string;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-e2e-'));

  const admin = (action: { method: string; path: string }, body?: unknown) => callAsAdmin(server.url, cookie, action.method, action.path, body);

  beforeAll(async () => {
    ensurePaneBuilt();
    server = await startServer({
      LIFEBOAT_ADMIN_EMAIL: ADMIN.email,
      LIFEBOAT_ADMIN_PASSWORD: ADMIN.password,
      LIFEBOAT_DATA_DIR: dataDir,
      MONGODB_URI: `${testDatabaseUri().replace(/\/$/, '')}/e2e_pane_${Date.now()}`,
    });
    network = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(server.url).port) });
    browser = await launchBrowser();
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    cookie = login.headers.getSetCookie()[0].split(';')[0];
    await admin(BACKEND.setCloudPassword(USER.id), { password: USER.password });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await network?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('sign in with the cloud password → Normal, live', async () => {
    ({ page } = await newPanePage(browser));
    await installOfficeStandIn(page, {
      hostName: 'Outlook',
      platform: 'PC',
      accountType: 'office365',
      emailAddress: USER.email,
      requirements: { Mailbox: '1.8' },
    });
    await page.goto(`${network.url}/addin/taskpane.html`);
    const form = page.getByTestId('sign-in-form');
    await form.getByLabel('Lifeboat password').fill(USER.password);
    await form.getByRole('button', { name: 'Sign in with password' }).click();
    await page.locator('[data-testid="header-state"][data-state="normal"]').waitFor();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await screenshot(page, 'backend-normal');
  });

  test('an admin starts an event → Continuity active and the item banner', async () => {
    // Ada is in the demo directory's Continuity Pilot group; the event starts now.
    const event = (await admin(
      BACKEND.startEvent(),
      eventBody('Exchange Online outage', 0, { timeZone: 'Europe/London', appNotifications: OUTAGE_APP_NOTIFICATIONS }),
    )) as { id: string };
    eventId = event.id;
    await page.locator('[data-testid="header-state"][data-state="active"]').getByText('Mail goes through Lifeboat.').waitFor();
    await eventually(async () =>
      expect((await standInMessages(page)).map((m) => m.message)).toEqual(['Email continuity is active: Mail goes through Lifeboat.']),
    );
    await screenshot(page, 'backend-active');
    // The pane acknowledged the banner: the admin report counts Ada as having received it.
    await eventually(async () =>
      expect(((await admin(BACKEND.report(eventId))) as { users: { bannerReceived: unknown } }).users.bannerReceived).toMatchObject({ count: 1 }),
    );
  });

  test('socket cut, message edited, socket back → the pane replays the new message', async () => {
    network.cut();
    await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
    await admin(BACKEND.editEvent(eventId), { appNotifications: { startMessage: 'Updated: urgent mail only.' } });
    network.resume();
    await page.locator('[data-testid="header-state"][data-state="active"]').getByText('Updated: urgent mail only.').waitFor();
    await screenshot(page, 'backend-replayed');
  });

  test('End Now → Service restored with the end message', async () => {
    await admin(BACKEND.endNow(eventId));
    await page.locator('[data-testid="header-state"][data-state="restored"]').getByText('Exchange is back.').waitFor();
    await eventually(async () => expect(await standInMessages(page)).toEqual([]));
    await screenshot(page, 'backend-restored');
    // The replay after the reconnect and the end did not count Ada twice.
    const report = (await admin(BACKEND.report(eventId))) as {
      users: { affected: number; bannerReceived: { count: number; percent: number } };
      unknowns: { metric: string }[];
    };
    expect(report.users.bannerReceived.count).toBe(1);
    expect(report.users.bannerReceived.percent).toBe(Math.round((1 / report.users.affected) * 1000) / 10);
    expect(report.unknowns.map((u) => u.metric)).not.toContain('bannerReceipt');
  });
});
