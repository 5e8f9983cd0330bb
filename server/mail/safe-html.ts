/**
 * The one HTML sanitiser for mail shown to users (the pane, the web inbox): formatting survives,
 * nothing runs, nothing is fetched from outside (images only inline), and no element can be lifted
 * out of the message's flow. Styles are an allow-list of properties: `position` only static or
 * relative, with no offsets, no negative margins, no transforms and a small z-index, so a message
 * cannot lay a full-frame link over the reading pane (or over Lifeboat's own banners).
 */
import sanitizeHtml from 'sanitize-html';

/** Any value without url(), expression(), script or other escapes from a declaration. */
const ANY = [/^(?!.*(?:url\s*\(|expression\s*\(|javascript:|-moz-binding|behavior\s*:|\\))[^<>{};]*$/i];
/** Lengths and keywords that are never negative (margins cannot pull content over other content). */
const NON_NEGATIVE = [/^(?:(?:auto|0|\d+(?:\.\d+)?(?:px|pt|em|rem|%|ex|ch|cm|mm|in|pc)?)\s*){1,4}$/i];

const STYLE_PROPERTIES: Record<string, RegExp[]> = {
  position: [/^(?:static|relative)$/i],
  'z-index': [/^(?:auto|-?\d{1,2})$/],
  ...Object.fromEntries(['margin', 'margin-top', 'margin-right', 'margin-bottom', 'margin-left'].map((p) => [p, NON_NEGATIVE])),
  ...Object.fromEntries(
    [
      'color',
      'background',
      'background-color',
      'font',
      'font-family',
      'font-size',
      'font-style',
      'font-weight',
      'font-variant',
      'line-height',
      'letter-spacing',
      'word-spacing',
      'text-align',
      'text-decoration',
      'text-indent',
      'text-transform',
      'vertical-align',
      'white-space',
      'word-break',
      'word-wrap',
      'overflow-wrap',
      'direction',
      'display',
      'float',
      'clear',
      'overflow',
      'visibility',
      'opacity',
      'width',
      'min-width',
      'max-width',
      'height',
      'min-height',
      'max-height',
      'padding',
      'padding-top',
      'padding-right',
      'padding-bottom',
      'padding-left',
      'border',
      'border-top',
      'border-right',
      'border-bottom',
      'border-left',
      'border-color',
      'border-style',
      'border-width',
      'border-radius',
      'border-collapse',
      'border-spacing',
      'table-layout',
      'list-style',
      'list-style-type',
      'list-style-position',
    ].map((p) => [p, ANY]),
  ),
};

const SAFE_HTML: sanitizeHtml.IOptions = {
  allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img', 'span', 'font', 'center'],
  allowedAttributes: {
    '*': ['style', 'align', 'dir'],
    a: ['href', 'title'],
    img: ['src', 'alt', 'width', 'height'],
    td: ['colspan', 'rowspan'],
    font: ['color'],
  },
  allowedStyles: { '*': STYLE_PROPERTIES },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['data', 'cid'] },
  transformTags: { a: sanitizeHtml.simpleTransform('a', { target: '_blank', rel: 'noopener noreferrer' }) },
};

/** A message's HTML as it may be shown to the user. */
export const sanitizeMailHtml = (html: string): string => sanitizeHtml(html, SAFE_HTML);
