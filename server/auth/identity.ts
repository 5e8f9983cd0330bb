import type { Request } from 'express';
import type { AuditContext } from '../audit/context';
import type { AuditActor } from '../audit/model';
import { ROLES, type Role } from './model';

export interface AdminIdentity {
  tenantId: string;
  adminId: string;
  email: string;
  displayName: string;
  role: Role;
  /** The tenant requires two-factor sign-in and this admin has not set it up: only the set-up is allowed. */
  mustEnrollTwoFactor?: boolean;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      admin?: AdminIdentity;
    }
  }
}

export const roleRank = (role: Role) => ROLES.indexOf(role);
export const hasRole = (identity: AdminIdentity, minimum: Role) => roleRank(identity.role) >= roleRank(minimum);

export const adminActor = (identity: AdminIdentity): AuditActor => ({ type: 'admin', id: identity.adminId, email: identity.email });

/** Who did it and from where, for the audit trail. */
export function requestContext(req: Request): AuditContext {
  return { ip: req.ip ?? null, requestId: req.id === undefined ? null : String(req.id) };
}
