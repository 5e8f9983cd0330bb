/**
 * The user's continuity mailbox: their folders (inbox, sent) newest first in keyset pages and search
 * over both (read from the per-user index, mailbox-index.ts), one message with its sanitised HTML and
 * the delivery state of what they sent, attachments, and the thread headers of a reply. Reads only;
 * copies (and their index rows) are written by routing.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { decodeCursor, encodeCursor } from '../db/cursor';
import { coveringAny } from '../events/coverage';
import { domainOf } from '../http/addresses';
import { notFound, unprocessable } from '../http/problem';
import type { UserIdentity } from '../user-auth/identity';
import type { MailLookups } from './lookups';
import type { IndexRow, MailboxIndex } from './mailbox-index';
import type { DeliveryRecord, MailboxEntryRecord, MailModels, MailSecurity } from './model';
import { sanitizeMailHtml } from './safe-html';
import { readRaw } from './store';

const PAGE = 50;

/** Protection's word on one copy (null: not judged, e.g. sent mail or mail stored before protection). */
const securityView = (s: MailSecurity | null | undefined) =>
  s
    ? {
        verdict: s.verdict,
        action: s.action,
        policyId: s.policyId,
        auth: s.auth,
        score: s.score,
        reasons: s.reasons,
        ...(s.releasedBy ? { releasedBy: s.releasedBy } : {}),
      }
    : null;

const view = (e: MailboxEntryRecord) => ({
  id: `${e.folder}:${e._id.slice(e._id.lastIndexOf(':') + 1)}`,
  folder: e.folder,
  from: e.from,
  to: e.to,
  cc: e.cc,
  subject: e.subject,
  date: (e.date ?? e.receivedAt).toISOString(),
  receivedAt: e.receivedAt.toISOString(),
  preview: e.preview,
  viaGroup: e.viaGroup,
  hasAttachments: e.hasAttachments,
  security: securityView(e.security),
});

/** The cursor of mailbox and search pages: the last row's (receivedAt, message id). */
const rowCursor = (cursor: string | undefined) => {
  if (!cursor) return undefined;
  const p = decodeCursor(cursor, 'string');
  return { at: p.at.getTime(), m: p.id };
};

const rowView = (r: IndexRow & { folder: 'inbox' | 'sent' }) => ({
  id: `${r.folder}:${r.m}`,
  folder: r.folder,
  from: r.from,
  to: r.to,
  cc: r.cc,
  subject: r.subject,
  date: new Date(r.date ?? r.at).toISOString(),
  receivedAt: new Date(r.at).toISOString(),
  preview: r.preview,
  viaGroup: r.via,
  hasAttachments: r.att,
  security: r.sec ? { verdict: r.sec.v, action: r.sec.a } : null,
});

/** One page of index rows (the index returns up to PAGE + 1: one more means there is a next page). */
const pageOf = (rows: Array<IndexRow & { folder: 'inbox' | 'sent' }>) => {
  const page = rows.slice(0, PAGE);
  const last = page[page.length - 1];
  return { items: page.map(rowView), nextCursor: rows.length > PAGE && last ? encodeCursor(new Date(last.at), last.m) : null };
};

