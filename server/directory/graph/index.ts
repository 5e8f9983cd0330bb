/** Composes the Graph provider of one database connection: connection, client, sync, look-ups. */
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { SealError, type SecretBox } from '../../secrets/seal';
import type { TenantService } from '../../tenants/service';
import { HttpProblem } from '../../http/problem';
import { createGraphClientFactory, GraphRequestError, type GraphApi, type GraphEndpoints } from './client';
import { createConnectionService } from './connection';
import { entraConnectionModel, syncLeaseModel, syncStateModel } from './model';
import { createGraphDirectory } from './provider';
import { createSyncStore } from './store';
import { createDirectorySync, type SyncDeps } from './sync';

export function createEntra(
  conn: Connection,
  deps: { box: SecretBox; endpoints: GraphEndpoints; tenants: TenantService; logger: Logger; now?: () => Date; onSynced?: SyncDeps['onSynced'] },
) {
  const graph = createGraphClientFactory(deps.endpoints);
  const connections = createConnectionService({ connections: entraConnectionModel(conn), box: deps.box });
  const states = syncStateModel(conn);
  const store = createSyncStore(conn);
  const sync = createDirectorySync({ states, leases: syncLeaseModel(conn), store, connections, graph, tenants: deps.tenants, logger: deps.logger, now: deps.now, onSynced: deps.onSynced });
  return {
    graph,
    connections,
    sync,
    directory: createGraphDirectory({ states, store }),
    /** A Graph client for a connected tenant; null for a tenant on the file provider. */
    async api(tenantId: string): Promise<GraphApi | null> {
      const creds = await connections.credentials(tenantId);
      return creds ? graph.client(creds) : null;
    },
  };
}
export type Entra = ReturnType<typeof createEntra>;

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
