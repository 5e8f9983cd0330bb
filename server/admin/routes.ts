/**
 * Serves the admin web page: /admin is the built page (admin.html, no-cache), /admin/* its
 * content-hashed bundles. The page talks to the same /api/* endpoints with the session cookie;
 * it routes in the URL hash, so /admin is the only HTML path.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { DEFAULT_BUILD_DIR } from '../addin/routes';
import { HttpProblem } from '../http/problem';
import { noCache, serveBuild } from '../http/static-build';

export function adminRoutes(options: { buildDir?: string } = {}): Router {
  const buildDir = options.buildDir ?? DEFAULT_BUILD_DIR;
  const page = path.join(buildDir, 'admin.html');
  const router = Router();

  router.get(['/admin', '/admin/'], (_req, res, next) => {
    if (!existsSync(page)) return next(new HttpProblem(503, 'Service Unavailable', 'The admin page has not been built. Run `npm run build`.'));
    noCache(res);
    res.sendFile(page);
  });
  router.use('/admin', serveBuild(buildDir));
  return router;
}
