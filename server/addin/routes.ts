/**
 * Serves the Outlook add-in: the built task pane (/addin/*), office.js from the @microsoft/office-js
 * package (/addin/office-js/*, so the pane never needs a CDN during an outage), the icons, the
 * manifest (/addin/manifest.xml) and the pane's runtime settings (/addin/config.json, from Config.addin).
 *
 * Cache rules: HTML, the manifest and the settings are `no-cache` (a new build is picked up at once);
 * content-hashed bundles are immutable for a year; everything else an hour (office.js a day).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import type { AddinClientConfig } from '../config';
import { HttpProblem } from '../http/problem';
import { noCache, serveBuild } from '../http/static-build';

export const DEFAULT_BUILD_DIR = path.resolve(__dirname, '..', 'public', 'build');
export const DEV_MANIFEST = path.resolve(__dirname, '..', '..', 'manifest.xml');

/** Where the @microsoft/office-js package keeps office.js and the host scripts it loads. */
export function officeJsDir(): string {
  return path.join(path.dirname(require.resolve('@microsoft/office-js/package.json')), 'dist');
}

export type { AddinClientConfig } from '../config';

export interface AddinRoutesOptions {
  config: AddinClientConfig;
  /** The webpack output (default server/public/build). */
  buildDir?: string;
  /** Where office.js lives (default: the @microsoft/office-js package). */
  officeJsDir?: string;
  /** The manifest served when the build has none (default: the repo's development manifest.xml). */
  devManifest?: string;
}

export function addinRoutes(options: AddinRoutesOptions): Router {
  const buildDir = options.buildDir ?? DEFAULT_BUILD_DIR;
  const officeDir = options.officeJsDir ?? officeJsDir();
  const devManifest = options.devManifest ?? DEV_MANIFEST;
  const router = Router();

  router.get(['/addin', '/addin/'], (_req, res) => res.redirect(302, '/addin/taskpane.html'));

  router.get('/addin/config.json', (_req, res) => {
    noCache(res);
    res.json(options.config);
  });

  router.get('/addin/manifest.xml', (_req, res, next) => {
    const built = path.join(buildDir, 'manifest.xml');
    const file = existsSync(built) ? built : devManifest;
    noCache(res);
    res.type('application/xml');
    res.sendFile(file, (err) => err && next(new HttpProblem(404, 'Not Found', 'No manifest has been built.')));
  });

  router.use(
    '/addin/office-js',
    express.static(officeDir, {
      index: false,
      fallthrough: true,
      setHeaders: (res) => res.setHeader('Cache-Control', 'public, max-age=86400'),
    }),
  );

  router.use('/addin', serveBuild(buildDir));

  // A page that is not there because nobody built the pane: say so instead of a bare 404.
  router.get('/addin/:page.html', (req, _res, next) => {
    if (!existsSync(path.join(buildDir, 'taskpane.html'))) {
      return next(new HttpProblem(503, 'Service Unavailable', 'The task pane has not been built. Run `npm run build`.'));
    }
    next();
  });

  return router;
}
