/**
 * Serves the web continuity inbox: `/` is the built page (inbox.html, no-cache), `/inbox/*` its
 * content-hashed bundles, `/sw.js` its service worker (at the root so it controls `/`) and
 * `/manifest.webmanifest` what makes it installable. Also the HTML "page not found" for paths a
 * person can land on: the API keeps problem+json.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Router, type RequestHandler } from 'express';
import { DEFAULT_BUILD_DIR } from '../addin/routes';
import { escapeHtml, htmlPage } from './page';
import { noCache, serveBuild } from '../http/static-build';

export const INBOX_MANIFEST = {
  name: 'Lifeboat continuity inbox',
  short_name: 'Lifeboat',
  description: 'Your mail when Microsoft 365 or Exchange is down.',
  start_url: '/',
  scope: '/',
  display: 'standalone',
  background_color: '#ffffff',
  theme_color: '#0f6cbd',
  icons: [
    { src: '/addin/assets/icon-64.png', sizes: '64x64', type: 'image/png' },
    { src: '/addin/assets/icon-128.png', sizes: '128x128', type: 'image/png' },
    { src: '/addin/assets/icon-192.png', sizes: '192x192', type: 'image/png' },
    { src: '/addin/assets/icon-512.png', sizes: '512x512', type: 'image/png' },
  ],
};

export function inboxRoutes(options: { buildDir?: string } = {}): Router {
  const buildDir = options.buildDir ?? DEFAULT_BUILD_DIR;
  const page = path.join(buildDir, 'inbox.html');
  const router = Router();

  router.get('/', (_req, res) => {
    noCache(res);
    if (!existsSync(page)) {
      res
        .status(503)
        .type('html')
        .send(
          htmlPage(
            'Lifeboat is being set up',
            '<p>The continuity inbox has not been built on this server yet. If you run this server, start it with <code>npm start</code> ' +
              '(it builds the pages) or run <code>npm run build</code>. Otherwise, try again in a few minutes or ask your IT administrator.</p>',
          ),
        );
      return;
    }
    res.sendFile(page);
  });
  router.get('/manifest.webmanifest', (_req, res) => {
    noCache(res);
    res.type('application/manifest+json').send(JSON.stringify(INBOX_MANIFEST));
  });
  router.get('/sw.js', (_req, res, next) => {
    const file = path.join(buildDir, 'sw.js');
    if (!existsSync(file)) return next();
    // A new service worker must be seen at once (the browser checks it on every visit).
    noCache(res);
    res.setHeader('Service-Worker-Allowed', '/');
    res.type('text/javascript').sendFile(file);
  });
  router.use('/inbox', serveBuild(buildDir));
  return router;
}

const API_PREFIXES = ['/api/', '/socket.io/', '/healthz'];

/**
 * A person who follows a wrong link gets a page that says what to do, not problem+json; API clients
 * (and anything that does not ask for HTML) still get problem+json from the handler after this one.
 */
export const pageNotFound: RequestHandler = (req, res, next) => {
  // Browsers ask for text/html when a person opens a link; API clients do not.
  const wantsPage = (req.get('accept') ?? '').includes('text/html');
  if ((req.method !== 'GET' && req.method !== 'HEAD') || API_PREFIXES.some((p) => req.path.startsWith(p)) || !wantsPage) return next();
  res
    .status(404)
    .type('html')
    .send(
      htmlPage(
        'Page not found',
        `<p>There is no page at <code>${escapeHtml(req.path)}</code>.</p>` +
          '<p><a href="/">Open your continuity inbox</a> to read and send mail, or <a href="/admin">the admin page</a> if you run Lifeboat.</p>',
      ),
    );
};
