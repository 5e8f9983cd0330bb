/** Contract of the directory: look-ups, the file reload, the Entra connection, sync and expansions (server/directory/). */
import { z } from 'zod';
import { connectionBody, syncBody } from '../../directory/graph/routes';
import { searchQuery } from '../../directory/routes';
import type { Contract } from './contract';

const GroupSummary = z
  .object({ id: z.string(), displayName: z.string(), mail: z.string().nullable(), kind: z.string() })
  .loose()
  .meta({ id: 'DirectoryGroup' });
const UserSummary = z.object({ id: z.string(), displayName: z.string(), mail: z.string().nullable().optional() }).loose().meta({ id: 'DirectoryUser' });
const Group = GroupSummary.extend({ transitiveMemberIds: z.array(z.string()), transitiveMemberCount: z.number().int() }).loose();
const User = UserSummary.extend({ groupIds: z.array(z.string()) }).loose();
const ImportCounts = z.record(z.string(), z.number());
const Connection = z
  .object({
    entraTenantId: z.string(),
    clientId: z.string(),
    credentialType: z.string(),
    certificateThumbprint: z.string().nullable(),
    syncIntervalMinutes: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'EntraConnection' });
const SyncStatus = z
  .object({
    state: z.string(),
    lastSuccessfulSync: z.string().nullable(),
    error: z.unknown().nullable(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .loose()
  .meta({ id: 'SyncStatus' });
const Permissions = z.object({
  checkedAt: z.string(),
  granted: z.array(z.string()),
  permissions: z.array(
    z.object({ permission: z.string(), status: z.enum(['granted', 'missing']), grantedAs: z.string().nullable(), neededFor: z.unknown() }).loose(),
  ),
});
const ExpansionHead = z
  .object({
    groupId: z.string(),
    displayName: z.string(),
    mail: z.string().nullable(),
    kind: z.string(),
    membership: z.literal('known'),
    memberCount: z.number().int(),
    addressCount: z.number().int(),
    updatedAt: z.string().nullable(),
  })
  .loose();
const Expansions = z.object({ lastSuccessfulSync: z.string().nullable(), lastError: z.unknown().nullable(), groups: z.array(ExpansionHead) });
const Expansion = ExpansionHead.extend({
  userIds: z.array(z.string()),
  addresses: z.array(z.string()),
  lastSuccessfulSync: z.string().nullable(),
  lastError: z.unknown().nullable(),
});
const AddressMembership = z
  .object({
    address: z.string(),
    membership: z.enum(['known', 'unknowable', 'external']),
    type: z.enum(['user', 'group']).nullable(),
    groupIds: z.array(z.string()),
    reason: z.string().optional(),
  })
  .loose();

/** Look-ups of a tenant connected to Entra ID may meet Graph failing (502) with no earlier sync to fall back on, or a connection that must be set again (409). */
const GRAPH = [409, 502];

export function registerDirectory(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/directory/groups',
    summary: 'Search groups',
    access: 'reader',
    query: searchQuery,
    ok: { status: 200, schema: z.array(GroupSummary) },
    errors: GRAPH,
  });
  c.operation({
    method: 'get',
    path: '/api/directory/users',
    summary: 'Search users',
    access: 'reader',
    query: searchQuery,
    ok: { status: 200, schema: z.array(UserSummary) },
    errors: GRAPH,
  });
  c.operation({
    method: 'get',
    path: '/api/directory/groups/:id',
    summary: 'A group with its transitive members',
    access: 'reader',
    ok: { status: 200, schema: Group },
    errors: GRAPH,
  });
  c.operation({
    method: 'get',
    path: '/api/directory/users/:id',
    summary: 'A user with the groups they are in',
    access: 'reader',
    ok: { status: 200, schema: User },
    errors: GRAPH,
  });
  c.operation({
    method: 'post',
    path: '/api/directory/reload',
    summary: 'Re-read the directory file for this tenant',
    access: 'basic',
    ok: { status: 200, schema: ImportCounts },
    errors: [409, 422],
  });

  c.operation({
    method: 'get',
    path: '/api/directory/connection',
    summary: 'The Entra ID connection',
    access: 'reader',
    ok: { status: 200, schema: Connection },
    errors: [404],
  });
  c.operation({
    method: 'put',
    path: '/api/directory/connection',
    summary: 'Connect to Entra ID (or change the connection)',
    access: 'full',
    body: connectionBody,
    ok: [
      { status: 200, schema: Connection },
      { status: 201, schema: Connection },
    ],
    // 409: the Entra tenant is another organisation's; 502: Entra ID could not be reached to prove the credential.
    errors: [409, 502],
  });
  c.operation({
    method: 'delete',
    path: '/api/directory/connection',
    summary: 'Disconnect from Entra ID',
    access: 'full',
    ok: { status: 204, description: 'Removed' },
    errors: [404],
  });
  c.operation({ method: 'get', path: '/api/directory/sync', summary: 'Directory sync status', access: 'reader', ok: { status: 200, schema: SyncStatus } });
  c.operation({
    method: 'post',
    path: '/api/directory/sync',
    summary: 'Start a directory sync',
    access: 'basic',
    body: syncBody,
    bodyOptional: true,
    ok: { status: 202, schema: SyncStatus },
    errors: [409, ...GRAPH],
  });
  c.operation({
    method: 'get',
    path: '/api/directory/permissions',
    summary: 'Probe the app’s Graph permissions',
    access: 'reader',
    ok: { status: 200, schema: Permissions },
    errors: [409, ...GRAPH],
  });
  c.operation({
    method: 'get',
    path: '/api/directory/expansions',
    summary: 'Group expansions of the last sync',
    access: 'reader',
    ok: { status: 200, schema: Expansions },
  });
  c.operation({
    method: 'get',
    path: '/api/directory/expansions/:groupId',
    summary: 'One group’s expansion',
    access: 'reader',
    ok: { status: 200, schema: Expansion },
  });
  c.operation({
    method: 'get',
    path: '/api/directory/addresses/:address',
    summary: 'What an address is to the mail path',
    access: 'reader',
    params: { address: z.email().max(320) },
    ok: { status: 200, schema: AddressMembership },
    errors: [422],
  });
}
