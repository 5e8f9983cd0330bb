/**
 * END TO END, "Sign in with Microsoft" in the web continuity inbox: Chromium at laptop and phone width
 * (360 px) against the real server (HTTP, the built inbox) and the HTTPS Entra stand-in's authorize page.
 * The button appears only for an address whose organisation has an Entra connection (a sentence says why
 * not otherwise); the browser goes to Entra, signs in, comes back signed in; a stale callback lands on a
 * page that says what to do. Axe on every view, every view screenshotted into test-artifacts/.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { axeViolations } from '../harness/axe';
import { LAPTOP_VIEWPORT, launchBrowser, screenshot } from '../harness/browser';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { startLiveServer, type LiveServer } from '../harness/live-server';
import { ensurePaneBuilt } from '../harness/pane-build';
import { connectAndSync, useGraphStandIns } from '../harness/graph-stand-ins';
import { StandInWorld } from '../stand-ins/entra';

const PHONE = { width: 360, height: 740 };
const SECRET = 'inbox-entra-e2e-secret-1234';
const CLIENT_ID = '61111111-2222-4333-8444-555555555555';
const world = new StandInWorld();
const contoso = world.addTenant('cccccccc-0000-4000-8000-000000000004');
contoso.domains = [{ id: 'contoso.example', isVerified: true, isDefault: true }];
contoso.putUser({ id: 'ana', displayName: 'Ana Lima', mail: 'ana@contoso.example', userPrincipalName: 'ana@contoso.example' });
const app = contoso.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['User.Read.All', 'Group.Read.All', 'Domain.Read.All'] });

const standIns = useGraphStandIns(world);
let port = 0;
beforeAll(async () => {
  // The public URL (and so the redirect URI the app registers) must be known before the services are built.
  port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  app.redirectUris = [`http://127.0.0.1:${port}/auth/entra/callback`];
});

const ctx = useLifeboat({
  graph: standIns.graph,
  services: {
    get publicUrl() {
      return `http://127.0.0.1:${port}`;
    },
  },
});

describe('web inbox: Sign in with Microsoft', () => {
  let live: LiveServer;
  let browser: Browser;

  async function look(page: Page, name: string, width: number) {
    await screenshot(page, name);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    expect(await axeViolations(page)).toEqual([]);
  }

  beforeAll(async () => {
    ensurePaneBuilt();
    const admin = await ctx.signIn('alpha', 'fullAdministrator', 'owner@alpha.test');
    await connectAndSync(admin, { entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET });
    live = await startLiveServer(ctx, { port });
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await live?.close();
  });

  for (const [label, viewport] of [
    ['laptop', LAPTOP_VIEWPORT],
    ['phone', PHONE],
  ] as const) {
    test(`signs in through Entra's page and comes back signed in (${label})`, async () => {
      // The stand-in's certificate is trusted by Node through NODE_EXTRA_CA_CERTS, not by Chromium.
      const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC', ignoreHTTPSErrors: true });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      try {
        await page.goto(`${live.url}/`);
        const form = page.getByTestId('sign-in-form');
        await expect(page.getByTestId('sign-in-note').textContent()).resolves.toMatch(/type your work email address/);
        await look(page, `inbox-entra-type-first-${label}`, viewport.width);

        // An organisation without an Entra connection: no button, and a sentence why.
        await form.getByLabel('Email').fill('one@beta.test');
        await eventually(async () => expect(await page.getByTestId('sign-in-note').textContent()).toMatch(/not connected Lifeboat to Microsoft Entra ID/));
        expect(await page.getByTestId('sign-in-microsoft').count()).toBe(0);
        await look(page, `inbox-entra-not-offered-${label}`, viewport.width);

        await form.getByLabel('Email').fill('ana@contoso.example');
        const button = page.getByTestId('sign-in-microsoft');
        await button.waitFor();
        await look(page, `inbox-entra-offered-${label}`, viewport.width);
        await button.click();

        // Entra's page (the stand-in): the address is already filled in from the login hint.
        await page.waitForURL((url) => url.origin === standIns.loginUrl);
        expect(await page.locator('#username').inputValue()).toBe('ana@contoso.example');
        await screenshot(page, `inbox-entra-authorize-${label}`);
        await page.locator('#sign-in').click();

        await page.getByTestId('header-state').waitFor();
        expect(await page.getByTestId('signed-in-as').textContent()).toContain('ana@contoso.example');
        expect(new URL(page.url()).search).toBe('');
        await look(page, `inbox-entra-signed-in-${label}`, viewport.width);

        // The same answer from Entra again (back button, a bookmarked callback): a page that says what to do.
        await page.goto(`${live.url}/auth/entra/callback?code=used&state=old`);
        await page.getByRole('heading', { name: 'This sign-in has expired' }).waitFor();
        await look(page, `inbox-entra-expired-${label}`, viewport.width);
        await page.getByRole('link', { name: 'Back to your continuity inbox' }).click();
        await page.getByTestId('header-state').waitFor();
      } finally {
        await context.close();
      }
    }, 120_000);
  }
});
