/** The directory as the rest of Lifeboat sees it: look-ups and transitive membership. */
import { isDuplicateOnly } from '../db/claims';
import type { Model } from 'mongoose';
import type { TenantService } from '../tenants/service';
import { escapeRegExp } from '../http/validate';
import { classifyGroup, type GroupKind } from './classify';
import type { DirectoryDocument } from './file-provider';
import {
  directoryKey,
  type DirectoryGroupModel,
  type DirectoryUser,
  type DirectoryGroupRecord,
  type DirectoryUserModel,
  type DirectoryUserRecord,
} from './model';
import { searchIn, type SyncedView, type SyncedViews } from './synced-view';

export interface GroupSummary {
  id: string;
  displayName: string;
  mail: string | null;
  kind: GroupKind;
}

export interface UserSummary {
  id: string;
  displayName: string;
  mail: string | null;
}

const SEARCH_LIMIT = 50;

/** How long a directory-file tenant's snapshot serves (dropped at once on a change). */
const FILE_SNAPSHOT_MS = 30_000;

interface FileGroups {
  groupsByAddress: Map<string, GroupSummary>;
  graph: Map<string, string[]>;
}

const toGroupSummary = (g: Omit<DirectoryGroupRecord, '_id'>): GroupSummary => ({ id: g.id, displayName: g.displayName, mail: g.mail, kind: g.kind });
const toUserSummary = (u: Omit<DirectoryUserRecord, '_id'>): UserSummary => ({ id: u.id, displayName: u.displayName, mail: u.mail });

function searchFilter(tenantId: string, text: string | undefined) {
  if (!text?.trim()) return { tenantId };
  const pattern = { $regex: escapeRegExp(text.trim()), $options: 'i' };
  return { tenantId, $or: [{ displayName: pattern }, { mail: pattern }] };
}

const WRITE_BATCH = 100;

const userRecord = (tenantId: string, u: DirectoryDocument['users'][number]): DirectoryUserRecord => ({
  _id: directoryKey(tenantId, u.id),
  tenantId,
  id: u.id,
  displayName: u.displayName,
  mail: u.mail?.toLowerCase() ?? null,
  userPrincipalName: u.userPrincipalName ?? null,
  mobilePhone: u.mobilePhone ?? null,
  businessPhones: u.businessPhones ?? [],
  otherMails: u.otherMails ?? [],
  addresses: u.mail ? [u.mail.toLowerCase()] : [],
});

const groupRecord = (tenantId: string, g: DirectoryDocument['groups'][number]): DirectoryGroupRecord => ({
  _id: directoryKey(tenantId, g.id),
  tenantId,
  id: g.id,
  displayName: g.displayName,
  mail: g.mail?.toLowerCase() ?? null,
  groupTypes: g.groupTypes ?? [],
  mailEnabled: g.mailEnabled ?? false,
  securityEnabled: g.securityEnabled ?? false,
  membershipRule: g.membershipRule ?? null,
  kind: classifyGroup(g),
  members: g.members ?? [],
});

/**
 * Makes a tenant's stored documents equal to the wanted ones, writing only the difference: one
 * read of what is stored, inserts for new entries, `_id`-keyed replacements for changed ones (in
 * small batches: FerretDB handles those well), one delete for removed ones. Re-running it after a
 * crash finishes the job.
 */
async function syncCollection<T extends { _id: string }>(model: Model<T>, tenantId: string, wanted: T[]): Promise<void> {
  const stored = new Map<string, string>();
  for (const doc of await model.find({ tenantId } as never).lean()) stored.set(String((doc as { _id: string })._id), JSON.stringify(doc));
  const inserts: T[] = [];
  const replacements: T[] = [];
  for (const doc of wanted) {
    const current = stored.get(doc._id);
    if (current === undefined) inserts.push(doc);
    else if (current !== JSON.stringify(doc)) replacements.push(doc);
    stored.delete(doc._id);
  }
  for (let i = 0; i < inserts.length; i += 1000) {
    try {
      await model.insertMany(inserts.slice(i, i + 1000), { ordered: false });
    } catch (err) {
      // Another importer got there first: those entries exist now and are replaced below if different.
      if (!isDuplicateOnly(err)) throw err;
      replacements.push(...inserts.slice(i, i + 1000));
    }
  }
  for (let i = 0; i < replacements.length; i += WRITE_BATCH) {
    await model.bulkWrite(
      replacements.slice(i, i + WRITE_BATCH).map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })) as never,
      { ordered: false },
    );
  }
  if (stored.size) await model.deleteMany({ tenantId, _id: { $in: [...stored.keys()] } } as never);
}

