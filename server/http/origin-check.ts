/**
 * Cross-site request forgery, server side: a state-changing request (not GET/HEAD/OPTIONS) that carries
 * the admin session cookie must come from our own origin when the browser says where it comes from
 * (Origin, else Referer). SameSite=Strict alone is not enough (same-site sibling hosts, old browsers).
 * Requests without either header are not from a browser page and carry no ambient risk.
 */
import type { RequestHandler } from 'express';
import { forbidden } from './problem';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function originCheck(options: { publicUrl: string; cookieName: string }): RequestHandler {
  const publicOrigin = (() => {
    try {
      return new URL(options.publicUrl).origin;
    } catch {
      return null;
    }
  })();
  return (req, _res, next) => {
    if (SAFE.has(req.method) || !(req.headers.cookie ?? '').includes(`${options.cookieName}=`)) return next();
    const claimed = req.headers.origin ?? req.headers.referer;
    if (!claimed) return next();
    let origin: string;
    try {
      origin = new URL(claimed).origin;
    } catch {
      throw forbidden('The request came from another site.');
    }
    const own = `${req.protocol}://${req.get('host')}`;
    if (origin !== own && origin !== publicOrigin) throw forbidden('The request came from another site.');
    next();
  };
}
