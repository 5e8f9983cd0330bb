import type { DirectoryDocument } from '../../server/directory/file-provider';
import { tenantDirectory, useLifeboat } from '../harness/context';

const nested: DirectoryDocument = {
  tenant: { id: 'nest', name: 'Nest', domains: ['nest.test'] },
  users: ['a', 'b', 'c', 'd', 'e'].map((x) => ({ id: `u-${x}`, displayName: `User ${x.toUpperCase()}`, mail: `${x}@nest.test` })),
  groups: [
    { id: 'g-top', displayName: 'Top', mail: 'top@nest.test', groupTypes: ['Unified'], mailEnabled: true, securityEnabled: false, members: ['u-a', 'g-mid'] },
    { id: 'g-mid', displayName: 'Middle', mail: 'mid@nest.test', mailEnabled: true, securityEnabled: true, members: ['u-b', 'g-leaf'] },
    { id: 'g-leaf', displayName: 'Leaf', mailEnabled: false, securityEnabled: true, members: ['u-c', 'g-top'] }, // cycle back to top
    { id: 'g-self', displayName: 'Self loop', mail: 'self@nest.test', mailEnabled: true, securityEnabled: false, members: ['g-self', 'u-d'] },
    { id: 'g-dyn', displayName: 'Dynamic', groupTypes: ['DynamicMembership'], securityEnabled: true, membershipRule: 'user.city -eq "Oslo"', members: ['u-e'] },
  ],
};

const ctx = useLifeboat({ directories: [nested, tenantDirectory('beta')] });

describe('directory (file provider)', () => {
  it('classifies groups and searches them by name or address, case-insensitively', async () => {
    const admin = await ctx.signIn('nest', 'readOnly');
    const all = (await admin.get('/api/directory/groups').expect(200)).body;
    expect(all.map((g: { id: string; kind: string }) => [g.id, g.kind])).toEqual([
      ['g-dyn', 'dynamic'],
      ['g-leaf', 'security'],
      ['g-mid', 'mailEnabledSecurity'],
      ['g-self', 'distributionList'],
      ['g-top', 'm365'],
    ]);
    expect((await admin.get('/api/directory/groups?search=MID').expect(200)).body).toEqual([
      { id: 'g-mid', displayName: 'Middle', mail: 'mid@nest.test', kind: 'mailEnabledSecurity' },
    ]);
    expect((await admin.get('/api/directory/groups?search=top@nest').expect(200)).body.map((g: { id: string }) => g.id)).toEqual(['g-top']);
    // Search text is literal, never a pattern.
    expect((await admin.get('/api/directory/groups?search=.*').expect(200)).body).toEqual([]);
    expect((await admin.get('/api/directory/users?search=user c').expect(200)).body).toEqual([{ id: 'u-c', displayName: 'User C', mail: 'c@nest.test' }]);
  });

  it('resolves nested membership transitively and tolerates cycles', async () => {
    const { directory } = ctx.services;
    expect(await directory.transitiveUserIds('nest', 'g-top')).toEqual(['u-a', 'u-b', 'u-c']);
    expect(await directory.transitiveUserIds('nest', 'g-leaf')).toEqual(['u-a', 'u-b', 'u-c']);
    expect(await directory.transitiveUserIds('nest', 'g-self')).toEqual(['u-d']);
    expect(await directory.transitiveGroupIds('nest', 'u-c')).toEqual(['g-leaf', 'g-mid', 'g-top']);
    expect(await directory.transitiveGroupIds('nest', 'u-d')).toEqual(['g-self']);
    expect(await directory.transitiveGroupIds('nest', 'u-e')).toEqual(['g-dyn']);
    // Same ids in another tenant are another tenant's business.
    expect(await directory.transitiveUserIds('beta', 'g-top')).toEqual([]);

    const admin = await ctx.signIn('nest', 'readOnly');
    const group = (await admin.get('/api/directory/groups/g-mid').expect(200)).body;
    expect(group).toMatchObject({ id: 'g-mid', transitiveMemberCount: 3 });
    const user = (await admin.get('/api/directory/users/u-b').expect(200)).body;
    expect(user).toMatchObject({ id: 'u-b', mail: 'b@nest.test', groupIds: ['g-leaf', 'g-mid', 'g-top'] });
    expect(user).not.toHaveProperty('tenantId');
  });

  it('re-imports an edited directory: changes applied, removed entries gone', async () => {
    const { directory } = ctx.services;
    const edited: DirectoryDocument = {
      ...nested,
      users: nested.users.filter((u) => u.id !== 'u-e').map((u) => (u.id === 'u-a' ? { ...u, displayName: 'Ada Renamed' } : u)),
      groups: nested.groups.filter((g) => g.id !== 'g-dyn'),
    };
    await directory.importDirectory(edited);
    await directory.importDirectory(edited); // idempotent
    expect(await directory.getUser('nest', 'u-e')).toBeNull();
    expect(await directory.getGroup('nest', 'g-dyn')).toBeNull();
    expect((await directory.getUser('nest', 'u-a'))?.displayName).toBe('Ada Renamed');
    expect((await directory.searchUsers('nest')).length).toBe(4);
    // Other tenants are untouched.
    expect((await directory.searchUsers('beta')).length).toBe(2);
  });
});
