/**
 * The overlay of expansions an incremental sync writes (server/directory/graph/store.ts,
 * expansion-overlay.ts), on the real database with two stores on two connections as two nodes: the
 * writer's readers and the other node's read the same as a full rewrite of the new directory would
 * answer, through nested groups and across overlays carried into the next; an overlay written before
 * packing is still read; an overlay that is gone makes the writer ask for a full rewrite.
 */
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { openConnection } from '../../server/db/connection';
import { DirectoryModel, createSyncStore, type SyncStore } from '../../server/directory/graph/store';
import { testDatabaseUri } from '../harness/context';

const TENANT = 'acme';
const props = (name: string) => ({
  displayName: name,
  mail: `${name}@acme.test`,
  groupTypes: ['Unified'],
  mailEnabled: true,
  securityEnabled: false,
  membershipRule: null,
});
const user = (id: string, extra: string[] = []) => ({ id, displayName: id, mail: `${id}@acme.test`, addresses: [`${id}@acme.test`, ...extra] });

/** Every read the mail path and the admin pages make, for comparing two ways of storing the same directory. */
async function answers(store: SyncStore, generation: string, chain: string[], groups: string[], addresses: string[]) {
  const expansions = store.expansions(TENANT, generation, chain);
  const out: Record<string, unknown> = {};
  out.heads = (await expansions.heads()).map((h) => [h.groupId, h.memberCount, h.addressCount, h.displayName]);
  for (const id of groups) {
    const found = await expansions.get(id);
    out[`get ${id}`] = found && { userIds: found.userIds, addresses: found.addresses, memberCount: found.head.memberCount };
  }
  for (const address of addresses) {
    out[`groups of ${address}`] = await expansions.groupsContaining({ address });
    out[`user address ${address}`] = await expansions.isUserAddress(address);
  }
  for (const userId of ['ann', 'bob', 'cy', 'dee', 'eli']) out[`groups of user ${userId}`] = await expansions.groupsContaining({ userId });
  return out;
}

