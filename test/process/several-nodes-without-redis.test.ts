/**
 * Two real server processes on ONE database and NO Redis (MONGODB_URI set, REDIS_URL unset): each node
 * reads the other's changes from the database every LIFEBOAT_CHANGE_CHECK_MS (server/cluster/
 * database-link.ts) and drops its caches, so a change on one node is in force on the other within that
 * interval — not after a cache's own lifetime (recipients 30 s, end-user access 30 s), or never (token
 * generations have none).
 */
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { createNodes, untilAnswer, type Node } from '../harness/nodes';

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann', mail: 'ann@acme.test' },
    { id: 'u-bob', displayName: 'Bob', mail: 'bob@acme.test' },
  ],
  groups: [
    { id: 'g-all', displayName: 'Everyone', mail: 'all@acme.test', groupTypes: ['Unified'], mailEnabled: true, members: ['u-ann', 'u-bob'] },
    { id: 'g-bob', displayName: 'Bob only', mail: 'bobs@acme.test', groupTypes: ['Unified'], mailEnabled: true, members: ['u-bob'] },
  ],
};
const CHECK_MS = 500;

const nodes = createNodes([acme]);
let a: Node;
let b: Node;

beforeAll(async () => {
  a = await nodes.start('a', { LIFEBOAT_CHANGE_CHECK_MS: String(CHECK_MS) });
  b = await nodes.start('b', { LIFEBOAT_CHANGE_CHECK_MS: String(CHECK_MS) });
  await nodes.signIn(a);
}, 120_000);

afterAll(() => nodes.stop());

/** A user's request to one node: the status code. */
async function asUser(node: Node, token: string, url: string): Promise<number> {
  return (await fetch(`${node.server.url}${url}`, { headers: { authorization: `Bearer ${token}` } })).status;
}

/** Asks until `ask` answers `status`; how long that took (ms). */
async function untilStatus(ask: () => Promise<number>, status: number, timeoutMs = 15_000): Promise<number> {
  return untilAnswer(async () => String(await ask()), String(status), timeoutMs);
}

describe('two nodes on one database, without Redis', () => {
  it('a directory change on one node is in force on the other within the check interval (not after its 30 s cache)', async () => {
    expect(await nodes.rcpt(b, 'cy@acme.test')).toMatch(/^550/); // B now caches "no such user"
    nodes.writeDirectory([{ ...acme, users: [...acme.users, { id: 'u-cy', displayName: 'Cy', mail: 'cy@acme.test' }] }]);
    expect((await nodes.api(a, 'POST', '/api/directory/reload')).status).toBe(200);
    const ms = await untilAnswer(() => nodes.rcpt(b, 'cy@acme.test'), '250');
    console.log(`without Redis: directory change on A in force on B after ${ms} ms (check every ${CHECK_MS} ms)`);
    expect(ms).toBeLessThan(30_000);
  }, 60_000);

  it('a user signed out everywhere on one node is refused on the other (token generations have no lifetime of their own)', async () => {
    const token = await nodes.userToken(a, 'u-ann', 'ann@acme.test');
    expect(await asUser(b, token, '/api/me/status')).toBe(200); // B now holds the tenant's token generations
    expect((await nodes.api(a, 'POST', '/api/users/u-ann/sign-out-everywhere')).status).toBe(204);
    expect(await asUser(a, token, '/api/me/status')).toBe(401);
    const ms = await untilStatus(() => asUser(b, token, '/api/me/status'), 401);
    console.log(`without Redis: a revocation on A in force on B after ${ms} ms`);
    // A token issued on A since is good on B at once (its generation is newer than B's copy).
    expect(await asUser(b, await nodes.userToken(a, 'u-ann', 'ann@acme.test'), '/api/me/status')).toBe(200);
  }, 60_000);

  it('a settings change on one node (who may use the end-user tools) is in force on the other (not after its 30 s cache)', async () => {
    const token = await nodes.userToken(b, 'u-ann', 'ann@acme.test');
    expect(await asUser(b, token, '/api/me/mailbox')).toBe(200); // B caches "everyone may"
    expect((await nodes.api(a, 'PUT', '/api/end-user-access', { groupIds: ['g-bob'] })).status).toBe(200);
    const ms = await untilStatus(() => asUser(b, token, '/api/me/mailbox'), 403);
    console.log(`without Redis: end-user access changed on A in force on B after ${ms} ms`);
    expect(ms).toBeLessThan(30_000);
    expect((await nodes.api(a, 'PUT', '/api/end-user-access', { groupIds: null })).status).toBe(200);
  }, 60_000);

  it("a monitor address claimed on one node is the monitor's on the other", async () => {
    const address = 'watch-acme@monitor.lifeboat.test';
    expect(await nodes.rcpt(b, address)).toMatch(/^5/);
    const created = await nodes.api(a, 'POST', '/api/monitors', {
      name: 'Primary flow',
      probeMailbox: 'ann@acme.test',
      address,
      alertRecipients: { sms: ['+15550100'], email: ['oncall@example.org'] },
      defaultGroupId: 'g-all',
      timeZone: 'Europe/Berlin',
    });
    expect(created.status).toBe(201);
    const ms = await untilAnswer(() => nodes.rcpt(b, address), '250');
    console.log(`without Redis: monitor address claimed on A in force on B after ${ms} ms`);
  }, 60_000);
});
