/**
 * The draft open in compose mode, through Office.js: recipients (`to`/`cc`/`bcc.getAsync`, Mailbox
 * 1.1), subject, HTML body (`body.getAsync('html')`, 1.3), attachments (`getAttachmentsAsync` +
 * `getAttachmentContentAsync`, 1.8); and discarding it once Lifeboat has sent it.
 *
 * Discarding (docs/ARCHITECTURE.md, "Outlook facts that shape the add-in": nothing may be sent twice when Exchange returns):
 * - Mailbox 1.14: `item.closeAsync({discardItem: true})` closes the compose form and throws the
 *   draft away without the save prompt, for new messages, inline replies and existing drafts alike.
 * - older Outlook: there is no discard API. `item.close()` alone would offer to save the draft
 *   (still addressed, so it could be sent again later), so first the draft is emptied — recipients,
 *   subject and body cleared with `setAsync` — then closed: whatever the user answers to the prompt,
 *   what remains is an empty draft with nobody to send it to.
 */
import { isSetSupported } from './host';

export interface DraftAttachment {
  filename: string;
  contentType: string;
  contentBase64: string;
}

export interface Draft {
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  html: string;
  attachments: DraftAttachment[];
  /** Attachments Outlook would not hand over (cloud links, items, or Mailbox < 1.8). */
  skipped: string[];
}

type Compose = Office.MessageCompose;

function call<T>(start: (cb: (r: Office.AsyncResult<T>) => void) => void, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    try {
      start((r) => {
        if (r.status === Office.AsyncResultStatus.Succeeded) resolve(r.value);
        else reject(new Error(`Outlook could not ${what}: ${r.error?.message ?? 'unknown error'}`));
      });
    } catch (err) {
      reject(new Error(`Outlook could not ${what}: ${(err as Error).message}`));
    }
  });
}

/** The open item when it is a message being composed (its fields have getAsync), else null. */
export function composeItem(item: Office.Item | null): Compose | null {
  const c = item as unknown as Partial<Compose> | null;
  if (!c || typeof c.to?.getAsync !== 'function' || typeof (c.subject as Partial<Office.Subject> | undefined)?.getAsync !== 'function') return null;
  return c as Compose;
}

const MIME: Record<string, string> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  htm: 'text/html',
  html: 'text/html',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  zip: 'application/zip',
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  eml: 'message/rfc822',
  ics: 'text/calendar',
};

/** Outlook's contentType when it is a plain MIME type, else one guessed from the file name. */
export function contentTypeOf(name: string, given: string | undefined): string {
  if (given && /^[\w.+-]+\/[\w.+-]+$/.test(given)) return given;
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  return MIME[ext] ?? 'application/octet-stream';
}

function recipients(list: Office.EmailAddressDetails[]): string[] {
  return list.map((r) => r.emailAddress).filter((a): a is string => typeof a === 'string' && a !== '');
}

export type DraftProgress = (step: { phase: 'recipients' | 'body' | 'attachments'; done?: number; total?: number }) => void;

export async function readDraft(item: Compose, onProgress: DraftProgress = () => {}): Promise<Draft> {
  onProgress({ phase: 'recipients' });
  const [to, cc, bcc, subject] = await Promise.all([
    call<Office.EmailAddressDetails[]>((cb) => item.to.getAsync(cb), 'read the To line'),
    call<Office.EmailAddressDetails[]>((cb) => item.cc.getAsync(cb), 'read the Cc line'),
    item.bcc ? call<Office.EmailAddressDetails[]>((cb) => item.bcc.getAsync(cb), 'read the Bcc line') : Promise.resolve([]),
    call<string>((cb) => item.subject.getAsync(cb), 'read the subject'),
  ]);
  onProgress({ phase: 'body' });
  const html = await call<string>((cb) => item.body.getAsync(Office.CoercionType.Html, cb), 'read the message body');
  const attachments: DraftAttachment[] = [];
  const skipped: string[] = [];
  if (isSetSupported('Mailbox', '1.8') && typeof item.getAttachmentsAsync === 'function') {
    const list = await call<Office.AttachmentDetailsCompose[]>((cb) => item.getAttachmentsAsync(cb), 'list the attachments');
    const files = list.filter((a) => !a.isInline || a.attachmentType === Office.MailboxEnums.AttachmentType.File);
    onProgress({ phase: 'attachments', done: 0, total: files.length });
    let done = 0;
    for (const a of files) {
      const content = await call<Office.AttachmentContent>((cb) => item.getAttachmentContentAsync(a.id, cb), `read the attachment ${a.name}`);
      if (a.attachmentType !== Office.MailboxEnums.AttachmentType.File || content.format !== Office.MailboxEnums.AttachmentContentFormat.Base64) {
        skipped.push(a.name); // cloud links and attached Outlook items: not a file Lifeboat can send
      } else {
        attachments.push({ filename: a.name, contentType: contentTypeOf(a.name, (a as { contentType?: string }).contentType), contentBase64: content.content });
      }
      onProgress({ phase: 'attachments', done: ++done, total: files.length });
    }
  } else {
    skipped.push('(attachments: this Outlook does not let add-ins read them)');
  }
  return { to: recipients(to), cc: recipients(cc), bcc: recipients(bcc), subject, html, attachments, skipped };
}

/** How the draft was discarded, for the pane to say. */
export type DiscardResult = 'discarded' | 'emptiedAndClosed';

export async function discardDraft(item: Compose): Promise<DiscardResult> {
  if (isSetSupported('Mailbox', '1.14') && typeof item.closeAsync === 'function') {
    await call<void>((cb) => item.closeAsync({ discardItem: true }, cb), 'discard the draft');
    return 'discarded';
  }
  await Promise.all([
    call<void>((cb) => item.to.setAsync([], cb), 'clear the To line'),
    call<void>((cb) => item.cc.setAsync([], cb), 'clear the Cc line'),
    item.bcc ? call<void>((cb) => item.bcc.setAsync([], cb), 'clear the Bcc line') : Promise.resolve(),
    call<void>((cb) => item.subject.setAsync('', cb), 'clear the subject'),
    call<void>((cb) => item.body.setAsync('', { coercionType: Office.CoercionType.Html }, cb), 'clear the body'),
  ]);
  item.close();
  return 'emptiedAndClosed';
}
