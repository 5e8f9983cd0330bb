/**
 * Pure rules for composing in the pane: addresses, reply / reply all / forward recipients, the
 * "Re:" / "Fw:" prefix (once), quoting the original, and times in the event's time zone.
 */
import { isRecipientAddress } from '../../server/http/address-grammar';

export interface Mailbox {
  name: string | null;
  address: string;
}

export type ComposeMode = 'new' | 'reply' | 'replyAll' | 'forward';

/** What compose needs of the message being answered (the shape `GET /api/me/mailbox/:id` returns). */
export interface OriginalMessage {
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  date: string;
  html: string | null;
  text: string;
}

/** True for a plain address the API accepts (no display name, no line breaks): the server's own rule. */
export const isAddress = isRecipientAddress;

/** `Ada Park <ada@contoso.test>`, `"Park, Ada" <ada@…>` or a bare address → {name, address}; null when there is none. */
export function parseMailbox(value: string): Mailbox | null {
  const text = value.trim();
  const angle = /^(.*?)<\s*([^<>\s]+)\s*>\s*$/.exec(text);
  if (angle) {
    const address = angle[2]!;
    if (!isAddress(address)) return null;
    const name = angle[1]!
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .trim();
    return { name: name || null, address };
  }
  return isAddress(text) ? { name: null, address: text } : null;
}

/**
 * Splits a list the user typed (or a header) into mailboxes: commas and semicolons separate
 * entries, except inside quotes or angle brackets. Returns what it could not read as `invalid`.
 */
export function parseMailboxList(value: string): { mailboxes: Mailbox[]; invalid: string[] } {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    if ((ch === ',' || ch === ';') && !quoted && !angle) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  const mailboxes: Mailbox[] = [];
  const invalid: string[] = [];
  for (const part of parts.map((p) => p.trim()).filter(Boolean)) {
    const m = parseMailbox(part);
    if (m) mailboxes.push(m);
    else invalid.push(part);
  }
  return { mailboxes, invalid };
}

/** `Bob Stone <bob@x>` for `"Bob Stone" <bob@x>`; anything unreadable as it is. */
export function displayMailbox(value: string): string {
  const m = parseMailbox(value);
  if (!m) return value.trim();
  return m.name ? `${m.name} <${m.address}>` : m.address;
}

/** Addresses in order, each once (case-insensitive), leaving out `exclude`. */
export function uniqueAddresses(list: Mailbox[], exclude: string[] = []): string[] {
  const seen = new Set(exclude.map((a) => a.toLowerCase()));
  const out: string[] = [];
  for (const m of list) {
    const key = m.address.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(m.address);
  }
  return out;
}

const all = (values: string[]) => values.flatMap((v) => parseMailboxList(v).mailboxes);

/**
 * Who a reply goes to. Reply: the sender. Reply all: the sender and every To, in To; every Cc in
 * Cc; never yourself, nobody twice. Replying to a message you sent yourself answers its recipients.
 * Forward: nobody (the user chooses).
 */
export function replyRecipients(original: Pick<OriginalMessage, 'from' | 'to' | 'cc'>, mode: ComposeMode, me: string | null): { to: string[]; cc: string[] } {
  if (mode === 'forward' || mode === 'new') return { to: [], cc: [] };
  const self = me ? [me] : [];
  const sender = parseMailbox(original.from) ?? parseMailboxList(original.from).mailboxes[0] ?? null;
  const fromMe = Boolean(sender && me && sender.address.toLowerCase() === me.toLowerCase());
  if (mode === 'reply') {
    if (fromMe) return { to: uniqueAddresses(all(original.to)), cc: [] };
    return { to: sender ? [sender.address] : [], cc: [] };
  }
  const to = uniqueAddresses([...(sender && !fromMe ? [sender] : []), ...all(original.to)], self);
  const cc = uniqueAddresses(all(original.cc), [...self, ...to]);
  return { to, cc };
}

