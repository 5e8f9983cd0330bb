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

export const searchQuery = z.object({ search: z.string().max(200).optional() });
export const userSearchQuery = searchQuery.extend({ include: z.enum(['cloudPassword']).optional() });

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
export function directoryRoutes(deps: {
  auth: AuthService;
  directory: DirectoryService;
  entra: Entra;
  audit: AuditService;
  directoryFile: string;
  /** When each user got their cloud password (user-auth), shown with the users. */
  cloudPasswordsSetAt?: (tenantId: string) => Promise<Map<string, Date>>;
}): Router {
  const { auth, directory, audit, entra } = deps;
  const router = Router();

  /**
   * A look-up (picker search or one group/user): live from Graph for a connected tenant; when Graph is
   * unavailable, from the directory as of the last successful sync (marked so in the headers); the file
   * otherwise. The caller decides what a missing answer means, then sends it.
   */
  async function lookUp<T>(req: Request, live: (api: GraphApi, tenantId: string) => Promise<T>, stored: (tenantId: string) => Promise<T>) {
    const { tenantId } = currentAdmin(req);
    const answer = (value: T, headers: Record<string, string>) => {
      // send() answers with the value as it is then (a caller may decorate it first).
      const result = { value, send: (res: Response) => res.set(headers).json(result.value) };
      return result;
    };
    // One quick attempt: a look-up does not wait out Retry-After while answers from the last sync exist.
    const api = await viaGraph(() => entra.api(tenantId, { maxRetries: 0 }));
    if (!api) return answer(await stored(tenantId), { [SOURCE_HEADER]: 'file' });
    try {
      return answer(await live(api, tenantId), { [SOURCE_HEADER]: 'graph' });
    } catch (err) {
      const lastSync = graphUnavailable(err) ? (await entra.sync.status(tenantId)).lastSuccessfulSync : null;
      if (!lastSync) return viaGraph(() => Promise.reject(err));
      req.log?.warn({ tenant: tenantId, error: (err as Error).message }, 'directory look-up: Graph unavailable; answered from the last successful sync');
      return answer(await stored(tenantId), { [SOURCE_HEADER]: 'stored', [LAST_SYNC_HEADER]: lastSync });
    }
  }

  router.get('/api/directory/groups', requireAdmin(auth), async (req, res) => {
    const { search: text } = parseQuery(searchQuery, req);
    (
      await lookUp(
        req,
        (api) => entra.directory.searchGroups(api, text),
        (tenantId) => directory.searchGroups(tenantId, text),
      )
    ).send(res);
  });

  router.get('/api/directory/users', requireAdmin(auth), async (req, res) => {
    const { search: text, include } = parseQuery(userSearchQuery, req);
    const found = await lookUp(
      req,
      (api) => entra.directory.searchUsers(api, text),
      (tenantId) => directory.searchUsers(tenantId, text),
    );
    // Directory › Users asks for who has a cloud password, and since when (null: none); the pickers do not.
    if (include === 'cloudPassword') {
      const setAt = (await deps.cloudPasswordsSetAt?.(currentAdmin(req).tenantId)) ?? new Map<string, Date>();
      found.value = found.value.map((u) => ({ ...u, cloudPasswordSetAt: setAt.get(u.id)?.toISOString() ?? null }));
    }
    found.send(res);
  });

  /** A stored group with its transitive members: the file's copy, or the last sync's when Graph is unavailable. */
  async function storedGroup(tenantId: string, id: string) {
    const group = await directory.getGroup(tenantId, id);
    if (!group) return null;
    const memberIds = await directory.transitiveUserIds(tenantId, group.id);
    return { ...group, transitiveMemberIds: memberIds, transitiveMemberCount: memberIds.length };
  }

  router.get('/api/directory/groups/:id', requireAdmin(auth), async (req, res) => {
    const id = req.params.id as string;
    const found = await lookUp(
      req,
      (api, tenantId) => entra.directory.getGroup(api, tenantId, id),
      (tenantId) => storedGroup(tenantId, id),
    );
    if (!found.value) throw notFound('group');
    found.send(res);
  });

  async function storedUser(tenantId: string, id: string) {
    const user = await directory.getUser(tenantId, id);
    if (!user) return null;
    const { tenantId: _omit, ...view } = user;
    return { ...view, groupIds: await directory.transitiveGroupIds(tenantId, user.id) };
  }

  router.get('/api/directory/users/:id', requireAdmin(auth), async (req, res) => {
    const id = req.params.id as string;
    const found = await lookUp(
      req,
      (api, tenantId) => entra.directory.getUser(api, tenantId, id),
      (tenantId) => storedUser(tenantId, id),
    );
    if (!found.value) throw notFound('user');
    found.send(res);
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
