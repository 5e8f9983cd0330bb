/**
 * The built task pane in Debian's Chromium, inside a stand-in Outlook host (test/stand-ins/office-host)
 * and talking to a stand-in of the backend's user contract (test/stand-ins/lifeboat-api). Every
 * state is screenshotted into test-artifacts/. The same flow against the real backend is in
 * taskpane-backend.test.ts.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newPanePage, screenshot } from '../harness/browser';
import { eventually } from '../harness/eventually';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy';
import { ensurePaneBuilt } from '../harness/pane-build';
import { STAND_IN_PASSWORD, startApiStandIn, type ApiStandIn } from '../stand-ins/lifeboat-api';
import { installOfficeStandIn, selectItem, standInMessages, type OfficeStandInConfig } from '../stand-ins/office-host';

let browser: Browser;
let api: ApiStandIn;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  const buildDir = ensurePaneBuilt();
  [browser, api] = await Promise.all([launchBrowser(), startApiStandIn({ buildDir })]);
}, 180_000);

afterAll(async () => {
  await closePages();
  await browser?.close();
  await api?.close();
});

const CLASSIC: OfficeStandInConfig = { hostName: 'Outlook', platform: 'PC', accountType: 'office365', requirements: { Mailbox: '1.8' } };

/** Closes the pages of finished tests (their sockets would otherwise stay connected to the stand-in). */
async function closePages() {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
}

async function openPane(config: OfficeStandInConfig, baseUrl = api.url): Promise<Page> {
  const { context, page } = await newPanePage(browser);
  contexts.push(context);
  await installOfficeStandIn(page, config);
  await page.goto(`${baseUrl}/addin/taskpane.html`);
  return page;
}

async function signIn(page: Page, email = 'ada@contoso.test', password = STAND_IN_PASSWORD) {
  const form = page.getByTestId('sign-in-form');
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Lifeboat password').fill(password);
  await form.getByRole('button', { name: 'Sign in with password' }).click();
}

const header = (page: Page) => page.getByTestId('header-state');

describe('client detection card', () => {
  afterEach(closePages);
  const cases: [string, OfficeStandInConfig, string, RegExp][] = [
    ['classic-windows', CLASSIC, 'classicWindows', /Cached Exchange Mode unknown/],
    ['mac', { hostName: 'Outlook', platform: 'Mac', accountType: 'office365' }, 'mac', /always keeps a copy of your mailbox/],
    ['new-outlook', { hostName: 'newOutlookWindows', platform: 'OfficeOnline', accountType: 'office365' }, 'newOutlookWindows', /cannot enter continuity mode/],
    ['web', { hostName: 'OutlookWebApp', platform: 'OfficeOnline', accountType: 'enterprise' }, 'web', /cannot enter continuity mode/],
    ['mobile', { hostName: 'OutlookIOS', platform: 'iOS', accountType: 'office365' }, 'mobile', /cannot enter continuity mode/],
  ];
  test.each(cases)('%s', async (name, config, kind, text) => {
    const page = await openPane(config);
    const card = page.getByTestId('client-card');
    await expect(card.getAttribute('data-kind')).resolves.toBe(kind);
    await card.getByText(text).waitFor();
    if (kind === 'newOutlookWindows' || kind === 'web' || kind === 'mobile') {
      await expect(card.getByTestId('continuity-inbox-link').getAttribute('href')).resolves.toBe('https://lifeboat.contoso.test/inbox');
    }
    await screenshot(page, `client-${name}`);
  });

  test('an Outlook host Lifeboat does not recognise: unknown, said plainly', async () => {
    const page = await openPane({ hostName: 'OutlookSomethingNew', platform: 'Universal' });
    const card = page.getByTestId('client-card');
    await card.getByText(/Lifeboat could not tell which Outlook this is/).waitFor();
    await expect(card.getAttribute('data-kind')).resolves.toBe('unknown');
    await screenshot(page, 'client-unknown');
  });

  test('outside Outlook (a plain browser tab): unknown, and told to open it from Outlook', async () => {
    const page = await openPane({ outsideOutlook: true });
    const card = page.getByTestId('client-card');
    await card.getByText(/not running inside Outlook/).waitFor();
    await expect(card.getAttribute('data-kind')).resolves.toBe('unknown');
    await screenshot(page, 'client-outside-outlook');
  });

  test('classic Outlook: the user confirms Cached Exchange Mode, and the answer is reported after sign-in', async () => {
    const page = await openPane({ ...CLASSIC, emailAddress: 'grace@contoso.test' });
    const card = page.getByTestId('client-card');
    await card.getByText('How to check').click();
    await card.getByText(/Use Cached Exchange Mode/).waitFor();
    await screenshot(page, 'client-classic-windows-how-to-check');
    await card.getByRole('button', { name: 'Cached mode is on' }).click();
    await card.getByText(/Cached Exchange Mode: on \(you confirmed it\)/).waitFor();
    await expect(card.getAttribute('data-cached-mode')).resolves.toBe('confirmed');
    await screenshot(page, 'client-classic-windows-confirmed');

    const before = api.clientReports.length;
    await signIn(page, 'grace@contoso.test');
    await header(page).waitFor();
    await eventually(() => expect(api.clientReports.length).toBeGreaterThan(before));
    expect(api.clientReports.at(-1)).toEqual({
      kind: 'classicWindows',
      hostName: 'Outlook',
      platform: 'PC',
      accountType: 'office365',
      hostVersion: '16.0.17928.20114',
      cachedMode: 'confirmed',
    });
  });
});