const REPLY_PREFIX = /^\s*(re|aw|sv|antw|vs|réf)\s*(\[\d+\])?\s*:/i;
const FORWARD_PREFIX = /^\s*(fw|fwd|wg|tr|rv)\s*:/i;

/** "Re: " / "Fw: " in front of the subject, unless it already starts with one (in a common language). */
export function prefixSubject(subject: string, mode: ComposeMode): string {
  const s = subject.replace(/[\r\n]+/g, ' ').trim();
  if (mode === 'reply' || mode === 'replyAll') return REPLY_PREFIX.test(s) ? s : `Re: ${s}`.trimEnd();
  if (mode === 'forward') return FORWARD_PREFIX.test(s) ? s : `Fw: ${s}`.trimEnd();
  return s;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** What the user typed (plain text) as HTML paragraphs with line breaks. */
export function textToHtml(text: string): string {
  const paragraphs = text.replace(/\r\n?/g, '\n').split(/\n{2,}/);
  return paragraphs
    .filter((p, i) => p !== '' || i === 0)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}

/** The original below the reply: "On <date>, <sender> wrote:" and a blockquote (forward: the forwarded header block). */
export function quoteOriginal(original: OriginalMessage, mode: ComposeMode, timeZone: string | undefined): string {
  if (mode === 'new') return '';
  const body = original.html ?? textToHtml(original.text);
  const when = formatFull(original.date, timeZone);
  if (mode === 'forward') {
    const lines = [
      '---------- Forwarded message ----------',
      `From: ${displayMailbox(original.from)}`,
      `Date: ${when}`,
      `Subject: ${original.subject}`,
      `To: ${original.to.map(displayMailbox).join(', ')}`,
      ...(original.cc.length ? [`Cc: ${original.cc.map(displayMailbox).join(', ')}`] : []),
    ];
    return `<div class="lifeboat-forwarded"><p>${lines.map(escapeHtml).join('<br>')}</p>\n${body}</div>`;
  }
  return (
    `<div class="lifeboat-quoted"><p>${escapeHtml(`On ${when}, ${displayMailbox(original.from)} wrote:`)}</p>\n` +
    `<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">${body}</blockquote></div>`
  );
}

/** The HTML body to send: the user's text, then the quoted original. */
export function composeHtml(userText: string, quoted: string): string {
  const mine = textToHtml(userText);
  return quoted ? `${mine}\n<br>\n${quoted}` : mine;
}

// ---- times in the event's zone ----------------------------------------------------------------

function validZone(timeZone: string | undefined): string | undefined {
  if (!timeZone) return undefined;
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return timeZone;
  } catch {
    return undefined;
  }
}

function parts(date: Date, timeZone: string | undefined, options: Intl.DateTimeFormatOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of new Intl.DateTimeFormat('en-GB', { ...options, timeZone: validZone(timeZone), hourCycle: 'h23' }).formatToParts(date)) out[p.type] = p.value;
  return out;
}

/** "14:05" for today (in the zone), "21 Nov" for this year, "21 Nov 2025" otherwise: for lists. */
export function formatShort(iso: string, timeZone: string | undefined, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const day = parts(d, timeZone, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  const today = parts(now, timeZone, { year: 'numeric', month: 'short', day: 'numeric' });
  if (day.year === today.year && day.month === today.month && day.day === today.day) return `${day.hour}:${day.minute}`;
  return day.year === today.year ? `${day.day} ${day.month}` : `${day.day} ${day.month} ${day.year}`;
}

/** "Sun 22 Nov 2026, 14:05 GMT": the reading view and quoted headers. */
export function formatFull(iso: string, timeZone: string | undefined): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = parts(d, timeZone, {
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  });
  return `${p.weekday} ${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute} ${p.timeZoneName ?? ''}`.trim();
}

/** A key that makes a retried send of the same draft send once (the API's idempotencyKey). */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return `pane-${c.randomUUID()}`;
  return `pane-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}