export function createDirectoryService(deps: {
  users: DirectoryUserModel;
  groups: DirectoryGroupModel;
  /** Connected tenants' synced directories (generations kept in memory, see synced-view.ts). */
  synced: SyncedViews;
  tenants: TenantService;
}) {
  const { tenants } = deps;
  const fileModels = { users: deps.users, groups: deps.groups };
  let isConnected: (tenantId: string) => Promise<boolean> = async () => false;
  const NO_SYNC = new Map();
  /**
   * A connected tenant reads its synced directory (in memory; an empty one before its first sync);
   * every other tenant its directory file (null here).
   */
  const syncedFor = async (tenantId: string): Promise<Pick<SyncedView, 'users' | 'groups' | 'userByAddress' | 'groupByAddress'> | null> => {
    if (!(await isConnected(tenantId))) return null;
    return (await deps.synced.current(tenantId)) ?? { users: NO_SYNC, groups: NO_SYNC, userByAddress: () => null, groupByAddress: () => null };
  };
  const listeners: ((tenantId: string) => Promise<void> | void)[] = [];

  /**
   * A directory-file tenant's groups (by address, and the membership graph) and, apart, its users by every
   * address they receive mail at: each read whole (one scan) when first needed and kept FILE_SNAPSHOT_MS,
   * because the mail path asks per recipient and on FerretDB v1 each such filter scans the collection.
   * Apart, so that membership (every status push) never waits for a read of every user. Dropped at once
   * when the directory changes (here on import; on every node through `directory:changed`: forget()).
   */
  const snapshots = new Map<string, { at: number; value: Promise<unknown> }>();
  let snapshotEpoch = 0;
  function snapshot<T>(key: string, read: () => Promise<T>): Promise<T> {
    const hit = snapshots.get(key);
    if (hit && Date.now() - hit.at < FILE_SNAPSHOT_MS) return hit.value as Promise<T>;
    const started = snapshotEpoch;
    const value = read();
    if (started === snapshotEpoch) snapshots.set(key, { at: Date.now(), value });
    value.catch(() => snapshots.get(key)?.value === value && snapshots.delete(key));
    return value;
  }
  const fileGroups = (tenantId: string): Promise<FileGroups> =>
    snapshot(`g\n${tenantId}`, async () => {
      const rows = await fileModels.groups.find({ tenantId }, { _id: 0 }).lean();
      const groupsByAddress = new Map<string, GroupSummary>();
      for (const g of rows) if (g.mail) groupsByAddress.set(g.mail.toLowerCase(), toGroupSummary(g));
      return { groupsByAddress, graph: new Map(rows.map((g) => [g.id, g.members])) };
    });
  const fileUsersByAddress = (tenantId: string): Promise<Map<string, DirectoryUser>> =>
    snapshot(`u\n${tenantId}`, async () => {
      const byAddress = new Map<string, DirectoryUser>();
      for (const u of await fileModels.users.find({ tenantId }, { _id: 0 }).lean())
        for (const address of [u.mail, ...(u.addresses ?? []), u.userPrincipalName]) if (address) byAddress.set(address.toLowerCase(), u as DirectoryUser);
      return byAddress;
    });
  function forget(tenantId: string): void {
    snapshotEpoch++;
    snapshots.delete(`g\n${tenantId}`);
    snapshots.delete(`u\n${tenantId}`);
  }

  /**
   * A tenant's groups and their direct members, in one read: walking nested groups in memory beats
   * a query per level on a database that scans for every filter but `_id`.
   */
  async function membershipGraph(tenantId: string): Promise<Map<string, string[]>> {
    const synced = await syncedFor(tenantId);
    if (synced) return new Map([...synced.groups.values()].map((g) => [g.id, g.members]));
    return (await fileGroups(tenantId)).graph;
  }

  return {
    /** How to tell a connected tenant (the Entra connection is composed after the directory). */
    useSyncedDirectoryFor(check: (tenantId: string) => Promise<boolean>): void {
      isConnected = check;
    },

    /** Tells the listener whenever a tenant's users or groups were re-read (membership may have changed). */
    onDirectoryChanged(listener: (tenantId: string) => Promise<void> | void): void {
      listeners.push(listener);
    },

    /**
     * Makes the stored directory of one tenant equal to the document: upserts every entry, then
     * removes what the document no longer has. Idempotent, so a crash half-way is healed by a re-run.
     */
    async importDirectory(doc: DirectoryDocument): Promise<{ users: number; groups: number }> {
      const tenantId = doc.tenant.id;
      await tenants.upsert(doc.tenant, 'file');
      // Documents written before keys were `<tenant>:<id>` would collide with their replacements.
      const { users, groups } = fileModels;
      await users.deleteMany({ tenantId, _id: { $not: { $type: 'string' } } });
      await groups.deleteMany({ tenantId, _id: { $not: { $type: 'string' } } });
      await syncCollection(
        users,
        tenantId,
        doc.users.map((u) => userRecord(tenantId, u)),
      );
      await syncCollection(
        groups,
        tenantId,
        doc.groups.map((g) => groupRecord(tenantId, g)),
      );
      forget(tenantId);
      for (const listener of listeners) await listener(tenantId);
      return { users: doc.users.length, groups: doc.groups.length };
    },

    /** A connected tenant's sync switched its synced directory (synced-store.ts): tells the listeners. */
    async syncedChanged(tenantId: string): Promise<void> {
      for (const listener of listeners) await listener(tenantId);
    },

    async searchGroups(tenantId: string, text?: string): Promise<GroupSummary[]> {
      const synced = await syncedFor(tenantId);
      if (synced) return searchIn(synced.groups.values(), text, SEARCH_LIMIT).map(toGroupSummary);
      const { groups } = fileModels;
      const found = await groups.find(searchFilter(tenantId, text)).sort({ displayName: 1 }).limit(SEARCH_LIMIT).lean();
      return found.map(toGroupSummary);
    },

    async searchUsers(tenantId: string, text?: string): Promise<UserSummary[]> {
      const synced = await syncedFor(tenantId);
      if (synced) return searchIn(synced.users.values(), text, SEARCH_LIMIT).map(toUserSummary);
      const { users } = fileModels;
      const found = await users.find(searchFilter(tenantId, text)).sort({ displayName: 1 }).limit(SEARCH_LIMIT).lean();
      return found.map(toUserSummary);
    },

    async getGroup(tenantId: string, id: string): Promise<GroupSummary | null> {
      const synced = await syncedFor(tenantId);
      if (synced) {
        const group = synced.groups.get(id);
        return group ? toGroupSummary(group) : null;
      }
      const { groups } = fileModels;
      const group = await groups.findById(directoryKey(tenantId, id)).lean();
      return group ? toGroupSummary(group) : null;
    },

    async getUser(tenantId: string, id: string): Promise<DirectoryUser | null> {
      const synced = await syncedFor(tenantId);
      if (synced) {
        const user = synced.users.get(id);
        return user ? { ...user } : null;
      }
      const { users } = fileModels;
      const user = await users.findById(directoryKey(tenantId, id)).lean();
      if (!user) return null;
      const { _id, ...rest } = user;
      return rest;
    },

    /** Every user id of a tenant (readiness percentages; a scan, admin pages only). */
    /** Every user's display name and address (protection's impersonation rule guards these names). */
    async displayNames(tenantId: string): Promise<{ displayName: string; mail: string | null }[]> {
      const synced = await syncedFor(tenantId);
      if (synced) return [...synced.users.values()].map((u) => ({ displayName: u.displayName, mail: u.mail ?? null }));
      const { users } = fileModels;
      return (await users.find({ tenantId }, { displayName: 1, mail: 1, _id: 0 }).lean()).map((u) => ({ displayName: u.displayName, mail: u.mail ?? null }));
    },

    async allUserIds(tenantId: string): Promise<string[]> {
      const synced = await syncedFor(tenantId);
      if (synced) return [...synced.users.keys()];
      const { users } = fileModels;
      return (await users.find({ tenantId }, { id: 1, _id: 0 }).lean()).map((u) => u.id);
    },

    async findUserByAddress(tenantId: string, address: string): Promise<DirectoryUser | null> {
      const lower = address.toLowerCase();
      const synced = await syncedFor(tenantId);
      if (synced) {
        const user = synced.userByAddress(lower);
        return user ? { ...user } : null;
      }
      return (await fileUsersByAddress(tenantId)).get(lower) ?? null;
    },

    /** The group that receives mail at this address (null: none). */
    async findGroupByAddress(tenantId: string, address: string): Promise<GroupSummary | null> {
      const lower = address.toLowerCase();
      const synced = await syncedFor(tenantId);
      if (!synced) return (await fileGroups(tenantId)).groupsByAddress.get(lower) ?? null;
      const group = synced.groupByAddress(lower);
      return group ? toGroupSummary(group) : null;
    },

    /** The directory of a tenant changed on another node (`directory:changed`): its file snapshot is read again. */
    forget,

    /** Every user inside a group, through nested groups; cycles are walked once. */
    async transitiveUserIds(tenantId: string, groupId: string): Promise<string[]> {
      const graph = await membershipGraph(tenantId);
      const visited = new Set<string>([groupId]);
      const userIds = new Set<string>();
      const stack = [groupId];
      while (stack.length) {
        for (const member of graph.get(stack.pop()!) ?? []) {
          if (!graph.has(member)) userIds.add(member);
          else if (!visited.has(member)) {
            visited.add(member);
            stack.push(member);
          }
        }
      }
      return [...userIds].sort();
    },

    /** Every group a user belongs to, directly or through nesting; cycles are walked once. */
    async transitiveGroupIds(tenantId: string, userId: string): Promise<string[]> {
      const graph = await membershipGraph(tenantId);
      const parents = new Map<string, string[]>();
      for (const [group, members] of graph) for (const member of members) parents.set(member, [...(parents.get(member) ?? []), group]);
      const found = new Set<string>();
      const stack = [userId];
      while (stack.length) {
        for (const parent of parents.get(stack.pop()!) ?? []) {
          if (!found.has(parent)) {
            found.add(parent);
            stack.push(parent);
          }
        }
      }
      return [...found].sort();
    },
  };
}
export type DirectoryService = ReturnType<typeof createDirectoryService>;