describe('the overlay of expansions', () => {
  const dbName = `t_${randomBytes(6).toString('hex')}`;
  let a: Connection;
  let b: Connection;
  beforeAll(async () => {
    a = await openConnection(testDatabaseUri(), dbName);
    b = await openConnection(testDatabaseUri(), dbName);
  });
  afterAll(async () => {
    await a.dropDatabase().catch(() => {});
    await a.close();
    await b.close();
  });

  it('reads on both nodes as a full rewrite would, through nested groups and from one overlay to the next', async () => {
    const writer = createSyncStore(a);
    const other = createSyncStore(b);
    const model = new DirectoryModel();
    model.apply({ users: ['ann', 'bob', 'cy', 'dee', 'eli'].map((id) => user(id)) });
    // top ⊃ mid ⊃ leaf; sales apart; gone will be removed.
    model.apply({
      groups: [
        { id: 'leaf', props: props('leaf'), addUsers: ['cy'] },
        { id: 'mid', props: props('mid'), addUsers: ['dee'], addGroups: ['leaf'] },
        { id: 'top', props: props('top'), addGroups: ['mid'] },
        { id: 'sales', props: props('sales'), addUsers: ['ann', 'bob'] },
        { id: 'gone', props: props('gone'), addUsers: ['ann'] },
      ],
    });
    await writer.writeExpansions(TENANT, 'base', model);
    const groups = ['leaf', 'mid', 'top', 'sales', 'gone', 'none'];
    const addresses = ['cy@acme.test', 'eli@acme.test', 'elias@acme.test', 'ann@acme.test', 'nobody@acme.test'];
    // Each node reads the base first (as a running node has), so what it holds in memory must follow the pointer.
    await answers(other, 'base', [], groups, addresses);

    // First incremental sync: eli joins the innermost group, cy joins sales, gone is removed.
    const first = { groupIds: new Set(['leaf', 'sales', 'gone']), userIds: new Set<string>() };
    model.apply({
      groups: [
        { id: 'leaf', addUsers: ['eli'] },
        { id: 'sales', addUsers: ['cy'] },
        { id: 'gone', removed: true },
      ],
    });
    const one = await writer.writeOverlay(TENANT, 'base', 'ovl1', [], model, { groupIds: model.affectedGroups(first), userIds: first.userIds }, 500);
    expect(one).toMatchObject({ written: 4, removed: 1, overlaidGroups: 5 }); // leaf, mid, top, sales; gone
    await writer.writeExpansions(TENANT, 'full1', model);
    const wanted1 = await answers(writer, 'full1', [], groups, addresses);
    expect(wanted1['get top']).toMatchObject({ userIds: ['cy', 'dee', 'eli'] });
    expect(await answers(writer, 'base', ['ovl1'], groups, addresses)).toEqual(wanted1);
    expect(await answers(other, 'base', ['ovl1'], groups, addresses)).toEqual(wanted1);

    // Second: cy leaves the leaf, eli's addresses change; sales (changed only by the first) is carried forward.
    const second = { groupIds: new Set(['leaf']), userIds: new Set(['eli']) };
    model.apply({ users: [user('eli', ['elias@acme.test'])], groups: [{ id: 'leaf', removeMembers: ['cy'] }] });
    const two = await writer.writeOverlay(TENANT, 'base', 'ovl2', ['ovl1'], model, { groupIds: model.affectedGroups(second), userIds: second.userIds }, 500);
    expect(two).toMatchObject({ written: 3, removed: 0, overlaidGroups: 5 });
    await writer.writeExpansions(TENANT, 'full2', model);
    const wanted2 = await answers(writer, 'full2', [], groups, addresses);
    expect(wanted2['get top']).toMatchObject({ userIds: ['dee', 'eli'] });
    expect(wanted2['get sales']).toMatchObject({ userIds: ['ann', 'bob', 'cy'] });
    expect(wanted2['user address elias@acme.test']).toBe(true);
    // The second overlay holds only what its sync rewrote; readers merge the chain.
    expect(await createSyncStore(b).expansions(TENANT, 'base', ['ovl2']).get('sales')).toMatchObject({ userIds: ['ann', 'bob'] }); // the base's
    expect(await answers(writer, 'base', ['ovl1', 'ovl2'], groups, addresses)).toEqual(wanted2);
    expect(await answers(other, 'base', ['ovl1', 'ovl2'], groups, addresses)).toEqual(wanted2);
    // A node that never read the overlays before (a fresh start) reads the same.
    expect(await answers(createSyncStore(b), 'base', ['ovl1', 'ovl2'], groups, addresses)).toEqual(wanted2);

    // Beyond the limit of groups overlaid together, only a full rewrite can follow.
    expect(await writer.writeOverlay(TENANT, 'base', 'ovl3', ['ovl1', 'ovl2'], model, { groupIds: ['extra'], userIds: [] }, 5)).toBeNull();
    // So too when an earlier overlay is gone (dropped by another sync).
    await writer.overlay(TENANT, 'ovl1').drop();
    expect(await createSyncStore(a).writeOverlay(TENANT, 'base', 'ovl3', ['ovl1', 'ovl2'], model, { groupIds: ['leaf'], userIds: [] }, 500)).toBeNull();
  });

  it('reads an overlay written before overlays were packed (a document per head, chunk, tombstone and user bucket)', async () => {
    const store = createSyncStore(a);
    const model = new DirectoryModel();
    model.apply({ users: ['ann', 'bob', 'cy'].map((id) => user(id)) });
    model.apply({
      groups: [
        { id: 'sales', props: props('sales'), addUsers: ['ann'] },
        { id: 'old', props: props('old'), addUsers: ['bob'] },
      ],
    });
    await store.writeExpansions(TENANT, 'legacybase', model);
    const meta = await a.db!.collection('dirsync_acme_legacybase_exp').findOne({ _id: '~meta' as never });
    const bucketOf = (await a.db!.collection('dirsync_acme_legacybase_exp').findOne({ groupId: '~users', ids: { $regex: '^cy$', $options: 'm' } }))!;
    // As the code before packing wrote them: sales gained cy (its head and chunk), old is gone, cy's bucket has a new address.
    await a.db!.collection('dirsync_acme_legacyovl_ovl').insertMany([
      { _id: 'sales#v1#0', head: false, groupId: 'sales', n: 0, ids: 'ann\ncy', addrs: 'ann@acme.test\ncy@acme.test' },
      {
        _id: 'sales',
        head: true,
        groupId: 'sales',
        displayName: 'sales',
        mail: 'sales@acme.test',
        kind: 'm365',
        extended: false,
        memberCount: 2,
        addressCount: 2,
        chunks: 1,
        v: 'v1',
        updatedAt: new Date(),
      },
      { _id: 'old', head: false, groupId: 'old', tombstone: true },
      { ...bucketOf, _id: bucketOf._id, addrs: `${bucketOf.addrs}\ncyrus@acme.test` },
    ] as never[]);
    expect(meta).toBeTruthy();
    const expansions = createSyncStore(b).expansions(TENANT, 'legacybase', ['legacyovl']);
    expect(await expansions.get('sales')).toMatchObject({ userIds: ['ann', 'cy'], addresses: ['ann@acme.test', 'cy@acme.test'] });
    expect(await expansions.get('old')).toBeNull();
    expect((await expansions.heads()).map((h) => h.groupId)).toEqual(['sales']);
    expect(await expansions.groupsContaining({ userId: 'cy' })).toEqual(['sales']);
    expect(await expansions.isUserAddress('cyrus@acme.test')).toBe(true);
    expect(await expansions.isUserAddress('bob@acme.test')).toBe(true);
  });
});
