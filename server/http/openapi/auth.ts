/** Contract of the admin sign-in and the administrators (server/auth/routes.ts). */
import { z } from 'zod';
import { adminPasswordBody, loginBody, newAdminBody, updateAdminBody } from '../../auth/routes';
import { ROLES } from '../../auth/model';
import type { Contract } from './contract';

const Role = z.enum(ROLES);
const AdminView = z.object({ id: z.string(), email: z.string(), displayName: z.string(), role: Role, createdAt: z.string() }).meta({ id: 'Admin' });

const Session = z.object({ email: z.string(), tenantId: z.string(), role: Role, expiresAt: z.string() });
const Me = z.object({ email: z.string(), tenantId: z.string(), role: Role, displayName: z.string() });

export function registerAuth(c: Contract): void {
  c.operation({
    method: 'post',
    path: '/api/auth/login',
    summary: 'Sign an administrator in (sets the session cookie)',
    access: 'public',
    body: loginBody,
    ok: { status: 200, schema: Session },
    errors: [401, 429],
  });
  c.operation({
    method: 'post',
    path: '/api/auth/logout',
    summary: 'Sign out (ends this session)',
    access: 'reader',
    ok: { status: 204, description: 'Signed out' },
  });
  c.operation({ method: 'get', path: '/api/auth/me', summary: 'The signed-in administrator', access: 'reader', ok: { status: 200, schema: Me } });
  c.operation({
    method: 'get',
    path: '/api/admins',
    summary: 'The tenant’s administrators',
    access: 'reader',
    ok: { status: 200, schema: z.array(AdminView) },
  });
  c.operation({ method: 'get', path: '/api/admins/:id', summary: 'One administrator', access: 'reader', ok: { status: 200, schema: AdminView } });
  c.operation({
    method: 'post',
    path: '/api/admins',
    summary: 'Add an administrator',
    access: 'full',
    body: newAdminBody,
    ok: { status: 201, schema: AdminView },
    errors: [409],
  });
  c.operation({
    method: 'patch',
    path: '/api/admins/:id',
    summary: 'Change an administrator’s role or display name (409: the last full administrator)',
    access: 'full',
    body: updateAdminBody,
    ok: { status: 200, schema: AdminView },
    errors: [409],
  });
  c.operation({
    method: 'delete',
    path: '/api/admins/:id',
    summary: 'Remove an administrator (403: oneself; 409: the last full administrator)',
    access: 'full',
    ok: { status: 204, description: 'Removed; their sessions end' },
    errors: [409],
  });
  c.operation({
    method: 'put',
    path: '/api/admins/:id/password',
    summary: 'Set a new password for an administrator (their sessions end)',
    access: 'full',
    body: adminPasswordBody,
    ok: { status: 204, description: 'Set' },
  });
  c.operation({
    method: 'post',
    path: '/api/admins/:id/unlock',
    summary: 'Forget an administrator’s failed sign-ins (the throttle’s delays)',
    access: 'full',
    ok: { status: 204, description: 'Unlocked' },
  });
}
