/**
 * END TO END, mail in the task pane (docs/user-guide.md, "During an outage"): the built pane in Chromium with the Office host
 * stand-in, against the real server process (`server/main.ts`) on a fresh database, with real SMTP
 * peers on loopback: mail goes into Lifeboat's receiver over SMTP, and what the pane sends leaves
 * through the relay peer. Every state is screenshotted into test-artifacts/.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newPanePage, screenshot } from '../harness/browser';
import { testDatabaseUri } from '../harness/context';
import { eventually } from '../harness/eventually';
import { ensurePaneBuilt } from '../harness/pane-build';
import { callAsAdmin, startServer, type ServerProcess } from '../harness/server-process';
import { smtpSession, startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { eventBody, OUTAGE_APP_NOTIFICATIONS } from '../harness/event-fixtures';
import { fireSend, installOfficeStandIn, standInActions, standInCompose, type OfficeStandInConfig } from '../stand-ins/office-host';

const ADMIN = { email: 'it@contoso.test', password: 'first admin password' };
const ADA = { id: 'u-ada', email: 'ada@contoso.test', password: 'Ada cloud password 2026!' };
const BOB = 'Bob Stone <bob@fabrikam.example>';
const CSV = 'quarter,revenue\nQ3,1200\n';

describe('mail in the task pane, against the real backend', () => {
  let server: ServerProcess;
  let smtpPort: number;
  let relay: SmtpPeer;
  let primary: SmtpPeer;
  let browser: Browser;
  let cookie: string;
  let eventId: string;
  let page: Page;
  let composeContext: BrowserContext;
  const contexts: BrowserContext[] = [];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-e2e-mail-'));

  const admin = (method: string, url: string, body?: unknown) => callAsAdmin(server.url, cookie, method, url, body);

  /** Sends messages into Lifeboat's receiver over SMTP, one transaction each; every one must get 250. */
  async function deliver(messages: { to: string; raw: Buffer | string }[]) {
    const s = await smtpSession(smtpPort);
    await s.command('EHLO sender.fabrikam.example');
    for (const m of messages) {
      expect(await s.command('MAIL FROM:<bob@fabrikam.example>')).toMatch(/^250/);
      expect(await s.command(`RCPT TO:<${m.to}>`)).toMatch(/^250/);
      expect(await s.data(m.raw)).toMatch(/^250/);
    }
    await s.quit();
  }

  function mime(options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
    return new MailComposer(options).compile().build();
  }

  async function openPane(config: OfficeStandInConfig, context?: BrowserContext): Promise<Page> {
    let p: Page;
    if (context) p = await context.newPage();
    else {
      const made = await newPanePage(browser);
      contexts.push(made.context);
      p = made.page;
    }
    await installOfficeStandIn(p, { hostName: 'Outlook', platform: 'PC', accountType: 'office365', emailAddress: ADA.email, ...config });
    await p.goto(`${server.url}/addin/taskpane.html`);
    const form = p.getByTestId('sign-in-form');
    await form.getByLabel('Lifeboat password').fill(ADA.password);
    await form.getByRole('button', { name: 'Sign in with password' }).click();
    await p.getByTestId('header-state').waitFor();
    return p;
  }

  const subjectsAtRelay = () => relay.received.map((m) => /^Subject: (.*)$/m.exec(m.raw)?.[1] ?? '');
  /** The relay gets one SMTP transaction per recipient (one delivery-queue row each): who got a subject, sorted. */
  const relayedTo = (subject: string) =>
    relay.received
      .filter((m) => m.raw.match(/^Subject: (.*)$/m)?.[1] === subject)
      .flatMap((m) => m.to)
      .sort();

  beforeAll(async () => {
    ensurePaneBuilt();
    [relay, primary] = await Promise.all([startPeer('accept'), startPeer('accept')]);
    server = await startServer({
      LIFEBOAT_ADMIN_EMAIL: ADMIN.email,
      LIFEBOAT_ADMIN_PASSWORD: ADMIN.password,
      LIFEBOAT_DATA_DIR: dataDir,
      MONGODB_URI: `${testDatabaseUri().replace(/\/$/, '')}/e2e_mail_${Date.now()}`,
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
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await composeContext?.close().catch(() => {});
    await browser?.close();
    await server?.stop();
    await Promise.all([relay?.close(), primary?.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('outside an event: the continuity mailbox is reachable, with a clear note', async () => {
    page = await openPane({ requirements: { Mailbox: '1.8' } });
    await page.locator('[data-testid="header-state"][data-state="normal"]').waitFor();
    await expect(page.getByTestId('mail').count()).resolves.toBe(0);
    await page.getByTestId('mail-open').click();
    await page.getByTestId('mail-inactive-note').getByText('Continuity is not active').waitFor();
    await page.getByTestId('mail-empty').waitFor();
    await screenshot(page, 'mail-outside-event');
    await page.getByTestId('mail-close').click();
    await page.getByTestId('mail-open').waitFor();
  });

  test('an event starts → Inbox opens by itself (empty so far), times in the event zone', async () => {
    const event = (await admin(
      'POST',
      '/api/events',
      eventBody('Exchange Online outage', 0, { timeZone: 'Asia/Tokyo', expandDistributionLists: true, appNotifications: OUTAGE_APP_NOTIFICATIONS }),
    )) as { id: string };
    eventId = event.id;
    await page.locator('[data-testid="header-state"][data-state="active"]').waitFor();
    await page
      .getByTestId('mail-empty')
      .getByText(/^No messages since the outage began\./)
      .waitFor();
    await expect(page.getByTestId('mail-zone').textContent()).resolves.toMatch(/^Since \w{3} \d+ \w{3} \d{4}, \d\d:\d\d GMT\+9\. Times in Asia\/Tokyo\./);
    await expect(page.getByTestId('mail-inactive-note').count()).resolves.toBe(0);
    await page.getByTestId('tab-sent').click();
    await page.getByTestId('mail-empty').getByText('Nothing sent through Lifeboat yet.').waitFor();
    await screenshot(page, 'mail-sent-empty');
    await page.getByTestId('tab-inbox').click();
    await page.getByTestId('mail-empty').waitFor();
    await screenshot(page, 'mail-inbox-empty');
  });

  test('mail delivered by SMTP shows in the inbox: newest first, sender, subject, date, preview, via group, attachment marker', async () => {
    const sent = new Date('2026-11-20T01:30:00Z'); // 10:30 in Tokyo
    await deliver([
      {
        to: ADA.email,
        raw: await mime({
          from: BOB,
          to: `Ada Park <${ADA.email}>, ben@contoso.test`,
          cc: 'chloe@contoso.test',
          subject: 'Q3 numbers',
          date: sent,
          html: '<p>Numbers for <b>Q3</b> attached.</p><script>document.title="owned"</script><img src="https://tracker.example/p.gif">',
          text: 'Numbers for Q3 attached.',
          attachments: [{ filename: 'numbers.csv', content: CSV, contentType: 'text/csv' }],
        }),
      },
    ]);
    await deliver([
      {
        to: 'sales@contoso.test',
        raw: await mime({ from: BOB, to: 'sales@contoso.test', subject: 'Price list for the sales team', text: 'New prices from Monday.' }),
      },
    ]);
    await page.getByTestId('mail-refresh').click();
    const rows = page.getByTestId('mail-row');
    await eventually(
      async () => {
        await page.getByTestId('mail-refresh').click();
        await new Promise((r) => setTimeout(r, 300));
        expect(await rows.count()).toBe(2);
      },
      30_000,
      500,
    );
    // Newest first: the group message arrived last.
    await expect(rows.nth(0).textContent()).resolves.toContain('Price list for the sales team');
    await expect(rows.nth(0).getByTestId('mail-via').textContent()).resolves.toBe('via Sales');
    const q3 = rows.nth(1);
    await expect(q3.textContent()).resolves.toContain('Bob Stone');
    await expect(q3.textContent()).resolves.toContain('Numbers for Q3 attached.');
    await expect(q3.getByTestId('mail-attachment-marker').count()).resolves.toBe(1);
    await expect(q3.getByTestId('mail-date').textContent()).resolves.toBe('20 Nov');
    await expect(q3.getAttribute('title')).resolves.toBe('Fri 20 Nov 2026, 10:30 GMT+9');
    await screenshot(page, 'mail-inbox');
  });

  test('reading view: sanitised HTML in a sandboxed iframe without scripts; the attachment downloads', async () => {
    await page.getByTestId('mail-row').nth(1).click();
    const reading = page.getByTestId('reading');
    await reading.getByTestId('reading-subject').getByText('Q3 numbers').waitFor();
    await expect(reading.getByTestId('reading-date').textContent()).resolves.toBe('Fri 20 Nov 2026, 10:30 GMT+9');
    const frame = reading.getByTestId('reading-body');
    const sandbox = await frame.getAttribute('sandbox');
    expect(sandbox).not.toBeNull();
    expect(sandbox).not.toContain('allow-scripts');
    expect(sandbox).not.toContain('allow-same-origin');
    const srcdoc = (await frame.getAttribute('srcdoc'))!;
    expect(srcdoc).toContain('Numbers for <b>Q3</b> attached.');
    expect(srcdoc).not.toContain('<script');
    expect(srcdoc).not.toContain('tracker.example');
    await page.frameLocator('[data-testid="reading-body"]').getByText('attached.').waitFor();
    expect(await page.title()).not.toBe('owned');
    const [download] = await Promise.all([page.waitForEvent('download'), reading.getByTestId('attachment').click()]);
    expect(download.suggestedFilename()).toBe('numbers.csv');
    expect(readFileSync((await download.path())!, 'utf8')).toBe(CSV);
    await screenshot(page, 'mail-reading');
  });

  test('reply → recipients, "Re:" and the quoted original prefilled → sent through the relay → delivery status from the sent copy', async () => {
    await page.getByTestId('reply').click();
    const compose = page.getByTestId('compose');
    await expect(compose.getByTestId('compose-to').inputValue()).resolves.toBe('bob@fabrikam.example');
    await expect(compose.getByTestId('compose-cc').inputValue()).resolves.toBe('');
    await expect(compose.getByTestId('compose-subject').inputValue()).resolves.toBe('Re: Q3 numbers');
    await expect(compose.getByTestId('compose-quoted').getAttribute('srcdoc')).resolves.toContain(
      'On Fri 20 Nov 2026, 10:30 GMT+9, Bob Stone &lt;bob@fabrikam.example&gt; wrote:',
    );
    await page.frameLocator('[data-testid="compose-quoted"]').getByText('Numbers for').waitFor();
    await compose.getByTestId('compose-body').fill('Thanks Bob,\n\nreceived during the outage.');
    // A frame below the fold is painted only once scrolled to (full-page screenshots would show it blank).
    await compose.getByTestId('compose-quoted').scrollIntoViewIfNeeded();
    await screenshot(page, 'mail-reply-compose');
    await compose.getByTestId('compose-send').click();
    await page.getByTestId('sent-notice').waitFor();
    const delivery = page.locator('[data-testid="delivery"][data-recipient="bob@fabrikam.example"]');
    await delivery.waitFor();
    await page.locator('[data-testid="delivery"][data-state="sent"]').waitFor({ timeout: 30_000 });
    await expect(delivery.textContent()).resolves.toMatch(/Accepted by the receiving server: 250/);
    await screenshot(page, 'mail-sent-status');
    expect(relayedTo('Re: Q3 numbers')).toEqual(['bob@fabrikam.example']);
    const out = relay.received.find((m) => /^Subject: Re: Q3 numbers$/m.test(m.raw))!;
    expect(out.to).toEqual(['bob@fabrikam.example']);
    expect(out.from).toBe(ADA.email);
    expect(out.raw).toMatch(/received during the outage/);
    expect(out.raw.replace(/=\r?\n/g, '')).toMatch(/wrote:/);
    // In the original's conversation: threaded from the message as stored.
    expect(out.raw).toMatch(/^In-Reply-To: <[^<>\s]+>\r?$/m);
    // The Sent folder lists it.
    await page.getByTestId('mail-back').click();
    await page
      .getByTestId('mail-list')
      .filter({ has: page.getByText('Re: Q3 numbers') })
      .waitFor();
  });

  test('reply all, with a lost answer and a retried click: sent once', async () => {
    await page.getByTestId('tab-inbox').click();
    await page.getByTestId('mail-row').filter({ hasText: 'Q3 numbers' }).click();
    await page.getByTestId('reply-all').click();
    const compose = page.getByTestId('compose');
    await expect(compose.getByTestId('compose-to').inputValue()).resolves.toBe('bob@fabrikam.example, ben@contoso.test');
    await expect(compose.getByTestId('compose-cc').inputValue()).resolves.toBe('chloe@contoso.test');
    await compose.getByTestId('compose-subject').fill('Re: Q3 numbers (all)');
    await compose.getByTestId('compose-body').fill('Copying everyone.');
    // The server gets the first request and sends; the answer is lost on the way back.
    let posts = 0;
    await page.route('**/api/me/messages', async (route) => {
      posts++;
      if (posts === 1) {
        await route.fetch();
        await route.abort('connectionreset');
      } else await route.continue();
    });
    await compose.getByTestId('compose-send').click();
    await compose
      .getByTestId('compose-error')
      .getByText(/press Send again \(it will be sent only once\)/)
      .waitFor();
    await screenshot(page, 'mail-send-error');
    await compose.getByTestId('compose-send').click();
    await page.getByTestId('sent-notice').waitFor();
    await page.unroute('**/api/me/messages');
    expect(posts).toBe(2);
    await page.locator('[data-testid="delivery"][data-recipient="ben@contoso.test"]').waitFor();
    const everyone = ['ben@contoso.test', 'bob@fabrikam.example', 'chloe@contoso.test'];
    await eventually(() => expect(relayedTo('Re: Q3 numbers (all)')).toEqual(everyone), 20_000);
    await new Promise((r) => setTimeout(r, 2500)); // a second copy would have been delivered by now
    expect(relayedTo('Re: Q3 numbers (all)')).toEqual(everyone);
  });

  test('forward carries the attachment; "Fw:" once', async () => {
    await page.getByTestId('mail-back').click();
    await page.getByTestId('tab-inbox').click();
    await page.getByTestId('mail-row').filter({ hasText: 'Q3 numbers' }).click();
    await page.getByTestId('forward').click();
    const compose = page.getByTestId('compose');
    await expect(compose.getByTestId('compose-to').inputValue()).resolves.toBe('');
    await expect(compose.getByTestId('compose-subject').inputValue()).resolves.toBe('Fw: Q3 numbers');
    await compose.getByTestId('compose-forwarded-attachments').getByText('numbers.csv').waitFor();
    await compose.getByTestId('compose-to').fill('not an address');
    await compose.getByTestId('compose-send').click();
    await compose.getByText('Not an email address: not an address').waitFor();
    await compose.getByTestId('compose-to').fill('Dana <dana@fabrikam.example>');
    await compose.getByTestId('compose-send').click();
    await page.getByTestId('sent-notice').waitFor();
    await eventually(() => expect(subjectsAtRelay()).toContain('Fw: Q3 numbers'), 20_000);
    const out = relay.received.find((m) => /^Subject: Fw: Q3 numbers$/m.test(m.raw))!;
    expect(out.to).toEqual(['dana@fabrikam.example']);
    expect(out.raw).toMatch(/filename=numbers\.csv/);
    expect(out.raw).toContain(Buffer.from(CSV).toString('base64'));
  });

  test('error state: the mailbox cannot be read → a clear error with Retry', async () => {
    await page.route('**/api/me/mailbox?*', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/problem+json',
        body: JSON.stringify({ title: 'Service Unavailable', status: 503, detail: 'The mailbox store is not reachable right now.' }),
      }),
    );
    await page.getByTestId('mail-back').click();
    await page.getByTestId('tab-inbox').click();
    await page.getByTestId('mail-list').waitFor();
    await page.getByTestId('mail-refresh').click();
    await page.getByTestId('mail-error').getByText('The mailbox store is not reachable right now.').waitFor();
    await screenshot(page, 'mail-error');
    await page.unroute('**/api/me/mailbox?*');
    await page.getByTestId('mail-error').getByRole('button', { name: 'Retry' }).click();
    await page.getByTestId('mail-list').waitFor();
    await expect(page.getByTestId('mail-error').count()).resolves.toBe(0);
  });

  test('Load more pages through the inbox by cursor', async () => {
    const batch = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        mime({ from: BOB, to: ADA.email, subject: `Bulk ${String(i + 1).padStart(2, '0')}`, text: `Bulk message ${i + 1}` }),
      ),
    );
    await deliver(batch.map((raw) => ({ to: ADA.email, raw })));
    const rows = page.getByTestId('mail-row');
    // 52 messages in all: a page of 50, then the rest. Routing follows the 250s, so refresh until the
    // last one sent is in (routing goes in arrival order).
    await eventually(
      async () => {
        await page.getByTestId('mail-refresh').click();
        await page.getByTestId('mail-more').waitFor({ timeout: 2000 });
        expect(await rows.nth(0).textContent()).toContain('Bulk 50');
      },
      150_000,
      500,
    );
    await expect(rows.count()).resolves.toBe(50);
    await expect(rows.nth(0).textContent()).resolves.toContain('Bulk 50');
    await page.getByTestId('mail-more').click();
    await eventually(async () => expect(await rows.count()).toBe(52));
    await expect(rows.nth(51).textContent()).resolves.toContain('Q3 numbers');
    await expect(page.getByTestId('mail-more').count()).resolves.toBe(0);
  }, 180_000);

  describe('compose mode', () => {
    const draft = {
      compose: true as const,
      itemId: 'draft-1',
      to: [{ emailAddress: 'erin@fabrikam.example', displayName: 'Erin' }],
      cc: ['ben@contoso.test'],
      bcc: ['audit@fabrikam.example'],
      subject: 'Contract draft',
      body: '<p>Please review the <i>attached</i> contract.</p>',
      attachments: [{ name: 'contract.txt', contentType: 'text/plain', content: Buffer.from('Contract v1').toString('base64') }],
    };

    test('Send via Lifeboat: reads the draft, posts it with its attachment, discards the Outlook draft', async () => {
      ({ context: composeContext } = await newPanePage(browser));
      const pane = await openPane({ requirements: { Mailbox: '1.14' }, item: draft }, composeContext);
      const card = pane.getByTestId('send-via-lifeboat');
      await card.getByText(/Outlook cannot deliver mail during the outage/).waitFor();
      await screenshot(pane, 'send-via-lifeboat');
      // Hold the request a moment so the progress can be seen.
      await pane.route('**/api/me/messages', async (route) => {
        await new Promise((r) => setTimeout(r, 1500));
        await route.continue();
      });
      await card.getByTestId('send-via-lifeboat-button').click();
      await card
        .getByTestId('send-progress')
        .getByText(/Sending to 3 recipients with 1 attachment/)
        .waitFor();
      await screenshot(pane, 'send-via-lifeboat-progress');
      await card.getByTestId('send-result').getByText('Sent via Lifeboat').waitFor();
      await card.getByText(/The Outlook draft was discarded/).waitFor();
      await pane.unroute('**/api/me/messages');
      await eventually(() => expect(subjectsAtRelay()).toContain('Contract draft'), 20_000);
      await eventually(() => expect(relayedTo('Contract draft')).toEqual(['audit@fabrikam.example', 'ben@contoso.test', 'erin@fabrikam.example']), 20_000);
      const out = relay.received.find((m) => /^Subject: Contract draft$/m.test(m.raw))!;
      expect(out.raw).not.toMatch(/^Bcc:/m);
      expect(out.raw).toMatch(/filename=contract\.txt/);
      expect(out.raw).toContain(Buffer.from('Contract v1').toString('base64'));
      expect(out.raw.replace(/=\r?\n/g, '')).toContain('<i>attached</i>');
      const state = (await standInCompose(pane, 'draft-1'))!;
      expect(state).toMatchObject({ closed: true, discarded: true });
      await expect(card.getByTestId('delivery').count()).resolves.toBe(3);
      await eventually(async () => expect(await card.locator('[data-testid="delivery"][data-state="sent"]').count()).toBe(3), 30_000, 250);
      await screenshot(pane, 'send-via-lifeboat-result');
    });

    test('older Outlook (Mailbox 1.8, no closeAsync): the draft is emptied, then closed', async () => {
      const pane = await openPane(
        { requirements: { Mailbox: '1.8' }, item: { ...draft, itemId: 'draft-2', subject: 'Contract draft (older Outlook)' } },
        composeContext,
      );
      await pane.getByTestId('send-via-lifeboat-button').click();
      await pane
        .getByTestId('send-result')
        .getByText(/emptied and closed/)
        .waitFor();
      expect(await standInCompose(pane, 'draft-2')).toMatchObject({ to: [], cc: [], bcc: [], subject: '', body: '', closed: true, discarded: false });
      await eventually(() => expect(subjectsAtRelay()).toContain('Contract draft (older Outlook)'), 20_000);
      await pane.close();
    });

    test('OnMessageSend blocks Outlook’s own send during the event (also from the cached status), and allows it after End Now', async () => {
      // Classic Outlook on Windows loads the handler from the manifest's JSRuntime.Url.
      const script = await fetch(`${server.url}/addin/launchevent.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
      expect(await script.text()).toContain('onMessageSendHandler');
      const commands = await composeContext.newPage();
      await installOfficeStandIn(commands, { hostName: 'Outlook', platform: 'PC', requirements: { Mailbox: '1.14' }, item: { ...draft, itemId: 'draft-3' } });
      await commands.goto(`${server.url}/addin/commands.html`);
      await eventually(async () => expect(await standInActions(commands)).toContain('onMessageSendHandler'));
      const blocked = await fireSend(commands);
      expect(blocked).toMatchObject({ allowEvent: false, cancelLabel: 'Send via Lifeboat', commandId: 'lifeboatComposeButton' });
      expect(String(blocked.errorMessage)).toMatch(/Send via Lifeboat/);
      // The backend unreachable: the status the pane cached still blocks.
      await commands.route('**/api/me/status', (route) => route.abort('connectionrefused'));
      await expect(fireSend(commands)).resolves.toMatchObject({ allowEvent: false });
      await commands.unroute('**/api/me/status');

      await admin('POST', `/api/events/${eventId}/end`);
      await page.locator('[data-testid="header-state"][data-state="restored"]').waitFor();
      await expect(fireSend(commands)).resolves.toEqual({ allowEvent: true });
      // After the end the open mailbox stays (nothing being written is lost), now with the note; Close puts it away.
      await page.getByTestId('mail-inactive-note').waitFor();
      await page.getByTestId('mail-close').click();
      await page.getByTestId('mail-open').waitFor();
      await commands.close();
    });
  });
});
