/**
 * How a stored message appears in a mailbox (the summary kept on each copy: from, to, subject,
 * preview) and the deterministic keys of its copies and delivery rows (writing them again is harmless).
 */
import { compile } from 'html-to-text';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import type { MailboxEntryRecord, MailMessageRecord } from './model';

function addressList(a: AddressObject | AddressObject[] | undefined): string[] {
  if (!a) return [];
  return (Array.isArray(a) ? a : [a]).flatMap((o) => o.value.map((v) => (v.name ? `${v.name} <${v.address ?? ''}>` : (v.address ?? '')))).filter(Boolean);
}

/**
 * An HTML-only body as text, with one converter compiled once: mailparser's own conversion compiles one per
 * message (a third of its parse), so the mail path parses with skipHtmlToText and converts here.
 */
const htmlAsText = compile({
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
  ],
});
const bodyTexts = new WeakMap<ParsedMail, string>();

/** The message's body as one line of text (the text part, else the HTML part's text), once per parse. */
export function bodyText(parsed: ParsedMail): string {
  let text = bodyTexts.get(parsed);
  if (text === undefined) {
    text = (parsed.text || (parsed.html ? htmlAsText(parsed.html) : '')).replace(/\s+/g, ' ').trim();
    bodyTexts.set(parsed, text);
  }
  return text;
}

/** Parses a message for its mailbox copy (summary and search text): no HTML rendering, bodyText converts. */
export const parseForMailbox = (raw: Buffer) => simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });

export function summary(parsed: ParsedMail) {
  const text = bodyText(parsed);
  return {
    from: parsed.from?.text ?? '',
    to: addressList(parsed.to),
    cc: addressList(parsed.cc),
    subject: parsed.subject ?? '',
    date: parsed.date ?? null,
    preview: text.slice(0, 200),
    hasAttachments: parsed.attachments.some((a) => a.contentDisposition !== 'inline'),
  };
}
export type MessageSummary = ReturnType<typeof summary>;

/** A header value on one line (no header injection through CR/LF). */
export const cleanHeader = (s: string) => s.replace(/[\r\n\0]+/g, ' ');

/** The _id of a message's delivery row (queued or held) to one recipient. */
export const deliveryKey = (key: string, recipient: string) => `${key}:${recipient.toLowerCase()}`;

export function mailboxEntry(
  msg: MailMessageRecord,
  userId: string,
  folder: 'inbox' | 'sent',
  s: MessageSummary,
  viaGroup: string | null,
  deliveryKeys: string[] = [],
): MailboxEntryRecord {
  return {
    _id: `${msg.tenantId}:${userId}:${folder}:${msg.messageId}`,
    tenantId: msg.tenantId,
    userId,
    folder,
    messageKey: msg._id,
    receivedAt: msg.receivedAt,
    ...s,
    viaGroup,
    deliveryKeys,
  };
}
