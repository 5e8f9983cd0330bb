/**
 * END TO END: the admin page's Threat Scan section in Chromium, against a live Lifeboat (push over
 * Socket.IO) and the HTTPS Graph stand-in: start a scan of every mailbox, watch it finish (progress
 * pushed), read the report, Remove Threats into the Lifeboat Quarantine folder and undo it, the hard
 * delete confirmation (cancelled), and the Exchange Online PowerShell with its explanations and undo.
 * Screenshots at laptop and phone width; axe on every state. The judge is a small real one (GTUBE →
 * spam) so the report has threats without starting rspamd here.
 */
import type { Browser, Page } from 'playwright-core';
import type request from 'supertest';
import { axeViolations } from '../harness/axe';
import { LAPTOP_VIEWPORT, launchBrowser, newAdminPage, screenshot, signInToAdminPage } from '../harness/browser';
import { TEST_PASSWORD, useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { startLiveServer, type LiveServer } from '../harness/live-server';
import { ensurePaneBuilt } from '../harness/pane-build';
import { connectAndSync, useGraphStandIns } from '../harness/graph-stand-ins';
import { StandInWorld } from '../stand-ins/entra';
import type { MessageJudge } from '../../server/threat-scan/judge';

const CLIENT_ID = '51111111-2222-4333-8444-555555555555';
const SECRET = 'scan-page-secret-value-1234';
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const PHONE = { width: 360, height: 780 };

const judge: MessageJudge = {
  async judge(raw) {
    return raw.toString('latin1').includes(GTUBE) ? { verdict: 'spam', evidence: { symbols: ['GTUBE'] } } : { verdict: 'clean', evidence: {} };
  },
};

const world = new StandInWorld();
const contoso = world.addTenant('eeeeeeee-0000-4000-8000-000000000001');
contoso.domains = [{ id: 'contoso.example', isVerified: true, isDefault: true }];
for (const [id, name] of [
  ['ana', 'Ana Lopez'],
  ['ben', 'Ben Ortiz'],
]) {
  contoso.putUser({ id, displayName: name, mail: `${id}@contoso.example`, userPrincipalName: `${id}@contoso.example` });
  for (let n = 0; n < 6; n++)
    contoso
      .mailbox(id)
      .deliver(
        [
          `From: sender${n}@partner.example`,
          `To: ${id}@contoso.example`,
          `Subject: ${n % 3 === 0 ? 'Cheap offer' : 'Project notes'} ${n}`,
          '',
          n % 3 === 0 ? GTUBE : 'hello',
          '',
        ].join('\r\n'),
        new Date(Date.now() - (n + 1) * 3_600_000),
      );
}
contoso.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Directory.Read.All', 'Application.Read.All', 'Mail.ReadWrite'] });

const standIns = useGraphStandIns(world);

const ctx = useLifeboat({
  graph: standIns.graph,
  services: { threatScan: { judge, pollMs: 50, pageSize: 4 } },
});

describe('admin page: Threat Scan', () => {
  let live: LiveServer;
  let browser: Browser;
  let page: Page;
  let admin: request.Agent;

  async function shoot(name: string) {
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, name);
    await page.setViewportSize(PHONE);
    await page.waitForTimeout(300);
    await screenshot(page, `${name}-phone`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(await axeViolations(page)).toEqual([]);
    await page.setViewportSize(LAPTOP_VIEWPORT);
  }

  beforeAll(async () => {
    ensurePaneBuilt();
    admin = await ctx.signIn('alpha', 'fullAdministrator', 'owner@alpha.test');
    await connectAndSync(admin, { entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET });
    await ctx.createAdmin('alpha', 'fullAdministrator', 'it@alpha.test', TEST_PASSWORD);
    live = await startLiveServer(ctx);
    ctx.services.threatScan.start();
    browser = await launchBrowser();
    page = await newAdminPage(browser);
    await signInToAdminPage(page, `${live.url}/admin`, { email: 'it@alpha.test', password: TEST_PASSWORD });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await ctx.services.threatScan.stop();
    await live?.close();
  });

  test('start a scan, watch it finish live, read the report', async () => {
    await page.getByRole('tab', { name: 'Threat Scan' }).click();
    await page.getByRole('heading', { name: 'Threat Scan' }).waitFor();
    await page.getByText('Updates: live').waitFor();
    await shoot('threat-scan-empty');
    await page.getByLabel('Days of mail (1–30)').fill('7');
    await page.getByRole('button', { name: 'Start scan' }).click();
    // Progress arrives over the socket: no reload, the report appears when the scan finishes.
    await page.getByText('State: finished').waitFor({ timeout: 60_000 });
    await expectFigure(page, 'Mailboxes', '2 of 2');
    await expectFigure(page, 'Messages scanned', '12');
    await expectFigure(page, 'Threats found', '4');
    await page.getByTestId('threat').first().waitFor();
    expect(await page.getByTestId('threat').count()).toBe(4);
    expect(await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href')).toMatch(/\/report\.csv$/);
    await shoot('threat-scan-report');
  });

  test('Remove Threats moves them to the Lifeboat Quarantine folder, Undo puts them back; hard delete asks first', async () => {
    await page.getByRole('button', { name: 'Remove Threats' }).click();
    await page.getByTestId('remediation').getByText('4 done, 0 failed of 4 — finished.').waitFor({ timeout: 30_000 });
    const folder = contoso.mailbox('ana').folders.find((f) => f.displayName === 'Lifeboat Quarantine')!;
    expect(contoso.mailbox('ana').messages.filter((m) => m.parentFolderId === folder.id)).toHaveLength(2);
    // The buttons come back once it finished; let their colour transition end before axe measures contrast.
    await eventually(async () => expect(await page.getByRole('button', { name: 'Undo' }).isEnabled()).toBe(true));
    await page.waitForTimeout(500);
    await shoot('threat-scan-removed');
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByTestId('remediation').getByText('Undo: 4 done').waitFor({ timeout: 30_000 });
    await eventually(() => expect(contoso.mailbox('ana').messages.every((m) => m.parentFolderId === 'inbox')).toBe(true));

    await page.getByRole('radio', { name: /Delete permanently/ }).check();
    await page.getByRole('button', { name: 'Remove Threats' }).click();
    await page.getByRole('dialog', { name: 'Delete the threats permanently?' }).waitFor();
    await page.waitForTimeout(500); // the dialog fades in: axe measures contrast once it is opaque
    await shoot('threat-scan-hard-delete-confirm');
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(contoso.mailbox('ana').messages).toHaveLength(6);
  });

  test('continuous protection: off in Disabled, on by default in Protect, why, and the opt-out', async () => {
    // The previous test's cancelled dialog fades out first (until then the page behind it is aria-hidden).
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await eventually(async () => expect(await page.locator('#root[aria-hidden="true"]').count()).toBe(0));
    let card = page.getByTestId('continuous-protection');
    await card.scrollIntoViewIfNeeded();
    // The test tenant starts in Disabled mode: off, and the page says why.
    await card.getByTestId('continuous-state').getByText('Off').waitFor();
    expect(await card.getByTestId('continuous-reason').textContent()).toMatch(/mode is Disabled/);
    await shoot('threat-scan-continuous-disabled');
    await admin.put('/api/protection/policies/default:alpha').send({ name: 'Default policy', mode: 'protect' }).expect(200);
    await page.getByRole('tab', { name: 'Readiness' }).click();
    await page.getByRole('tab', { name: 'Threat Scan' }).click();
    card = page.getByTestId('continuous-protection');
    await card.getByTestId('continuous-state').getByText('On').waitFor();
    expect(await card.getByTestId('continuous-reason').textContent()).toMatch(/On by default: the tenant’s mode is Protect/);
    await card.scrollIntoViewIfNeeded();
    await shoot('threat-scan-continuous-on');
    await card.getByRole('button', { name: 'Switch off' }).click();
    await card.getByTestId('continuous-state').getByText('Off').waitFor();
    expect(await card.getByTestId('continuous-reason').textContent()).toMatch(/switched it off/);
    await page.waitForTimeout(500);
    await shoot('threat-scan-continuous-off');
    await card.getByRole('button', { name: 'Switch on' }).click();
    await card.getByTestId('continuous-state').getByText('On').waitFor();
  });

  test('the Exchange Online PowerShell, each line explained, with its undo', async () => {
    await page.getByLabel("Lifeboat's SMTP host name").fill('mx.lifeboat.example');
    await page.getByLabel('ARC sealing domain').fill('lifeboat.example');
    await page.getByRole('checkbox', { name: 'Inbound mail is routed through Lifeboat' }).check();
    await page.getByRole('button', { name: 'Show PowerShell' }).click();
    const apply = page.getByTestId('powershell-apply');
    await apply.waitFor();
    expect(await apply.locator('li').count()).toBeGreaterThan(3);
    expect(await apply.textContent()).toContain('New-InboundConnector');
    expect(await page.getByTestId('powershell-undo').textContent()).toContain('Remove-TransportRule');
    await page.getByTestId('powershell-apply').scrollIntoViewIfNeeded();
    await shoot('threat-scan-powershell');
  });
});

async function expectFigure(page: Page, label: string, value: string) {
  await eventually(async () => expect(await page.getByTestId(`scan-${label}`).locator('dd').textContent()).toBe(value));
}
