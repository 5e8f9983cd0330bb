/**
 * The in-memory synced directory (server/directory/synced-view.ts) answers as the stored documents did:
 * search by display name or mail in any case, sorted by name (stable); the first user in stored order
 * for an address (mail, proxy address or UPN in any case), the first group receiving mail at one; an overlay replaces entries in place,
 * appends new ones and removes gone ones.
 */
import { searchIn, SyncedView } from '../../server/directory/synced-view';
import type { ViewGroup, ViewUser } from '../../server/directory/synced-store';

const user = (id: string, displayName: string, extra: Partial<ViewUser> = {}): ViewUser => ({
  tenantId: 't',
  id,
  displayName,
  mail: `${id}@contoso.example`,
  userPrincipalName: `${id}@contoso.example`,
  mobilePhone: null,
  businessPhones: [],
  otherMails: [],
  addresses: [`${id}@contoso.example`],
  ...extra,
});

describe('the synced directory in memory', () => {
  const view = new SyncedView({
    users: [
      user('b', 'Bob'),
      user('a', 'Ada', { addresses: ['a@contoso.example', 'shared@contoso.example'] }),
      user('c', 'Ada', { mail: null, addresses: ['shared@contoso.example'], userPrincipalName: 'C.Upn@Contoso.Example' }),
    ],
    groups: [],
  });

  it('searches names and mail in any case, sorted by name, ties in stored order', () => {
    expect(searchIn(view.users.values(), 'ADA', 50).map((u) => u.id)).toEqual(['a', 'c']);
    expect(searchIn(view.users.values(), 'b@CONTOSO', 50).map((u) => u.id)).toEqual(['b']);
    expect(searchIn(view.users.values(), '  ', 2).map((u) => u.id)).toEqual(['a', 'c']);
    expect(searchIn(view.users.values(), '.*', 50)).toEqual([]); // literal text, not a pattern
  });

  it('finds the first user in stored order for a mail, proxy address or UPN', () => {
    expect(view.userByAddress('SHARED@contoso.example')?.id).toBe('a');
    expect(view.userByAddress('c.upn@contoso.example')?.id).toBe('c');
    expect(view.userByAddress('nobody@contoso.example')).toBeNull();
  });

  it('finds the first group in stored order that receives mail at an address, in any case', () => {
    const group = (id: string, mail: string | null): ViewGroup => ({
      tenantId: 't',
      id,
      displayName: id,
      mail,
      groupTypes: [],
      mailEnabled: mail !== null,
      securityEnabled: false,
      membershipRule: null,
      kind: 'distributionList',
      members: [],
    });
    const withGroups = new SyncedView({ users: [], groups: [group('g1', 'Sales@Contoso.example'), group('g2', 'sales@contoso.example'), group('g3', null)] });
    expect(withGroups.groupByAddress('SALES@contoso.example')?.id).toBe('g1');
    expect(withGroups.groupByAddress('nobody@contoso.example')).toBeNull();
  });

  it('applies an overlay: changed in place, new last, gone removed', () => {
    const next = new SyncedView(view, {
      users: new Map<string, ViewUser | null>([
        ['a', user('a', 'Ada Park')],
        ['z', user('z', 'Zed')],
        ['b', null],
      ]),
      groups: new Map(),
    });
    expect([...next.users.keys()]).toEqual(['a', 'c', 'z']);
    expect(next.users.get('a')!.displayName).toBe('Ada Park');
    expect(view.users.get('a')!.displayName).toBe('Ada'); // the base is left as it was
  });
});
