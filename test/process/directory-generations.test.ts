/**
 * The synced directory of a connected tenant in generations (server/directory/synced-store.ts), with
 * two real server processes on one database (no Redis): a change synced on node A is read on node B
 * (the SMTP receiver's recipient look-up); a reader during a full sync keeps the old generation until
 * the switch; a nested group whose member changes is re-expanded on both nodes (the overlays of
 * incremental syncs, held in memory by each node's readers); a node SIGKILLed mid-sync leaves the old generation in force, and the next sync (on the
 * other node) succeeds and drops what the dead one left, as every sync drops the generations it replaced;
 * a tenant synced before generations existed is read from its stored pages until its next sync.
 */
import type { Connection } from 'mongoose';
import { openConnection } from '../../server/db/connection';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { createNodes, untilAnswer, type Node } from '../harness/nodes';
import { startStandIns, StandInWorld, type StandIns } from '../stand-ins/entra';
import { assertCertificateTrusted, TEST_CERT_FILE } from '../stand-ins/tls';

const CLIENT_ID = '0b1e5c5e-0000-4000-8000-0000000d1e55';
const SECRET = 'generations-client-secret';

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [{ id: 'u-ann', displayName: 'Ann', mail: 'ann@acme.test' }],
  groups: [{ id: 'g-all', displayName: 'Everyone', mail: 'all@acme.test', groupTypes: ['Unified'], mailEnabled: true, members: ['u-ann'] }],
};

// Two entries per page: a sync makes many page requests, and a hold on the groups comes after the users are stored.
const world = new StandInWorld({ maxPageSize: 2 });
const entra = world.addTenant('bbbbbbbb-0000-4000-8000-0000000000a1');
entra.domains = [{ id: 'acme.test', isVerified: true, isDefault: true }];
const putUser = (id: string) => entra.putUser({ id, displayName: id.toUpperCase(), mail: `${id}@acme.test`, userPrincipalName: `${id}@acme.test` });
for (const id of ['ann', 'bob', 'cy', 'dee', 'eli']) putUser(id);
entra.putGroup({ id: 'g-sales', displayName: 'Sales', mail: 'sales@acme.test', groupTypes: ['Unified'], mailEnabled: true, members: ['ann', 'bob'] });
entra.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Directory.Read.All'] });

const nodes = createNodes([acme]);
let standIns: StandIns;
let a: Node;
let b: Node;
let db: Connection;

beforeAll(async () => {
  assertCertificateTrusted();
  standIns = await startStandIns(world);
  const env = {
    LIFEBOAT_CHANGE_CHECK_MS: '500',
    LIFEBOAT_ENTRA_AUTHORITY: standIns.loginUrl,
    LIFEBOAT_GRAPH_URL: standIns.graphUrl,
    NODE_EXTRA_CA_CERTS: TEST_CERT_FILE,
  };
  a = await nodes.start('a', env);
  b = await nodes.start('b', env);
  await nodes.signIn(a);
  db = await openConnection(nodes.databaseUri());
  const connected = await nodes.api(a, 'PUT', '/api/directory/connection', { entraTenantId: entra.id, clientId: CLIENT_ID, clientSecret: SECRET });
  expect([200, 201]).toContain(connected.status);
}, 120_000);

afterAll(async () => {
  await db?.close();
  await nodes.stop();
  await standIns?.close();
});

interface Status {
  state: string;
  phase: string | null;
  throttled: number;
  error: string | null;
}
const status = async (node: Node): Promise<Status> => (await nodes.api(node, 'GET', '/api/directory/sync')).json();

async function startSync(node: Node, full: boolean): Promise<void> {
  const started = await nodes.api(node, 'POST', '/api/directory/sync', { full });
  expect(started.status).toBe(202);
}

