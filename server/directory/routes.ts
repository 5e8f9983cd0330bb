import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AuditService } from '../audit/service';
import { adminActor, requestContext } from '../auth/identity';
import { currentAdmin, requireAdmin } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import { conflict, HttpProblem, notFound } from '../http/problem';
import { parseQuery } from '../http/validate';
import { DirectoryFileError, readDirectoryFile } from './file-provider';
import type { GraphApi } from './graph/client';
import { graphUnavailable, viaGraph, type Entra } from './graph/index';
import type { DirectoryService } from './service';

const searchQuery = z.object({ search: z.string().max(200).optional() });

/**
 * Where a look-up's answer came from: `graph` (live), `stored` (Graph was unavailable: the directory
 * as of the last successful sync, whose time is in LAST_SYNC_HEADER) or `file` (not connected).
 */
export const SOURCE_HEADER = 'Lifeboat-Directory-Source';
export const LAST_SYNC_HEADER = 'Lifeboat-Directory-Last-Successful-Sync';

/**
 * The directory read API. A tenant connected to Entra ID is answered by the Graph provider, any other
 * by the directory file's copy; the responses have the same shapes.
 */
export function directoryRoutes(deps: { auth: AuthService; directory: DirectoryService; entra: Entra; audit: AuditService; directoryFile: string }): Router {
  const { auth, directory, audit, entra } = deps;
  const router = Router();
  const graphFor = (tenantId: string) => viaGraph(() => entra.api(tenantId));

  /**
   * A picker's search: live from Graph for a connected tenant; when Graph is unavailable, from the
   * directory as of the last successful sync (marked so in the headers); the file otherwise.
   */
  async function search<T>(req: Request, res: Response, live: (api: GraphApi) => Promise<T>, stored: (tenantId: string) => Promise<T>): Promise<void> {
    const { tenantId } = currentAdmin(req);
    // One quick attempt: a picker does not wait out Retry-After while answers from the last sync exist.
    const api = await viaGraph(() => entra.api(tenantId, { maxRetries: 0 }));
    if (!api) {
      res.set(SOURCE_HEADER, 'file').json(await stored(tenantId));
      return;
    }
    let found: T;
    try {
      found = await live(api);
    } catch (err) {
      const lastSync = graphUnavailable(err) ? (await entra.sync.status(tenantId)).lastSuccessfulSync : null;
      if (!lastSync) return viaGraph(() => Promise.reject(err));
      req.log?.warn({ tenant: tenantId, error: (err as Error).message }, 'directory look-up: Graph unavailable; answered from the last successful sync');
      res.set(SOURCE_HEADER, 'stored').set(LAST_SYNC_HEADER, lastSync).json(await stored(tenantId));
      return;
    }
    res.set(SOURCE_HEADER, 'graph').json(found);
  }

  router.get('/api/directory/groups', requireAdmin(auth), async (req, res) => {
    const { search: text } = parseQuery(searchQuery, req);
    await search(req, res, (api) => entra.directory.searchGroups(api, text), (tenantId) => directory.searchGroups(tenantId, text));
  });

  router.get('/api/directory/users', requireAdmin(auth), async (req, res) => {
    const { search: text } = parseQuery(searchQuery, req);
    await search(req, res, (api) => entra.directory.searchUsers(api, text), (tenantId) => directory.searchUsers(tenantId, text));
  });

  router.get('/api/directory/groups/:id', requireAdmin(auth), async (req, res) => {
    const { tenantId } = currentAdmin(req);
    const api = await graphFor(tenantId);
    if (api) {
      const found = await viaGraph(() => entra.directory.getGroup(api, tenantId, req.params.id as string));
      if (!found) throw notFound('group');
      return void res.json(found);
    }
    const group = await directory.getGroup(tenantId, req.params.id as string);
    if (!group) throw notFound('group');
    const memberIds = await directory.transitiveUserIds(tenantId, group.id);
    res.json({ ...group, transitiveMemberIds: memberIds, transitiveMemberCount: memberIds.length });
  });

  router.get('/api/directory/users/:id', requireAdmin(auth), async (req, res) => {
    const { tenantId } = currentAdmin(req);
    const api = await graphFor(tenantId);
    if (api) {
      const found = await viaGraph(() => entra.directory.getUser(api, tenantId, req.params.id as string));
      if (!found) throw notFound('user');
      return void res.json(found);
    }
    const user = await directory.getUser(tenantId, req.params.id as string);
    if (!user) throw notFound('user');
    const { tenantId: _omit, ...view } = user;
    res.json({ ...view, groupIds: await directory.transitiveGroupIds(tenantId, user.id) });
  });

  /** Re-reads the directory file for the admin's own tenant (other tenants in the file are left alone). */
  router.post('/api/directory/reload', requireAdmin(auth, 'basicAdministrator'), async (req, res) => {
    const identity = currentAdmin(req);
    if (await entra.connections.isConnected(identity.tenantId)) {
      throw conflict('This tenant reads its directory from Entra ID; use POST /api/directory/sync instead.');
    }
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
