/** HTTP for the Entra connection, directory sync, expansions and the permission probe. */
import { isEmailAddress, normalizeAddress } from '../../http/addresses';
import { Router } from 'express';
import { z } from 'zod';
import type { AuditService } from '../../audit/service';
import { adminActor, requestContext } from '../../auth/identity';
import { currentAdmin, requireAdmin } from '../../auth/middleware';
import type { AuthService } from '../../auth/service';
import { conflict, HttpProblem, notFound, unprocessable } from '../../http/problem';
import { parseBody } from '../../http/validate';
import type { TenantService } from '../../tenants/service';
import { ConnectionConflictError, ConnectionInputError, ConnectionProofError } from './connection';
import { describeGraphError } from './client';
import { graphUnavailable, viaGraph, type Entra } from './index';
import { probePermissions } from './permissions';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

export const connectionBody = z
  .object({
    entraTenantId: z.string().refine((v) => GUID.test(v) || DOMAIN.test(v), 'must be the Entra tenant id (a GUID) or its domain'),
    clientId: z.string().regex(GUID, 'must be the application (client) id, a GUID'),
    clientSecret: z.string().min(1, 'must not be empty').max(1024).optional(),
    certificate: z
      .object({
        certificatePem: z.string().min(1).max(20_000),
        privateKeyPem: z.string().min(1).max(20_000),
      })
      .strict()
      .optional(),
    syncIntervalMinutes: z.number().int().min(1).max(1440).optional(),
  })
  .strict();

export const syncBody = z.object({ full: z.boolean().optional() }).strict();

export function entraRoutes(deps: { auth: AuthService; audit: AuditService; entra: Entra; tenants: TenantService }): Router {
  const { auth, audit, entra, tenants } = deps;
  const router = Router();

  const connected = async (tenantId: string) => {
    const api = await viaGraph(() => entra.api(tenantId));
    if (!api) throw conflict('This tenant is not connected to Entra ID (PUT /api/directory/connection first); it uses the directory file.');
    return api;
  };

  router.get('/api/directory/connection', requireAdmin(auth), async (req, res) => {
    const view = await entra.connections.get(currentAdmin(req).tenantId);
    if (!view) throw notFound('Entra connection');
    res.json(view);
  });

  router.put('/api/directory/connection', requireAdmin(auth, 'fullAdministrator'), async (req, res) => {
    const identity = currentAdmin(req);
    const body = parseBody(connectionBody, req);
    let result;
    try {
      result = await entra.connections.set(identity.tenantId, body);
    } catch (err) {
      if (err instanceof ConnectionInputError) throw unprocessable(err.errors);
      if (err instanceof ConnectionConflictError) throw conflict('This Entra tenant is already connected to another organisation on this server.');
      if (err instanceof ConnectionProofError) {
        const why = describeGraphError(err.cause, 'signing in to Entra ID');
        // Entra unreachable is an outage (502); Entra refusing the credential is the admin's to fix (422).
        if (graphUnavailable(why)) await viaGraph(() => Promise.reject(why));
        throw unprocessable([{ path: err.path, message: `Entra ID did not give the application a token for this tenant: ${why.message}` }]);
      }
      throw err;
    }
    entra.graph.forget(identity.tenantId);
    await audit.record({
      tenantId: identity.tenantId,
      category: 'directory',
      action: result.before ? 'directory.connection.changed' : 'directory.connection.created',
      actor: adminActor(identity),
      target: { type: 'entraConnection', id: result.after.entraTenantId, label: result.after.clientId },
      before: result.before,
      // The credential itself is never recorded: only that it changed, and its kind.
      after: { ...result.after, credentialChanged: result.credentialChanged },
      ...requestContext(req),
    });
    res.status(result.before ? 200 : 201).json(result.after);
  });

  router.delete('/api/directory/connection', requireAdmin(auth, 'fullAdministrator'), async (req, res) => {
    const identity = currentAdmin(req);
    const removed = await entra.connections.remove(identity.tenantId);
    if (!removed) throw notFound('Entra connection');
    entra.graph.forget(identity.tenantId);
    await entra.sync.reset(identity.tenantId);
    await audit.record({
      tenantId: identity.tenantId,
      category: 'directory',
      action: 'directory.connection.removed',
      actor: adminActor(identity),
      target: { type: 'entraConnection', id: removed.entraTenantId, label: removed.clientId },
      before: removed,
      ...requestContext(req),
    });
    res.status(204).end();
  });

  router.get('/api/directory/sync', requireAdmin(auth), async (req, res) => {
    res.json(await entra.sync.status(currentAdmin(req).tenantId));
  });

  router.post('/api/directory/sync', requireAdmin(auth, 'basicAdministrator'), async (req, res) => {
    const identity = currentAdmin(req);
    const { full } = req.body === undefined ? { full: undefined } : parseBody(syncBody, req);
    await connected(identity.tenantId);
    const { started, status } = await entra.sync.start(identity.tenantId, { full });
    if (!started) throw new HttpProblem(409, 'Conflict', 'A directory sync of this tenant is already running.', { sync: status });
    await audit.record({
      tenantId: identity.tenantId,
      category: 'directory',
      action: 'directory.sync.requested',
      actor: adminActor(identity),
      target: { type: 'directory', id: null, label: 'Entra ID' },
      after: { full: Boolean(full) },
      ...requestContext(req),
    });
    res.status(202).json(status);
  });

  router.get('/api/directory/permissions', requireAdmin(auth), async (req, res) => {
    const { tenantId } = currentAdmin(req);
    const api = await connected(tenantId);
    const view = await entra.connections.get(tenantId);
    res.json(await viaGraph(() => probePermissions(api, view!.clientId)));
  });

  router.get('/api/directory/expansions', requireAdmin(auth), async (req, res) => {
    res.json(await entra.directory.listExpansions(currentAdmin(req).tenantId));
  });

  router.get('/api/directory/expansions/:groupId', requireAdmin(auth), async (req, res) => {
    const found = await entra.directory.getExpansion(currentAdmin(req).tenantId, req.params.groupId as string);
    if (!found) throw notFound('group expansion');
    res.json(found);
  });

  /**
   * What an address is to the mail path: in which expansions it is; or, for an unknown address in
   * one of the tenant's domains, that its membership cannot be known (an Exchange dynamic
   * distribution group is not in Entra ID, so Graph does not return it).
   */
  router.get('/api/directory/addresses/:address', requireAdmin(auth), async (req, res) => {
    const { tenantId } = currentAdmin(req);
    const address = normalizeAddress(req.params.address as string);
    if (!isEmailAddress(address)) throw unprocessable([{ path: 'address', message: 'must be an email address' }]);
    const known = await entra.directory.knownAddress(tenantId, address);
    if (known) return void res.json({ address, membership: 'known', type: known, groupIds: await entra.directory.groupsOfAddress(tenantId, address) });
    const tenant = await tenants.get(tenantId);
    const ours = tenant?.domains.includes(address.split('@')[1]) ?? false;
    res.json({
      address,
      membership: ours ? 'unknowable' : 'external',
      type: null,
      groupIds: [],
      reason: ours
        ? 'Not a user or group in Entra ID as of the last successful sync. If it is an Exchange dynamic distribution group, its membership cannot be known: Microsoft Graph does not return those groups.'
        : 'Not in one of the tenant’s domains.',
    });
  });

  return router;
}
