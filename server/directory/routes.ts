import { Router } from 'express';
import { z } from 'zod';
import type { AuditService } from '../audit/service';
import { adminActor, requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { conflict, HttpProblem, notFound } from '../http/problem';
import { parseQuery } from '../http/validate';
import { DirectoryFileError, readDirectoryFile } from './file-provider';
import type { DirectoryService } from './service';

const searchQuery = z.object({ search: z.string().max(200).optional() });

export function directoryRoutes(deps: { auth: AuthService; directory: DirectoryService; audit: AuditService; directoryFile: string }): Router {
  const { auth, directory, audit } = deps;
  const router = Router();

  router.get('/api/directory/groups', requireAdmin(auth), async (req, res) => {
    const { search } = parseQuery(searchQuery, req);
    res.json(await directory.searchGroups(currentAdmin(req).tenantId, search));
  });

  router.get('/api/directory/users', requireAdmin(auth), async (req, res) => {
    const { search } = parseQuery(searchQuery, req);
    res.json(await directory.searchUsers(currentAdmin(req).tenantId, search));
  });

  router.get('/api/directory/groups/:id', requireAdmin(auth), async (req, res) => {
    const { tenantId } = currentAdmin(req);
    const group = await directory.getGroup(tenantId, req.params.id as string);
    if (!group) throw notFound('group');
    const memberIds = await directory.transitiveUserIds(tenantId, group.id);
    res.json({ ...group, transitiveMemberIds: memberIds, transitiveMemberCount: memberIds.length });
  });

  router.get('/api/directory/users/:id', requireAdmin(auth), async (req, res) => {
    const { tenantId } = currentAdmin(req);
    const user = await directory.getUser(tenantId, req.params.id as string);
    if (!user) throw notFound('user');
    const { tenantId: _omit, ...view } = user;
    res.json({ ...view, groupIds: await directory.transitiveGroupIds(tenantId, user.id) });
  });

  /** Re-reads the directory file for the admin's own tenant (other tenants in the file are left alone). */
  router.post('/api/directory/reload', requireAdmin(auth, 'basicAdministrator'), async (req, res) => {
    const identity = currentAdmin(req);
    let docs;
    try {
      docs = readDirectoryFile(deps.directoryFile);
    } catch (err) {
      if (err instanceof DirectoryFileError) throw new HttpProblem(422, 'Unprocessable Content', err.message);
      throw err;
    }
    const doc = docs.find((d) => d.tenant.id === identity.tenantId);
    if (!doc) throw conflict('The directory file no longer contains this tenant; nothing was changed.');
    const counts = await directory.importDirectory(doc);
    await audit.record({
      tenantId: identity.tenantId,
      category: 'directory',
      action: 'directory.reloaded',
      actor: adminActor(identity),
      target: { type: 'directory', id: null, label: 'file' },
      after: counts,
      ...requestContext(req),
    });
    res.json(counts);
  });

  return router;
}