export function createMailbox(deps: { models: MailModels; index: MailboxIndex; lookups: MailLookups }) {
  const { models, index, lookups } = deps;

  async function entryFor(user: UserIdentity, id: string): Promise<MailboxEntryRecord> {
    if (!/^(inbox|sent):[A-Za-z0-9._-]{1,80}$/.test(id)) throw notFound('message');
    const entry = await models.mailbox.findById(`${user.tenantId}:${user.userId}:${id}`).lean<MailboxEntryRecord>();
    if (!entry || entry.tenantId !== user.tenantId || entry.userId !== user.userId) throw notFound('message');
    return entry;
  }

  async function parsedOf(entry: MailboxEntryRecord): Promise<ParsedMail> {
    const msg = await models.messages.findById(entry.messageKey, { chunks: 1, raw: 1, tenantId: 1 }).lean();
    if (!msg || msg.tenantId !== entry.tenantId) throw notFound('message');
    return simpleParser(await readRaw(models, msg), { skipImageLinks: true });
  }

  /** A sender outside the tenant: the From domain is not one of the tenant's domains (the pane marks it External). */
  async function isExternal(tenantId: string, from: string): Promise<boolean> {
    const address = /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from.trim();
    const domain = domainOf(address);
    if (!domain) return true;
    return (await lookups.tenantByDomain(domain))?.id !== tenantId;
  }

  async function deliveryStatus(keys: string[]) {
    const out = [];
    for (const key of keys) {
      const q = await models.queue.findById(key).lean<DeliveryRecord>();
      const recipient = key.slice(key.lastIndexOf(':') + 1);
      if (q) {
        const last = q.attempts[q.attempts.length - 1];
        out.push({ recipient, state: 'queued', attempts: q.attempts.length, lastReply: last?.reply ?? null, nextAttemptAt: q.nextAttemptAt.toISOString() });
        continue;
      }
      const r = await models.results.findById(key).lean();
      if (r) {
        const last = r.attempts[r.attempts.length - 1];
        out.push({
          recipient,
          state: r.state === 'delivered' ? 'sent' : 'failed',
          attempts: r.attempts.length,
          lastReply: last?.reply ?? null,
          nextAttemptAt: null,
        });
      } else {
        out.push({ recipient, state: 'queued', attempts: 0, lastReply: null, nextAttemptAt: null });
      }
    }
    return out;
  }

  return {
    /**
     * In-Reply-To and References for a reply to one of the user's messages (so Outlook threads it when
     * Exchange is back): taken from the original as stored, keeping only well-formed message ids.
     */
    async threadOf(user: UserIdentity, id: string): Promise<{ inReplyTo?: string; references?: string[] }> {
      const entry = await entryFor(user, id).catch(() => {
        throw unprocessable([{ path: 'inReplyTo', message: 'the message you reply to is not in your mailbox (any more)' }]);
      });
      const original = await parsedOf(entry);
      const wellFormed = (ids: unknown): string[] =>
        (Array.isArray(ids) ? ids : typeof ids === 'string' ? ids.split(/\s+/) : []).filter(
          (x): x is string => typeof x === 'string' && /^<[^<>\s]{1,250}>$/.test(x),
        );
      const [messageId] = wellFormed(original.messageId);
      if (!messageId) return {};
      // The chain is kept short: the first and the last few ids (RFC 5322 suggests the whole chain; long ones get trimmed).
      const chain = [...wellFormed(original.references), messageId];
      return { inReplyTo: messageId, references: chain.length > 10 ? [chain[0]!, ...chain.slice(-9)] : chain };
    },

    /** Newest first. During an event the inbox shows everything since the (earliest) event's start. */
    async list(user: UserIdentity, folder: 'inbox' | 'sent', cursor: string | undefined) {
      let since: number | undefined;
      if (folder === 'inbox') {
        // Cached like routing's look-ups (dropped when the directory changes): no directory scan per page.
        const groups = new Set([user.userId, ...(await lookups.groupsOf(user.tenantId, user.userId))]);
        const mine = coveringAny(await lookups.currentEvents(user.tenantId), groups);
        if (mine.length) since = Math.min(...mine.map((e) => e.start.getTime()));
      }
      const rows = await index.page(user, folder, { after: rowCursor(cursor), since, limit: PAGE });
      return pageOf(rows.map((r) => ({ ...r, folder })));
    },

    /** Sender, recipients, subject and body text of both folders; every word must match (case-insensitive). */
    async search(user: UserIdentity, query: string, cursor: string | undefined) {
      const terms = [...new Set(query.toLowerCase().split(/\s+/).filter(Boolean))].slice(0, 8);
      const rows = await index.search(user, terms, { after: rowCursor(cursor), limit: PAGE });
      return pageOf(rows);
    },

    async read(user: UserIdentity, id: string) {
      const entry = await entryFor(user, id);
      const parsed = await parsedOf(entry);
      const html = parsed.html ? sanitizeMailHtml(parsed.html) : null;
      return {
        ...view(entry),
        external: entry.folder === 'inbox' ? await isExternal(user.tenantId, entry.from) : false,
        html,
        text: parsed.text ?? '',
        attachments: parsed.attachments.map((a, index) => ({
          index,
          filename: a.filename ?? `attachment-${index + 1}`,
          contentType: a.contentType,
          size: a.size,
        })),
        deliveries: entry.folder === 'sent' ? await deliveryStatus(entry.deliveryKeys) : undefined,
      };
    },

    async attachment(user: UserIdentity, id: string, index: number) {
      const parsed = await parsedOf(await entryFor(user, id));
      const a = parsed.attachments[index];
      if (!a) throw notFound('attachment');
      return { filename: a.filename ?? `attachment-${index + 1}`, contentType: a.contentType || 'application/octet-stream', content: a.content };
    },
  };
}
export type Mailbox = ReturnType<typeof createMailbox>;
