/** Composes the Graph provider of one database connection: connection, client, sync, look-ups. */
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { SealError, type SecretBox } from '../../secrets/seal';
import type { TenantService } from '../../tenants/service';
import { HttpProblem } from '../../http/problem';
import { createGraphClientFactory, GraphRequestError, type GraphApi, type GraphClientOptions, type GraphEndpoints } from './client';
import { createConnectionService } from './connection';
import { entraConnectionModel, syncLeaseModel, syncStateModel } from './model';
import { createGraphDirectory } from './provider';
import { createSyncStore } from './store';
import { createDirectorySync, type SyncDeps } from './sync';

export function createEntra(
  conn: Connection,
  deps: {
    box: SecretBox;
    endpoints: GraphEndpoints;
    tenants: TenantService;
    logger: Logger;
    now?: () => Date;
    synced: SyncDeps['synced'];
    onSynced?: SyncDeps['onSynced'];
  },
) {
  const graph = createGraphClientFactory(deps.endpoints);
  const connections = createConnectionService({
    connections: entraConnectionModel(conn),
    box: deps.box,
    // A connection is proven before it is stored: the app's credential must get a token for the Entra tenant.
    prove: (creds) => graph.prove(creds),
    fileTenantOf: async (entraTenantId) => (await deps.tenants.byEntraTenantId(entraTenantId))?.id ?? null,
  });
  const states = syncStateModel(conn);
  const store = createSyncStore(conn);
  const sync = createDirectorySync({
    states,
    leases: syncLeaseModel(conn),
    store,
    connections,
    graph,
    tenants: deps.tenants,
    logger: deps.logger,
    now: deps.now,
    synced: deps.synced,
    onSynced: deps.onSynced,
  });
  return {
    graph,
    connections,
    sync,
    directory: createGraphDirectory({ states, store }),
    /** A Graph client for a connected tenant; null for a tenant on the file provider. */
    async api(tenantId: string, options?: GraphClientOptions): Promise<GraphApi | null> {
      const creds = await connections.credentials(tenantId);
      return creds ? graph.client(creds, options) : null;
    },
  };
}
export type Entra = ReturnType<typeof createEntra>;

/**
 * Graph or Entra could not be reached or is failing (network error, timeout, throttling, 5xx), as
 * opposed to refusing us (a wrong credential, a missing permission, a bad request): the first is an
 * outage, when answers from the last successful sync are better than none; the second is for an
 * admin to fix and is reported as it is.
 */
export function graphUnavailable(err: unknown): boolean {
  if (!(err instanceof GraphRequestError)) return false;
  if (err.status !== null) return err.status === 429 || err.status >= 500;
  // No answer from Graph: a network failure, unless Entra's token endpoint refused us (an OAuth error
  // such as invalid_client, which the SDK passes on as a "ServerError" naming it).
  return !/\b(invalid_[a-z_]+|unauthorized_client|unsupported_[a-z_]+|access_denied)\b/.test(`${err.code ?? ''} ${err.message}`);
}

/** Graph or Entra failed: 502 with what they said (never a credential: they do not echo them). */
export async function viaGraph<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof GraphRequestError) throw new HttpProblem(502, 'Bad Gateway', `Microsoft Graph could not answer: ${err.message}`);
    if (err instanceof SealError) throw new HttpProblem(409, 'Conflict', `The Entra connection must be set again: ${err.message}`);
    throw err;
  }
}
