/** Contract of the admin sign-in and the administrators (server/auth/routes.ts). */
import { z } from 'zod';
import { loginBody, newAdminBody } from '../../auth/routes';
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
}
