import type { Request } from 'express';

/** An Outlook user, verified either by an Entra token or by a Lifeboat token from a cloud password. */
export interface UserIdentity {
  tenantId: string;
  userId: string;
  email: string | null;
  displayName: string;
  via: 'entra' | 'cloudPassword';
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      user?: UserIdentity;
    }
  }
}

export function currentUser(req: Request): UserIdentity {
  if (!req.user) throw new Error('requireUser must run first');
  return req.user;
}
