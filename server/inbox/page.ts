/** A small self-contained HTML page (no bundle needed) for the messages a person can land on. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function htmlPage(title: string, bodyHtml: string): string {
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)} · Lifeboat</title>` +
    '<link rel="icon" type="image/png" href="/addin/assets/icon-32.png">' +
    '<style>body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#242424}' +
    'a{color:#0f6cbd}code{overflow-wrap:anywhere}</style></head>' +
    `<body><main><h1>${escapeHtml(title)}</h1>${bodyHtml}</main></body></html>`
  );
}
