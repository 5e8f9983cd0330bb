/**
 * How a stored message appears in a mailbox (the summary kept on each copy: from, to, subject,
 * preview) and the deterministic keys of its copies and delivery rows (writing them again is harmless).
 */
import type { AddressObject, ParsedMail } from 'mailparser';
import sanitizeHtml from 'sanitize-html';
import type { MailboxEntryRecord, MailMessageRecord } from './model';

function addressList(a: AddressObject | AddressObject[] | undefined): string[] {
  if (!a) return [];
  return (Array.isArray(a) ? a : [a]).flatMap((o) => o.value.map((v) => (v.name ? `${v.name} <${v.address ?? ''}>` : (v.address ?? '')))).filter(Boolean);
}

export function summary(parsed: ParsedMail) {
  const text = (parsed.text ?? (parsed.html ? sanitizeHtml(parsed.html, { allowedTags: [], allowedAttributes: {} }) : '')).replace(/\s+/g, ' ').trim();
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
