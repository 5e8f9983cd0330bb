/**
 * A safe look at a quarantined message for admins: headers, plain text, HTML stripped to inert markup
 * (no images, scripts, styles or live links: a preview must not fetch anything or be clickable into a
 * phishing page), and attachment names and sizes only. The admin page shows the HTML in a sandboxed frame.
 */
import { simpleParser } from 'mailparser';
import sanitizeHtml from 'sanitize-html';

export interface MessagePreview {
  subject: string;
  from: string;
  to: string;
  date: string | null;
  headers: { name: string; value: string }[];
  text: string;
  html: string | null;
  attachments: { filename: string; contentType: string; size: number }[];
}

const INERT: sanitizeHtml.IOptions = {
  allowedTags: sanitizeHtml.defaults.allowedTags.filter((t) => t !== 'a' && t !== 'img'),
  allowedAttributes: {},
  nonTextTags: ['style', 'script', 'textarea', 'option', 'noscript', 'title'],
};

const MAX_TEXT = 100_000;

export async function previewOf(raw: Buffer): Promise<MessagePreview> {
  const parsed = await simpleParser(raw, { skipImageLinks: true });
  const headerLines = parsed.headerLines.map((h) => {
    const colon = h.line.indexOf(':');
    return {
      name: h.line.slice(0, colon).trim(),
      value: h.line
        .slice(colon + 1)
        .replace(/\r?\n[ \t]+/g, ' ')
        .trim(),
    };
  });
  // A link keeps its text and shows where it pointed, without being a link.
  const html = parsed.html
    ? sanitizeHtml(parsed.html.replace(/<a\b[^>]*href\s*=\s*["']?([^"' >]+)[^>]*>/gi, '<span>[$1] ').replace(/<\/a>/gi, '</span>'), INERT)
    : null;
  return {
    subject: parsed.subject ?? '',
    from: parsed.from?.text ?? '',
    to: [parsed.to ?? []]
      .flat()
      .map((a) => a.text)
      .join(', '),
    date: parsed.date?.toISOString() ?? null,
    headers: headerLines,
    text: (parsed.text ?? '').slice(0, MAX_TEXT),
    html: html ? html.slice(0, MAX_TEXT) : null,
    attachments: parsed.attachments.map((a) => ({ filename: a.filename ?? '(unnamed)', contentType: a.contentType, size: a.size })),
  };
}
