/**
 * Debian's Chromium driven by playwright-core (no downloaded browser builds): launch, a page at
 * task-pane size, screenshots into test-artifacts/ (git-ignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.LIFEBOAT_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
/** Outlook's task pane is about this wide. */
export const PANE_VIEWPORT = { width: 350, height: 720 };

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install -y chromium (or set LIFEBOAT_CHROMIUM)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** A fresh context (own storage) and page at task-pane size. */
export async function newPanePage(browser: Browser, viewport = PANE_VIEWPORT): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  return { context, page };
}

export const LAPTOP_VIEWPORT = { width: 1280, height: 800 };

/** A fresh context and page for the admin page at laptop size (downloads allowed: CSV exports are tested). */
export async function newAdminPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: LAPTOP_VIEWPORT, locale: 'en-US', timezoneId: 'UTC', acceptDownloads: true });
  context.setDefaultTimeout(10_000);
  return context.newPage();
}

/** Saves a full-page PNG as test-artifacts/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Opens the admin page at `url` (its #section or none), signs in through its form and waits for the heading
 * of the section it opens on.
 */
export async function signInToAdminPage(
  page: Page,
  url: string,
  who: { email: string; password: string },
  heading: { name: string; exact?: boolean } = { name: 'Continuity events' },
): Promise<void> {
  await page.goto(url);
  const form = page.getByTestId('admin-sign-in');
  await form.getByLabel('Email').fill(who.email);
  await form.getByLabel('Cloud password').fill(who.password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', heading).waitFor();
}
