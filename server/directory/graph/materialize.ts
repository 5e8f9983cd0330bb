/** A synced Graph directory in the stored shape of the file provider (see directory.materialize). */
import { classifyGroup } from '../classify';
import { directoryKey, type DirectoryGroupRecord, type DirectoryUserRecord } from '../model';
import type { DirectoryModel } from './store';

export function materializedDirectory(tenantId: string, model: DirectoryModel): { users: DirectoryUserRecord[]; groups: DirectoryGroupRecord[] } {
  const users = [...model.users].map(([id, u]): DirectoryUserRecord => ({
    _id: directoryKey(tenantId, id),
    tenantId,
    id,
    displayName: u.displayName,
    mail: u.mail?.toLowerCase() ?? null,
    userPrincipalName: null,
    mobilePhone: null,
    businessPhones: [],
    otherMails: [],
    addresses: u.addresses,
  }));
  const groups = [...model.groups]
    .filter(([, g]) => g.props)
    .map(([id, g]): DirectoryGroupRecord => ({
      _id: directoryKey(tenantId, id),
      tenantId,
      id,
      displayName: g.props!.displayName,
      mail: g.props!.mail?.toLowerCase() ?? null,
      groupTypes: g.props!.groupTypes,
      mailEnabled: g.props!.mailEnabled,
      securityEnabled: g.props!.securityEnabled,
      membershipRule: g.props!.membershipRule,
      kind: classifyGroup(g.props!),
      members: [...g.users, ...g.groups],
    }));
  return { users, groups };
}
