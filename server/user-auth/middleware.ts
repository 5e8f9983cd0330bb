import type { Request, RequestHandler } from 'express';
import { unauthorized } from '../http/problem';
import type { UserAuthService } from './service';

export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/** A signed-in Outlook user (Entra or Lifeboat token); sets req.user. */
export function requireUser(userAuth: UserAuthService): RequestHandler {
  return async (req, _res, next) => {
    const result = await userAuth.authenticate(bearerToken(req));
    if ('refused' in result) {
      req.log?.info({ reason: result.refused }, 'user token refused');
      throw unauthorized('Sign in to Lifeboat first (your token is missing, expired or not valid).');
    }
    req.user = result.identity;
    next();
  };
}
