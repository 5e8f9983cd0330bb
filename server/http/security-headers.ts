/**
 * Response headers every page and answer carries: a Content-Security-Policy without inline script
 * (Fluent UI injects its styles at run time, so styles may be inline), `frame-ancestors` that lets only
 * Outlook's hosts frame the add-in pages (the admin page is never framed), HSTS on HTTPS,
 * Referrer-Policy, nosniff. Source maps are not served (they describe the code to anyone who asks).
 */
import type { RequestHandler } from 'express';

/** Where Outlook on the web and new Outlook host add-in frames (classic Outlook uses a WebView, not a frame). */
export const OUTLOOK_FRAME_HOSTS = [
  'https://outlook.office.com',
  'https://outlook.office365.com',
  'https://outlook.live.com',
  'https://outlook.cloud.microsoft',
  'https://*.outlook.com',
  'https://*.office.com',
  'https://*.office365.com',
  'https://*.cloud.microsoft',
];

function policy(frameAncestors: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https:",
    "font-src 'self' data:",
    // The pane's NAA/MSAL and Socket.IO; no plain-http destinations.
    "connect-src 'self' https: wss:",
    "frame-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

const ADDIN_POLICY = policy(["'self'", ...OUTLOOK_FRAME_HOSTS].join(' '));
const DEFAULT_POLICY = policy("'none'");

export function securityHeaders(options: { publicUrl: string }): RequestHandler {
  const httpsPublic = options.publicUrl.startsWith('https:');
  return (req, res, next) => {
    if (req.path.endsWith('.map') && (req.path.startsWith('/addin/') || req.path.startsWith('/admin/'))) {
      res.status(404).type('text/plain').send('Not found');
      return;
    }
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Content-Security-Policy', req.path.startsWith('/addin') ? ADDIN_POLICY : DEFAULT_POLICY);
    if (req.secure || httpsPublic) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    next();
  };
}
