/**
 * Cross-node invalidation through a real redis-server: two service graphs on one database (two nodes
 * in one test process), each joined to Redis as server/main.ts joins them. A reaction on one node runs
 * only the other's `everyNode` (cache-drop) listeners there; the Entra connection state is an example.
 */
import request from 'supertest';
import { connectCluster, type Cluster } from '../../server/cluster/redis';
import { createLogger } from '../../server/log';
import { createReactions } from '../../server/reactions/bus';
import { createServices, type Services } from '../../server/services';
import { testServiceOptions, useLifeboat } from '../harness/context';
import { startRedis, type TestRedis } from '../harness/redis';
import { useGraphStandIns } from '../harness/graph-stand-ins';
import { StandInWorld } from '../stand-ins/entra';

// A real-protocol Entra stand-in: a connection is proven (its credential must get a token) before it is kept.
const world = new StandInWorld();
const ENTRA_TENANT = world.addTenant('aaaaaaaa-0000-4000-8000-000000000001');
const CLIENT_ID = '11111111-2222-4333-8444-555555555555';
const CLIENT_SECRET = 'a client secret';
ENTRA_TENANT.registerApp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, grantedPermissions: ['User.Read.All', 'Group.Read.All'] });
const standIns = useGraphStandIns(world);
const ctx = useLifeboat({ graph: standIns.graph });
let redis: TestRedis;
const clusters: Cluster[] = [];
let nodeB: Services;

async function join(): Promise<Cluster> {
  const cluster = await connectCluster(redis.url, createLogger('silent'));
  clusters.push(cluster);
  return cluster;
}

async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return { value, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  redis = await startRedis();
  ctx.services.reactions.useCluster((await join()).invalidation);
  nodeB = createServices(ctx.conn, testServiceOptions({ graph: standIns.graph() }));
  nodeB.reactions.useCluster((await join()).invalidation);
});

afterAll(async () => {
  for (const cluster of clusters) await cluster.close();
  await redis?.stop();
});

describe('cross-node invalidation', () => {
  it("replays another node's reaction into the cache-drop listeners only, in the catalogue's order", async () => {
    const [one, two] = [createReactions(createLogger('silent')), createReactions(createLogger('silent'))];
    one.useCluster((await join()).invalidation);
    two.useCluster((await join()).invalidation);
    const ranOnTwo: string[] = [];
    two.drop('event:changed', 'mail.caches', ({ tenantId }) => void ranOnTwo.push(`mail.caches ${tenantId}`));
    two.drop('event:changed', 'status.caches', ({ tenantId }) => void ranOnTwo.push(`status.caches ${tenantId}`));
    two.on('event:changed', 'scheduler.wake', () => void ranOnTwo.push('scheduler.wake'));
    two.on('event:changed', 'push.status', () => void ranOnTwo.push('push.status'));
    const ranOnOne: string[] = [];
    one.drop('event:changed', 'status.caches', () => void ranOnOne.push('status.caches'));
    one.on('event:changed', 'scheduler.wake', () => void ranOnOne.push('scheduler.wake'));

    const event = { tenantId: 'alpha' } as Parameters<typeof one.emit<'event:changed'>>[1]['event'];
    await one.emit('event:changed', { event });
    await eventually(() => (ranOnTwo.length >= 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200)); // anything else would have arrived by now
    expect(ranOnTwo).toEqual(['status.caches alpha', 'mail.caches alpha']);
    expect(ranOnOne).toEqual(['scheduler.wake', 'status.caches']); // its own message is not replayed
  });

  it("an Entra connection made on one node switches the other's directory at once (not after its 5 s cache)", async () => {
    expect(await nodeB.entra.connections.isConnected('alpha')).toBe(false); // node B caches "not connected"
    await ctx.services.entra.connections.set('alpha', {
      entraTenantId: ENTRA_TENANT.id,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    });
    const { ms } = await eventually(async () => ((await nodeB.entra.connections.isConnected('alpha')) ? true : undefined));
    console.log(`Entra connection on A in force on B after ${ms} ms`);
    expect(ms).toBeLessThan(5_000);
    await ctx.services.entra.connections.remove('alpha');
    await eventually(async () => ((await nodeB.entra.connections.isConnected('alpha')) ? undefined : true));
  });

  it("a user's tokens revoked on one node are refused on the other at once; a token issued since is good on every node", async () => {
    const admin = await ctx.signIn('alpha', 'basicAdministrator');
    await admin.put('/api/users/alpha-u1/cloud-password').send({ password: 'a user password' }).expect(204);
    const signIn = async () =>
      (await request(ctx.app).post('/api/user-auth/login').send({ email: 'one@alpha.test', password: 'a user password' }).expect(200)).body.token as string;
    const old = await signIn();
    // Node C is not joined to Redis: it never hears of the revocation.
    const nodeC = createServices(ctx.conn, testServiceOptions());
    for (const node of [nodeB, nodeC]) expect(await node.userAuth.authenticate(old)).toHaveProperty('identity'); // both hold the tenant's generations now
    await admin.post('/api/users/alpha-u1/sign-out-everywhere').expect(204);
    const { ms } = await eventually(async () => ('refused' in (await nodeB.userAuth.authenticate(old)) ? true : undefined));
    console.log(`token revoked on A refused on B after ${ms} ms`);
    expect(await nodeB.userAuth.authenticate(old)).toEqual({ refused: 'the token was revoked' });
    // A token issued after the revocation is newer than what C holds: C reads the generations again and takes it.
    const fresh = await signIn();
    expect(await nodeC.userAuth.authenticate(fresh)).toHaveProperty('identity');
    expect(await nodeC.userAuth.authenticate(old)).toEqual({ refused: 'the token was revoked' });
  });
});
