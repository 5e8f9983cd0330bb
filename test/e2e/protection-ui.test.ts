/**
 * END TO END: the admin page's Protection section and the protection marks of the shared reading view,
 * in Chromium against a live Lifeboat (real HTTP, real database, real SMTP receiver, the real verdict
 * pipeline with sender authentication against the DNS stand-in; no rspamd, so partner mail is
 * `unscanned`). The admin changes the tenant mode through its confirmation, adds a targeted policy
 * (first refused, errors beside their fields), opens the quarantine's sandboxed preview and releases a
 * message a user asked for, reads the detections log and chart and downloads the CSV. A user reads an
 * external message in the web inbox, sees its External mark and reports it as phishing; the report
 * appears in the admin's detections log. Each view is screenshotted at laptop and 360 px width and checked with axe.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SYSTEM_CONTEXT } from '../../server/audit/context';
import { createLogger } from '../../server/log';
import { mailModels } from '../../server/mail/model';
import { createReceiver } from '../../server/mail/receiver';
import { storeMessage } from '../../server/mail/store';
import { NO_ENGINES } from '../../server/protection/engines';
import type { ReleasedCopy } from '../../server/protection/mail-side';
import { axeViolations } from '../harness/axe';
import { LAPTOP_VIEWPORT, launchBrowser, screenshot, signInToAdminPage } from '../harness/browser';
import { tenantDirectory, useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { startLiveServer, type LiveServer } from '../harness/live-server';
import { ensurePaneBuilt } from '../harness/pane-build';
import { plainMessage } from '../harness/protection-fixtures';
import { sendOne, simpleMessage } from '../harness/smtp-peers';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

const PHONE = { width: 360, height: 740 };
const ADMIN = { email: 'secops@alpha.test', password: 'protection admin password' };
const USER = { id: 'alpha-u1', email: 'one@alpha.test', password: 'one cloud password long' };

let dns: DnsStandIn;
const released: ReleasedCopy[] = [];
beforeAll(async () => {
  dns = await startDnsStandIn({ 'partner.test': ['v=spf1 ip4:192.0.2.10 -all'], 'alpha.test': ['v=spf1 -all'], '_dmarc.alpha.test': ['v=DMARC1; p=none'] });
});
afterAll(async () => dns?.close());

const ctx = useLifeboat({
  directories: [tenantDirectory('alpha')],
  services: {
    protection: {
      engines: () => NO_ENGINES,
      get dnsServers() {
        return [dns.server];
      },
      deliverReleased: async (copy) => void released.push(copy),
    },
  },
});

async function judged(raw: Buffer, recipient: { address: string; userId: string }, mailFrom: string, clientIp: string, final = false) {
  const messageId = randomUUID();
  const common = { tenantId: 'alpha', messageId, raw: () => raw, envelope: { mailFrom, clientIp, helo: 'mail.partner.test' }, recipients: [recipient] };
  await storeMessage(mailModels(ctx.conn), {
    tenantId: 'alpha',
    messageId,
    direction: 'inbound',
    mailFrom,
    recipients: [{ address: recipient.address, kind: 'user', id: recipient.userId }],
    raw,
    remoteAddress: clientIp,
    receivedAt: new Date(),
  });
  return ctx.services.protection.pipeline.protectInbound(common, { final });
}

describe('Protection in the admin page, and the marks users see', () => {
  let live: LiveServer;
  let receiver: ReturnType<typeof createReceiver>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  async function newPage(viewport = LAPTOP_VIEWPORT) {
    const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC', acceptDownloads: true });
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    return context.newPage();
  }

  /** Screenshots at laptop width and at 360 px (where nothing may scroll sideways), axe at both. */
  async function look(p: Page, name: string) {
    await screenshot(p, `protection-${name}`);
    expect(await axeViolations(p)).toEqual([]);
    const before = p.viewportSize()!;
    await p.setViewportSize(PHONE);
    await p.waitForTimeout(300);
    await screenshot(p, `protection-${name}-phone`);
    expect(await axeViolations(p)).toEqual([]);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await p.setViewportSize(before);
  }

  beforeAll(async () => {
    ensurePaneBuilt();
    live = await startLiveServer(ctx);
    receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent'), maxMessageBytes: 1024 * 1024 });
    const port = await receiver.listen(0, '127.0.0.1');
    await ctx.createAdmin('alpha', 'fullAdministrator', ADMIN.email, ADMIN.password);
    const admin = await ctx.signIn('alpha', 'fullAdministrator');
    await admin.put(`/api/users/${USER.id}/cloud-password`).send({ password: USER.password }).expect(204);
    const setMode = (mode: string, scannerDown = 'hold') =>
      admin
        .put('/api/protection/policies/default%3Aalpha')
        .send({ name: 'Default policy', mode, scannerDown: { action: scannerDown, holdMinutes: 30 } })
        .expect(200);
    await setMode('protect');

    // A forged tenant From (spoof → quarantined) that the user asks to release, and a partner message tagged unscanned.
    const spoof = await judged(
      plainMessage({ from: 'alpha Two <two@alpha.test>', to: USER.email, subject: 'Urgent wire transfer', body: 'Please pay <b>today</b>.\r\n' }),
      { address: USER.email, userId: USER.id },
      'two@alpha.test',
      '203.0.113.66',
    );
    expect(spoof.placements[0].action).toBe('quarantine');
    await ctx.services.protection.quarantine.requestRelease(
      { tenantId: 'alpha', userId: USER.id, email: USER.email, displayName: 'alpha One', via: 'cloudPassword' },
      spoof.placements[0].quarantineId!,
      'It is from our CFO',
      SYSTEM_CONTEXT,
    );
    await judged(
      plainMessage({ from: 'Partner <news@partner.test>', to: USER.email, subject: 'Partner newsletter' }),
      { address: USER.email, userId: USER.id },
      'news@partner.test',
      '192.0.2.10',
      true,
    );

    // An external message in the user's continuity mailbox (through the real receiver, delivered unjudged: Disabled).
    await setMode('disabled');
    const from = 'Prize Desk <prize@lottery.example>';
    await sendOne(port, { from: 'prize@lottery.example', to: [USER.email], message: simpleMessage({ from, to: USER.email, subject: 'You have won a prize' }) });
    await eventually(async () => expect(await mailModels(ctx.conn).mailbox.countDocuments({ tenantId: 'alpha', userId: USER.id })).toBe(1), 30_000);
    // A partner message judged on the mail path: no rspamd, so `unscanned`, delivered tagged at once (the policy says so).
    await setMode('protect', 'tag');
    await sendOne(port, {
      from: 'news@partner.test',
      to: [USER.email],
      message: simpleMessage({ from: 'Partner <news@partner.test>', to: USER.email, subject: 'Partner invoice' }),
    });
    await eventually(async () => expect(await mailModels(ctx.conn).mailbox.countDocuments({ tenantId: 'alpha', userId: USER.id })).toBe(2), 30_000);
    await setMode('protect');
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await receiver?.close();
    await live?.close();
  });

  async function signInAdmin(p: Page) {
    await signInToAdminPage(p, `${live.url}/admin#protection`, ADMIN, { name: 'Protection', exact: true });
  }

  test('mode through a confirmation, a policy with errors shown inline, then saved', async () => {
    const p = await newPage();
    await signInAdmin(p);
    await p.getByTestId('mode-card').getByText('Protection mode: Protect').waitFor();
    await look(p, 'policies');

    await p.getByRole('radio', { name: 'Monitor' }).check();
    await p.getByTestId('mode-change').click();
    await p.getByTestId('mode-consequence').getByText('every message is delivered as received').waitFor();
    await look(p, 'mode-confirm');
    await p.getByTestId('mode-confirm').click();
    await p.getByTestId('mode-card').getByText('Protection mode: Monitor').waitFor();
    expect((await fetchJson(p, '/api/protection/policies')).mode).toBe('monitor');

    await p.getByTestId('policy-add').click();
    const form = p.getByTestId('policy-form');
    await form.getByLabel('Priority (1 is tried first)').fill('0');
    await form.locator('[data-field="recipients.include"]').getByLabel('Kind').selectOption('domain');
    await form.locator('[data-field="recipients.include"]').getByLabel('Domain').fill('not a domain');
    await form.locator('[data-field="recipients.include"]').getByRole('button', { name: 'Add', exact: true }).click();
    await form.getByTestId('policy-save').click();
    await p.getByTestId('error-summary').waitFor();
    await form.getByText('not a domain: must be a domain name').waitFor();
    await look(p, 'policy-errors');

    await form.getByLabel('Name').fill('Finance pilot');
    await form.getByLabel('Priority (1 is tried first)').fill('5');
    await form.getByRole('button', { name: 'Remove not a domain' }).click();
    const recipients = form.locator('[data-field="recipients.include"]');
    await recipients.getByRole('button', { name: 'Add a group…' }).click();
    await p.getByRole('dialog').getByRole('button', { name: 'Select alpha Group' }).click();
    const except = form.locator('[data-field="recipients.exclude"]');
    await except.getByLabel('Email address').fill('two@alpha.test');
    await except.getByRole('button', { name: 'Add', exact: true }).click();
    await form.getByLabel('Phishing').selectOption('tag');
    await form.getByTestId('policy-save').click();
    await p.getByTestId('policy-row').filter({ hasText: 'Finance pilot' }).getByText('To: alpha Group except two@alpha.test').waitFor();
    const saved = (await fetchJson(p, '/api/protection/policies')).policies.find((x: { name: string }) => x.name === 'Finance pilot');
    expect(saved).toMatchObject({
      priority: 5,
      recipients: { include: [{ type: 'group', value: 'alpha-g1' }], exclude: [{ type: 'address', value: 'two@alpha.test' }] },
      actions: { phishing: 'tag' },
    });
    await look(p, 'policy-saved');
  }, 120_000);

  test('quarantine: the user’s request, a sandboxed preview, release with a reason', async () => {
    const p = await newPage();
    await signInAdmin(p);
    await p.getByRole('tab', { name: 'Quarantine' }).click();
    await p.getByTestId('requested-only').click();
    const row = p.getByTestId('quarantine-row').filter({ hasText: 'Urgent wire transfer' });
    await row.getByText('1 asked').waitFor();
    await row.getByRole('button', { name: /^Open/ }).click();
    const preview = p.getByTestId('quarantine-preview');
    await preview.getByText('It is from our CFO').waitFor();
    expect(await p.getByTestId('quarantine-frame').getAttribute('sandbox')).toBe('');
    await p.frameLocator('[data-testid="quarantine-frame"]').getByText('Please pay').waitFor();
    await look(p, 'quarantine-preview');
    await preview.getByTestId('release-reason').fill('Confirmed with the CFO');
    await preview.getByTestId('release').click();
    await p.getByText('No user has asked to release a message shown here.').waitFor();
    expect(released).toEqual([expect.objectContaining({ recipient: USER.email, releasedBy: ADMIN.email })]);
  }, 120_000);

  test('a user sees the External mark and reports phishing; the admin sees it in the detections log, chart and CSV', async () => {
    const inbox = await newPage(PHONE);
    await inbox.goto(`${live.url}/`);
    const form = inbox.getByTestId('sign-in-form');
    await form.getByLabel('Email').fill(USER.email);
    await form.getByLabel('Lifeboat password').fill(USER.password);
    await form.getByRole('button', { name: 'Sign in with password' }).click();
    await inbox.getByTestId('mail-row').filter({ hasText: 'Partner invoice' }).getByTestId('mail-warning-marker').getByText('Not scanned').waitFor();
    await inbox.getByText('Partner invoice').click();
    await inbox.getByTestId('security-banner').getByText('This message could not be scanned').waitFor();
    await inbox.getByTestId('auth-spf').getByText('SPF fail').waitFor();
    await inbox.getByTestId('external-mark').waitFor();
    await look(inbox, 'inbox-tagged');
    await inbox.getByTestId('mail-back').click();
    await inbox.getByText('You have won a prize').click();
    await inbox.getByTestId('external-mark').waitFor();
    await look(inbox, 'inbox-external');
    await inbox.getByTestId('report-phishing').click();
    await inbox.getByTestId('phishing-reported').getByText('Reported').waitFor();
    await look(inbox, 'inbox-reported');

    const p = await newPage();
    await signInAdmin(p);
    await p.getByRole('tab', { name: 'Detections' }).click();
    await p.getByTestId('verdict-chart').waitFor();
    await eventually(async () => expect(await p.getByTestId('detection-row').count()).toBe(4));
    await p.getByTestId('detection-row').filter({ hasText: 'You have won a prize' }).getByText(`by ${USER.email}`).waitFor();
    await p.getByTestId('detection-row').filter({ hasText: 'Urgent wire transfer' }).getByText('Spoof').waitFor();
    await p.getByText('Show the numbers as a table').click();
    await p.getByTestId('verdict-table').waitFor();
    await look(p, 'detections');
    const [download] = await Promise.all([p.waitForEvent('download'), p.getByTestId('detections-csv').click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.startsWith('\uFEFFtime (UTC),kind,verdict')).toBe(true);
    expect(csv).toContain('Urgent wire transfer');
    expect(csv).toContain('You have won a prize');
  }, 120_000);
});

async function fetchJson(p: Page, url: string) {
  return p.evaluate(async (u) => (await fetch(u, { credentials: 'same-origin' })).json(), url);
}
