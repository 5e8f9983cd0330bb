/**
 * One message a user sent through Lifeboat, as the Graph request that puts it into their Exchange Sent
 * Items as a **sent** item. Graph creates a message from MIME only as a draft (PR_MESSAGE_FLAGS has the
 * unsent bit, and only creation can set that property), so the message is created from JSON with
 * PR_MESSAGE_FLAGS (`Integer 0x0E07`) = 1 (read, not unsent), the submit and delivery times
 * (`SystemTime 0x0039`, `SystemTime 0x0E06`) set to when it was sent, and its own Message-ID, so
 * replies to it thread in Outlook. Graph accepts only `x-` headers from a client, so the other original
 * headers (In-Reply-To, References, Received) cannot travel; the message says where it came from in
 * `X-Lifeboat-Sent-Via`.
 */
import type { AddressObject, ParsedMail } from 'mailparser';

/** Graph refuses requests over 4 MB; base64 grows attachments by a third. */
export const MAX_ATTACHMENT_BYTES = 2_500_000;
export const PR_MESSAGE_FLAGS = 'Integer 0x0E07';
export const PR_CLIENT_SUBMIT_TIME = 'SystemTime 0x0039';
export const PR_MESSAGE_DELIVERY_TIME = 'SystemTime 0x0E06';
/** mfRead: a sent item, read; without mfUnsent (8) Outlook does not show it as a draft. */
const SENT_READ = '1';

const recipients = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : [])
    .flatMap((x) => x.value)
    .filter((v) => v.address)
    .map((v) => ({ emailAddress: { address: v.address!, ...(v.name ? { name: v.name } : {}) } }));

export function sentItemOf(parsed: ParsedMail, sentAt: Date): { body: Record<string, unknown>; attachmentsLeftOut: boolean } {
  const at = (parsed.date ?? sentAt).toISOString();
  const size = parsed.attachments.reduce((n, a) => n + a.size, 0);
  const attachmentsLeftOut = size > MAX_ATTACHMENT_BYTES;
  const [from] = recipients(parsed.from);
  const body: Record<string, unknown> = {
    subject: parsed.subject ?? '',
    body: parsed.html ? { contentType: 'html', content: parsed.html } : { contentType: 'text', content: parsed.text ?? '' },
    toRecipients: recipients(parsed.to),
    ccRecipients: recipients(parsed.cc),
    bccRecipients: recipients(parsed.bcc),
    ...(from ? { from, sender: from } : {}),
    ...(parsed.messageId ? { internetMessageId: parsed.messageId } : {}),
    isRead: true,
    internetMessageHeaders: [
      { name: 'X-Lifeboat-Sent-Via', value: 'Lifeboat continuity (sent while Exchange was unavailable)' },
      ...(attachmentsLeftOut ? [{ name: 'X-Lifeboat-Attachments-Left-Out', value: String(parsed.attachments.length) }] : []),
    ],
    singleValueExtendedProperties: [
      { id: PR_MESSAGE_FLAGS, value: SENT_READ },
      { id: PR_CLIENT_SUBMIT_TIME, value: at },
      { id: PR_MESSAGE_DELIVERY_TIME, value: at },
    ],
    attachments: attachmentsLeftOut
      ? []
      : parsed.attachments.map((a) => ({
          '@odata.type': '#microsoft.graph.fileAttachment',
          name: a.filename ?? 'attachment',
          contentType: a.contentType || 'application/octet-stream',
          contentBytes: a.content.toString('base64'),
          ...(a.cid && a.contentDisposition === 'inline' ? { isInline: true, contentId: a.cid } : {}),
        })),
  };
  return { body, attachmentsLeftOut };
}
