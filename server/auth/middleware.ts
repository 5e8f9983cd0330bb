import type { Request, RequestHandler } from 'express';
import { parse as parseCookies } from 'cookie';
import { forbidden, HttpProblem, unauthorized } from '../http/problem';
import { hasRole, type AdminIdentity } from './identity';
import type { Role } from './model';
import type { AuthService } from './service';

export const SESSION_COOKIE = 'lifeboat_session';

export const sessionToken = (req: Request): string | undefined => parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];

const ROLE_NAMES: Record<Role, string> = {
  readOnly: 'read-only administrator',
  basicAdministrator: 'basic administrator',
  fullAdministrator: 'full administrator',
};

/**
 * Signed-in admin with at least the given role; sets req.admin. An admin who must still set up
 * two-factor sign-in (the tenant requires it) reaches only the routes marked `enrolling`.
 */
export function requireAdmin(auth: AuthService, minimum: Role = 'readOnly', options: { enrolling?: boolean } = {}): RequestHandler {
  return async (req, _res, next) => {
    const identity = await auth.authenticate(sessionToken(req));
    if (!identity) throw unauthorized('Sign in as an administrator first.');
    if (identity.mustEnrollTwoFactor && !options.enrolling) {
      throw new HttpProblem(403, 'Forbidden', 'Your organisation requires two-factor sign-in: set it up first.', { twoFactor: 'enrollmentRequired' });
    }
    if (!hasRole(identity, minimum)) {
      throw forbidden(`This needs the ${ROLE_NAMES[minimum]} role or higher; you are a ${ROLE_NAMES[identity.role]}.`);
    }
    req.admin = identity;
    next();
  };
}

/** The identity set by requireAdmin (routes mount it first, so it is always there). */
export function currentAdmin(req: Request): AdminIdentity {
  if (!req.admin) throw unauthorized();
  return req.admin;
}
