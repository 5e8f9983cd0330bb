/**
 * Puts the Office host stand-in into a Playwright page: the page's request for
 * /addin/office-js/office.js is answered with office-stand-in.js, and the configuration is set
 * before any page script runs. The pane itself is the real built pane, unchanged.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';

export interface OfficeStandInConfig {
  hostName?: string | null;
  platform?: string | null;
  /** null: the host does not report it (Mailbox < 1.6, or volume-licensed Outlook 2016). */
  accountType?: string | null;
  hostVersion?: string;
  emailAddress?: string;
  displayName?: string;
  /** Requirement sets and their highest version; missing or null means unsupported. */
  requirements?: Record<string, string | null>;
  /** The open item; null for none. Default: a message. */
  item?: { itemId: string; itemType?: string; subject?: string } | ComposeSpec | null;
  /** A plain browser tab: Office.onReady reports no host and there is no mailbox. */
  outsideOutlook?: boolean;
}

export type StandInRecipient = string | { emailAddress: string; displayName?: string };

export interface StandInAttachment {
  name: string;
  contentType?: string;
  /** Base64 content (file attachments). */
  content?: string;
  isInline?: boolean;
  attachmentType?: 'file' | 'item' | 'cloud';
}

/** A message being composed (compose mode). */
export interface ComposeSpec {
  compose: true;
  itemId: string;
  to?: StandInRecipient[];
  cc?: StandInRecipient[];
  bcc?: StandInRecipient[];
  subject?: string;
  /** HTML. */
  body?: string;
  attachments?: StandInAttachment[];
}

export interface ComposeState {
  to: { emailAddress: string; displayName: string }[];
  cc: { emailAddress: string; displayName: string }[];
  bcc: { emailAddress: string; displayName: string }[];
  subject: string;
  body: string;
  attachments: StandInAttachment[];
  closed: boolean;
  discarded: boolean;
}

export interface StandInMessage {
  key: string;
  type: string;
  message: string;
  icon?: string;
  persistent?: boolean;
}

export interface StandInCall {
  itemId?: string;
  method: string;
  args: unknown[];
  outcome?: string;
}

const SCRIPT = readFileSync(path.join(__dirname, 'office-stand-in.js'), 'utf8');

/** The pages' office.js URL (see webpack.config.js). */
export const OFFICE_JS_ROUTE = '**/addin/office-js/office.js';

export async function installOfficeStandIn(page: Page, config: OfficeStandInConfig = {}): Promise<void> {
  await page.addInitScript(
    (c) => {
      (window as unknown as { __LIFEBOAT_OFFICE_STANDIN__: unknown }).__LIFEBOAT_OFFICE_STANDIN__ = c;
    },
    config as Record<string, unknown>,
  );
  await page.route(OFFICE_JS_ROUTE, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: SCRIPT }));
}

export async function standInMessages(page: Page, itemId?: string): Promise<StandInMessage[]> {
  return page.evaluate((id) => (window as unknown as { __officeStandIn: { messages(id?: string): StandInMessage[] } }).__officeStandIn.messages(id), itemId);
}

export async function standInCalls(page: Page): Promise<StandInCall[]> {
  return page.evaluate(() => (window as unknown as { __officeStandIn: { calls: StandInCall[] } }).__officeStandIn.calls.slice());
}

export async function selectItem(page: Page, item: { itemId: string; subject?: string }): Promise<void> {
  await page.evaluate((i) => (window as unknown as { __officeStandIn: { selectItem(i: unknown): void } }).__officeStandIn.selectItem(i), item);
}

type StandInWindow = {
  __officeStandIn: {
    compose(id?: string): ComposeState | null;
    actions(): string[];
    fireSend(name?: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  };
};

/** The draft as the stand-in holds it now (null when the item is not being composed). */
export async function standInCompose(page: Page, itemId?: string): Promise<ComposeState | null> {
  return page.evaluate((id) => (window as unknown as StandInWindow).__officeStandIn.compose(id), itemId);
}

/** Raises OnMessageSend in the page (the commands page) and returns what the handler completed with. */
export async function fireSend(page: Page, handlerName = 'onMessageSendHandler', timeoutMs = 10_000): Promise<Record<string, unknown>> {
  return page.evaluate(([name, ms]) => (window as unknown as StandInWindow).__officeStandIn.fireSend(name as string, ms as number), [
    handlerName,
    timeoutMs,
  ] as const);
}

/** Handler names the page registered with Office.actions.associate. */
export async function standInActions(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as StandInWindow).__officeStandIn.actions());
}
