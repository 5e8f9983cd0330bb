/**
 * The HTTPS Entra token endpoint and Graph stand-ins for one test file: started in a beforeAll, closed in an
 * afterAll; and a tenant connected to one of their Entra tenants, synced. Call useGraphStandIns(world) before useLifeboat({ graph: standIns.graph }): jest runs beforeAll and
 * afterAll hooks in the order they are declared, so the app is built with the stand-ins' endpoints and the
 * stand-ins close (after their Graph deliveries) before the app stops.
 */
import type request from 'supertest';
import { eventually } from './eventually';
import { startStandIns, type StandIns, type StandInWorld } from '../stand-ins/entra';
import { assertCertificateTrusted } from '../stand-ins/tls';

export interface GraphStandIns {
  /** The authority host base (read once the file's beforeAll hooks have run). */
  readonly loginUrl: string;
  /** The Graph base. */
  readonly graphUrl: string;
  /** The endpoints, for useLifeboat's `graph` option or a Graph client factory. */
  graph(): { loginUrl: string; graphUrl: string };
  /** Closes them early (a test of Graph going away); the afterAll closing them again is harmless. */
  close(): Promise<void>;
}

export function useGraphStandIns(world: StandInWorld): GraphStandIns {
  let standIns: StandIns | undefined;
  beforeAll(async () => {
    assertCertificateTrusted();
    standIns = await startStandIns(world);
  });
  afterAll(async () => {
    await standIns?.close();
  });
  const running = (): StandIns => {
    if (!standIns) throw new Error('the Graph stand-ins start in a beforeAll: read them in a hook or a test');
    return standIns;
  };
  return {
    get loginUrl() {
      return running().loginUrl;
    },
    get graphUrl() {
      return running().graphUrl;
    },
    graph: () => ({ loginUrl: running().loginUrl, graphUrl: running().graphUrl }),
    close: () => running().close(),
  };
}

/** Connects the signed-in admin's tenant to an Entra tenant of the stand-ins and waits for its first directory sync. */
export async function connectAndSync(admin: request.Agent, connection: { entraTenantId: string; clientId: string; clientSecret: string }): Promise<void> {
  await admin.put('/api/directory/connection').send(connection).expect(201);
  await admin.post('/api/directory/sync').send({}).expect(202);
  await eventually(async () => expect((await admin.get('/api/directory/sync').expect(200)).body.state).toBe('succeeded'), 60_000);
}