describe('sign-in', () => {
  afterEach(closePages);
  test('shows the password form when not signed in, and the server’s problem detail on a wrong password', async () => {
    const page = await openPane({ hostName: 'OutlookWebApp', platform: 'OfficeOnline' });
    await page.getByTestId('sign-in-form').waitFor();
    await expect(page.getByTestId('sign-in-microsoft').count()).resolves.toBe(0); // no NAA configured
    await screenshot(page, 'sign-in');
    await signIn(page, 'ada@contoso.test', 'wrong password');
    await page.getByTestId('sign-in-error').getByText('The email address or password is not right.').waitFor();
    await screenshot(page, 'sign-in-error');
  });

  test('with an Entra app configured and NAA supported by the host, Microsoft sign-in comes first, the password second', async () => {
    const { context, page } = await newPanePage(browser);
    contexts.push(context);
    // Nothing may leave the machine: Entra is never reached in tests (silent sign-in fails, the button shows).
    await context.route(/^https:\/\/login\.microsoftonline\.com\//, (route) => route.abort('internetdisconnected'));
    await installOfficeStandIn(page, { ...CLASSIC, requirements: { Mailbox: '1.8', NestedAppAuth: '1.1' } });
    await page.route('**/addin/config.json', (route) =>
      route.fulfill({
        json: {
          naa: {
            clientId: '00000000-0000-0000-0000-000000000001',
            authority: 'https://login.microsoftonline.com/organizations',
            scopes: ['api://localhost/x/access_as_user'],
          },
          continuityInboxUrl: null,
        },
      }),
    );
    await page.goto(`${api.url}/addin/taskpane.html`);
    await page.getByTestId('sign-in-microsoft').waitFor();
    await page.getByText('If Microsoft sign-in is down, use your Lifeboat password:').waitFor();
    await screenshot(page, 'sign-in-with-microsoft');
  });

  test('loading: a spinner while the status is on its way', async () => {
    const page = await openPane(CLASSIC);
    await signIn(page);
    await header(page).waitFor();
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    // Hold both ways the status can arrive (REST and the socket's first HTTP handshake).
    for (const url of ['**/api/me/status', '**/socket.io/**']) {
      await page.route(url, async (route) => {
        await held;
        await route.continue();
      });
    }
    await page.reload();
    await page.getByText('Getting your continuity status…').waitFor();
    await page.locator('[data-testid="connection"][data-state="connecting"]').waitFor();
    await screenshot(page, 'status-loading');
    release();
    await header(page).waitFor();
  });

  test('backend unreachable: sign-in says so instead of failing silently', async () => {
    const page = await openPane(CLASSIC);
    await page.route('**/api/**', (route) => route.abort('connectionrefused'));
    await signIn(page);
    await page
      .getByTestId('sign-in-error')
      .getByText(/can't be reached/)
      .waitFor();
    await screenshot(page, 'error-unreachable-sign-in');
  });

  test('signed in but the backend goes away: a clear error with Retry, and the connection shows offline', async () => {
    const page = await openPane(CLASSIC);
    await signIn(page);
    await header(page).waitFor();
    await page.route('**/api/**', (route) => route.abort('connectionrefused'));
    await page.route('**/socket.io/**', (route) => route.abort('connectionrefused'));
    api.cut();
    await page.reload(); // remount, as Outlook does on the next item: pulls over REST again
    await page
      .getByTestId('status-error')
      .getByText(/can't be reached/)
      .waitFor();
    await page.getByTestId('status-error').getByRole('button', { name: 'Retry' }).waitFor();
    await page.locator('[data-testid="connection"][data-state="offline"]').waitFor({ timeout: 30_000 });
    await page
      .getByTestId('connection')
      .getByText(/Offline since \d\d:\d\d/)
      .waitFor();
    await screenshot(page, 'error-unreachable-status');
    api.resume();
  });
});

describe('continuity status', () => {
  let page: Page;
  let network: TcpProxy; // between the browser and the stand-in, so the test can cut the connection
  const event = { id: 'ev-1', description: 'Exchange Online outage', start: '2026-11-22T09:05:00.000Z', end: null };

  beforeAll(async () => {
    api.setStatus({ active: false, events: [] });
    network = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(api.url).port) });
    page = await openPane(CLASSIC, network.url);
    await signIn(page);
  });

  afterAll(async () => {
    await page?.context().close();
    await network?.close();
  });

  test('Normal, live', async () => {
    await page.locator('[data-testid="header-state"][data-state="normal"]').waitFor();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await page
      .getByTestId('last-update')
      .getByText(/Updated \d\d:\d\d/)
      .waitFor();
    await screenshot(page, 'status-normal');
  });

  test('an event starts: Continuity active with the start message, and one banner on the open item', async () => {
    api.setStatus({ active: true, events: [{ ...event, startMessage: 'Keep using Outlook; mail is routed through Lifeboat.' }] });
    await page.locator('[data-testid="header-state"][data-state="active"]').waitFor();
    await header(page).getByText('Exchange Online outage').waitFor();
    await header(page).getByText('Keep using Outlook; mail is routed through Lifeboat.').waitFor();
    await eventually(async () =>
      expect(await standInMessages(page)).toEqual([
        {
          key: 'lifeboat-continuity',
          type: 'informationalMessage',
          message: 'Email continuity is active: Keep using Outlook; mail is routed through Lifeboat.',
          icon: 'Icon.16x16',
          persistent: false,
        },
      ]),
    );
    await screenshot(page, 'status-active');
  });

  test('socket cut, message edited while disconnected, socket back: the pane replays to the new message', async () => {
    const seqBefore = api.current().seq;
    const socketsBefore = api.connectedSockets(); // other panes of this file may still be connected
    network.cut();
    await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
    await screenshot(page, 'status-active-reconnecting');
    await eventually(() => expect(api.connectedSockets()).toBe(socketsBefore - 1)); // the server has noticed too
    const handshakesBefore = api.handshakes.length;
    api.setStatus({ active: true, events: [{ ...event, startMessage: 'Updated: use the continuity inbox for urgent mail.' }] }); // nobody hears this push
    network.resume();
    await header(page).getByText('Updated: use the continuity inbox for urgent mail.').waitFor();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    // The reconnect carried the last seq the pane had seen, so the server knew what to replay.
    expect(api.handshakes.slice(handshakesBefore).map((h) => h.lastSeq)).toContain(seqBefore);
    // Replaced, not duplicated.
    await eventually(async () =>
      expect((await standInMessages(page)).map((m) => m.message)).toEqual(['Email continuity is active: Updated: use the continuity inbox for urgent mail.']),
    );
    await screenshot(page, 'status-active-after-replay');
  });

  test('pinned pane, another item selected: the new item gets the banner too', async () => {
    await selectItem(page, { itemId: 'item-2', subject: 'Lunch?' });
    await eventually(async () => expect(await standInMessages(page, 'item-2')).toHaveLength(1));
  });

  test('End Now: Service restored with the end message, and the banner goes away', async () => {
    api.setStatus({ active: false, events: [{ ...event, end: '2026-11-22T10:40:00.000Z', endMessage: 'Exchange is back. Thank you for your patience.' }] });
    await page.locator('[data-testid="header-state"][data-state="restored"]').waitFor();
    await header(page).getByText('Exchange is back. Thank you for your patience.').waitFor();
    await eventually(async () => expect(await standInMessages(page, 'item-2')).toEqual([]));
    await screenshot(page, 'status-restored');
  });

  test('remount (unpinned pane, next item): the status is pulled over REST, and a stale push is ignored', async () => {
    const pulls = api.statusRequests.length;
    await page.reload();
    await page.locator('[data-testid="header-state"][data-state="restored"]').waitFor();
    expect(api.statusRequests.length).toBeGreaterThan(pulls);
    // Office.js nulls the History API; the pane never needed it.
    await expect(page.evaluate(() => history.pushState)).resolves.toBeNull();
  });
});
