/** A synced Graph directory in the stored shape of the file provider (see directory.materialize). */
import { classifyGroup } from '../classify';
import { directoryKey, type DirectoryGroupRecord, type DirectoryUserRecord } from '../model';
import type { DirectoryModel } from './store';
import type { SyncChanges } from './sync';

export interface MaterializedDirectory {
  users: DirectoryUserRecord[];
  groups: DirectoryGroupRecord[];
  /**
   * Present after an incremental sync: only the listed users and groups changed (`users`/`groups`
   * hold their new records), and these ids are gone. Absent: `users`/`groups` are the whole directory.
   */
  removed?: { userIds: string[]; groupIds: string[] };
}

/**
 * The whole directory (changes null, after a full sync), or only what an incremental sync changed:
 * the changed users and groups as they are now, and the ids of those that are gone.
 */
export function materializedDirectory(tenantId: string, model: DirectoryModel, changes: SyncChanges | null = null): MaterializedDirectory {
  const userRecord = (id: string): DirectoryUserRecord | null => {
    const u = model.users.get(id);
    if (!u) return null;
    return {
      _id: directoryKey(tenantId, id),
      tenantId,
      id,
      displayName: u.displayName,
      mail: u.mail?.toLowerCase() ?? null,
      userPrincipalName: u.userPrincipalName,
      mobilePhone: u.mobilePhone,
      businessPhones: u.businessPhones,
      otherMails: u.otherMails,
      addresses: u.addresses,
    };
  };
  const groupRecord = (id: string): DirectoryGroupRecord | null => {
    const g = model.groups.get(id);
    if (!g?.props) return null; // only seen as someone's member, never returned itself
    return {
      _id: directoryKey(tenantId, id),
      tenantId,
      id,
      displayName: g.props.displayName,
      mail: g.props.mail?.toLowerCase() ?? null,
      groupTypes: g.props.groupTypes,
      mailEnabled: g.props.mailEnabled,
      securityEnabled: g.props.securityEnabled,
      membershipRule: g.props.membershipRule,
      kind: classifyGroup(g.props),
      members: [...g.users, ...g.groups],
    };
  };
  const collect = <T>(ids: Iterable<string>, record: (id: string) => T | null, gone?: string[]) => {
    const out: T[] = [];
    for (const id of ids) {
      const r = record(id);
      if (r) out.push(r);
      else gone?.push(id);
    }
    return out;
  };
  if (!changes) return { users: collect(model.users.keys(), userRecord), groups: collect(model.groups.keys(), groupRecord) };
  const removed = { userIds: [] as string[], groupIds: [] as string[] };
  return { users: collect(changes.userIds, userRecord, removed.userIds), groups: collect(changes.groupIds, groupRecord, removed.groupIds), removed };
}