async function until(node: Node, done: (s: Status) => boolean, timeoutMs = 60_000): Promise<Status> {
  let last: Status | null = null;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    last = await status(node);
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the sync did not get there: ${JSON.stringify(last)}`);
}
const finished = (s: Status) => s.state !== 'running';
/** The sync is waiting out a 429 on the groups: the users pages of this run are stored, nothing is switched. */
const heldOnGroups = (s: Status) => s.state === 'running' && s.phase === 'groups';

/** Every collection of the tenant's sync store and synced directory, and the generations its sync state names. */
async function generations() {
  const names = (await db.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => /^(dirsync|dirview)_acme_/.test(n));
  const state = (await db.db!.collection('directorysyncstates').findOne({ _id: 'acme' as never }))!;
  const named = [state.generation, state.expansionGeneration, state.overlayGeneration, state.directoryGeneration, state.directoryOverlay].filter(Boolean);
  return { names, named, directoryGeneration: state.directoryGeneration as string };
}

describe('the synced directory in generations, on two nodes', () => {
  it('a full sync on one node is read on the other; an incremental change too', async () => {
    await startSync(a, true);
    expect((await until(a, finished)).state).toBe('succeeded');
    // B's recipient look-up reads the synced directory: a user only Graph has is known (once B's
    // recipient cache, filled before the sync, is dropped by the change B learns of from the database).
    await untilAnswer(() => nodes.rcpt(b, 'cy@acme.test'), '250');
    expect(await nodes.rcpt(b, 'fred@acme.test')).toMatch(/^550/); // B now caches "no such user"
    putUser('fred');
    await startSync(a, false);
    expect((await until(a, finished)).state).toBe('succeeded');
    const ms = await untilAnswer(() => nodes.rcpt(b, 'fred@acme.test'), '250');
    console.log(`incremental change synced on A read on B ${ms} ms after the sync ended`);
  }, 120_000);

  it('a nested group whose member changes is re-expanded on both nodes, and what an earlier incremental sync changed stays', async () => {
    type Expansion = { userIds: string[]; addresses: string[]; memberCount: number };
    const expansion = async (node: Node, groupId: string): Promise<Expansion> => {
      const res = await nodes.api(node, 'GET', `/api/directory/expansions/${groupId}`);
      expect(res.status).toBe(200);
      return res.json();
    };
    const groupsOf = async (node: Node, address: string): Promise<{ type: string | null; groupIds: string[] }> =>
      (await nodes.api(node, 'GET', `/api/directory/addresses/${address}`)).json();
    const incremental = async () => {
      await startSync(a, false);
      const done = await until(a, finished);
      expect(done.state).toBe('succeeded');
    };
    // Three levels: g-top ⊃ g-mid ⊃ g-leaf.
    entra.putGroup({ id: 'g-leaf', displayName: 'Leaf', mail: 'leaf@acme.test', mailEnabled: true, members: ['cy'] });
    entra.putGroup({ id: 'g-mid', displayName: 'Mid', mail: 'mid@acme.test', mailEnabled: true, members: ['g-leaf', 'dee'] });
    entra.putGroup({ id: 'g-top', displayName: 'Top', mail: 'top@acme.test', mailEnabled: true, members: ['g-mid'] });
    await incremental();
    for (const node of [a, b]) expect((await expansion(node, 'g-top')).userIds).toEqual(['cy', 'dee']);

    // A member of the innermost group joins: every group above it is re-expanded, on both nodes.
    entra.addMember('g-leaf', 'eli');
    entra.addMember('g-sales', 'cy');
    await incremental();
    for (const node of [a, b]) {
      expect(await expansion(node, 'g-top')).toMatchObject({ userIds: ['cy', 'dee', 'eli'], memberCount: 3 });
      expect((await expansion(node, 'g-top')).addresses).toContain('eli@acme.test');
      expect((await expansion(node, 'g-mid')).userIds).toEqual(['cy', 'dee', 'eli']);
      expect((await expansion(node, 'g-leaf')).userIds).toEqual(['cy', 'eli']);
      expect((await expansion(node, 'g-sales')).userIds).toEqual(['ann', 'bob', 'cy']);
    }

    // Then one leaves and another's addresses change; g-sales, changed only by the sync before, keeps that change.
    entra.removeMember('g-leaf', 'cy');
    entra.putUser({ ...entra.users.get('eli')!, proxyAddresses: ['SMTP:eli@acme.test', 'smtp:elias@acme.test'] });
    await incremental();
    for (const node of [a, b]) {
      expect((await expansion(node, 'g-top')).userIds).toEqual(['dee', 'eli']);
      expect((await expansion(node, 'g-top')).addresses).toContain('elias@acme.test');
      expect((await expansion(node, 'g-leaf')).userIds).toEqual(['eli']);
      expect((await expansion(node, 'g-sales')).userIds).toEqual(['ann', 'bob', 'cy']);
      expect(await groupsOf(node, 'elias@acme.test')).toMatchObject({ type: 'user', groupIds: ['g-leaf', 'g-mid', 'g-top'] });
      expect(await groupsOf(node, 'cy@acme.test')).toMatchObject({ type: 'user', groupIds: ['g-sales'] });
    }
  }, 120_000);

  it('a reader during a full sync reads the old generation until the switch', async () => {
    const before = await generations();
    putUser('gus');
    world.fail('/v1.0/groups/delta', 1, 429, 4);
    await startSync(a, true);
    await until(a, heldOnGroups);
    // The new generation's users are stored (the pages), but B, asked for the first time, reads the current one.
    expect(await nodes.rcpt(b, 'gus@acme.test')).toMatch(/^550/);
    expect((await generations()).directoryGeneration).toBe(before.directoryGeneration);
    expect((await until(a, finished)).state).toBe('succeeded');
    await untilAnswer(() => nodes.rcpt(b, 'gus@acme.test'), '250');
    // The generations it replaced are gone: only what the sync state names is left.
    const after = await generations();
    expect(after.directoryGeneration).not.toBe(before.directoryGeneration);
    expect(after.names.every((n) => after.named.some((g) => n.includes(`_${g}`)))).toBe(true);
    expect(after.names.some((n) => n.includes(before.directoryGeneration))).toBe(false);
  }, 120_000);

  it('a node killed mid-sync leaves the old generation in force; the next sync succeeds and drops what it left', async () => {
    const before = await generations();
    putUser('hal');
    world.fail('/v1.0/groups/delta', 1, 429, 60);
    await startSync(a, true);
    await until(a, heldOnGroups);
    // Killed once its users pages are being stored (a collection no pointer names).
    for (let i = 0; i < 200 && (await generations()).names.length <= before.names.length; i++) await new Promise((r) => setTimeout(r, 50));
    a.server.child.kill('SIGKILL');
    await a.server.exited;
    world.clearFaults();
    // The dead node's users pages are stored in a generation no pointer names.
    expect((await generations()).names.length).toBeGreaterThan(before.names.length);
    expect((await status(b)).state).toBe('running'); // as the dead node left it
    expect(await nodes.rcpt(b, 'hal@acme.test')).toMatch(/^550/);
    expect(await nodes.rcpt(b, 'gus@acme.test')).toMatch(/^250/);
    // Its lease would expire by itself (60 s): here at once.
    await db.db!.collection('directorysyncleases').updateOne({ _id: 'acme' as never }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    await nodes.signIn(b);
    await startSync(b, false);
    expect((await until(b, finished)).state).toBe('succeeded');
    await untilAnswer(() => nodes.rcpt(b, 'hal@acme.test'), '250');
    const after = await generations();
    expect(after.names.every((n) => after.named.some((g) => n.includes(`_${g}`)))).toBe(true);
  }, 120_000);

  it('a tenant last synced before the directory had generations is read from its stored Graph pages until its next sync', async () => {
    // As an upgraded installation finds it: a sync state naming pages and expansions, no directory generation.
    await db.db!.collection('directorysyncstates').updateOne({ _id: 'acme' as never }, { $unset: { directoryGeneration: '', directoryOverlay: '' } });
    expect(await nodes.rcpt(b, 'dee@acme.test')).toMatch(/^250/); // never asked before: read from the pages
    await startSync(b, false);
    expect((await until(b, finished)).state).toBe('succeeded');
    expect((await generations()).directoryGeneration).toEqual(expect.any(String));
  }, 120_000);
});
