/** The directory as the rest of Lifeboat sees it: look-ups and transitive membership. */
import { isDuplicateOnly } from '../db/claims';
import type { Model } from 'mongoose';
import type { TenantService } from '../tenants/service';
import { escapeRegExp } from '../http/validate';
import { classifyGroup, type GroupKind } from './classify';
import type { DirectoryDocument } from './file-provider';
import type { MaterializedDirectory } from './graph/materialize';
import {
  directoryKey,
  type DirectoryGroupModel,
  type DirectoryUser,
  type DirectoryGroupRecord,
  type DirectoryUserModel,
  type DirectoryUserRecord,
} from './model';

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

const toGroupSummary = (g: DirectoryGroupRecord): GroupSummary => ({ id: g.id, displayName: g.displayName, mail: g.mail, kind: g.kind });
const toUserSummary = (u: DirectoryUserRecord): UserSummary => ({ id: u.id, displayName: u.displayName, mail: u.mail });

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

/** Replaces the given documents and deletes the given keys, all by exact `_id`, in small batches. */
async function upsertAndDelete<T extends { _id: string }>(model: Model<T>, docs: T[], deleteIds: string[]): Promise<void> {
  for (let i = 0; i < docs.length; i += WRITE_BATCH) {
    await model.bulkWrite(
      docs.slice(i, i + WRITE_BATCH).map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })) as never,
      { ordered: false },
    );
  }
  for (let i = 0; i < deleteIds.length; i += WRITE_BATCH) {
    await model.bulkWrite(deleteIds.slice(i, i + WRITE_BATCH).map((id) => ({ deleteOne: { filter: { _id: id } } })) as never, { ordered: false });
  }
}

export function createDirectoryService(deps: {
  users: DirectoryUserModel;
  groups: DirectoryGroupModel;
  /** Where connected tenants' synced directories are kept. */
  synced: { users: DirectoryUserModel; groups: DirectoryGroupModel };
  tenants: TenantService;
}) {
  const { tenants } = deps;
  const fileModels = { users: deps.users, groups: deps.groups };
  let isConnected: (tenantId: string) => Promise<boolean> = async () => false;
  /** A connected tenant reads its synced directory; every other tenant its directory file. */
  const modelsFor = async (tenantId: string) => ((await isConnected(tenantId)) ? deps.synced : fileModels);
  const listeners: ((tenantId: string) => Promise<void> | void)[] = [];

  /**
   * A tenant's groups and their direct members, in one read: walking nested groups in memory beats
   * a query per level on a database that scans for every filter but `_id`.
   */
  async function membershipGraph(tenantId: string): Promise<Map<string, string[]>> {
    const { groups } = await modelsFor(tenantId);
    const rows = await groups.find({ tenantId }, { id: 1, members: 1 }).lean();
    return new Map(rows.map((g) => [g.id, g.members]));
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
      for (const listener of listeners) await listener(tenantId);
      return { users: doc.users.length, groups: doc.groups.length };
    },

    /**
     * Stores a connected tenant's directory as of its last successful Graph sync, in the same
     * shape as a file tenant's, so every capability reads both alike (also while Graph is down).
     */
    async materialize(tenantId: string, entries: MaterializedDirectory): Promise<void> {
      if (entries.removed) {
        // Only what changed: `_id`-keyed replacements and deletions, nothing read.
        await upsertAndDelete(
          deps.synced.users,
          entries.users,
          entries.removed.userIds.map((id) => directoryKey(tenantId, id)),
        );
        await upsertAndDelete(
          deps.synced.groups,
          entries.groups,
          entries.removed.groupIds.map((id) => directoryKey(tenantId, id)),
        );
      } else {
        await syncCollection(deps.synced.users, tenantId, entries.users);
        await syncCollection(deps.synced.groups, tenantId, entries.groups);
      }
      for (const listener of listeners) await listener(tenantId);
    },

    async searchGroups(tenantId: string, text?: string): Promise<GroupSummary[]> {
      const { groups } = await modelsFor(tenantId);
      const found = await groups.find(searchFilter(tenantId, text)).sort({ displayName: 1 }).limit(SEARCH_LIMIT).lean();
      return found.map(toGroupSummary);
    },

    async searchUsers(tenantId: string, text?: string): Promise<UserSummary[]> {
      const { users } = await modelsFor(tenantId);
      const found = await users.find(searchFilter(tenantId, text)).sort({ displayName: 1 }).limit(SEARCH_LIMIT).lean();
      return found.map(toUserSummary);
    },

    async getGroup(tenantId: string, id: string): Promise<GroupSummary | null> {
      const { groups } = await modelsFor(tenantId);
      const group = await groups.findById(directoryKey(tenantId, id)).lean();
      return group ? toGroupSummary(group) : null;
    },

    async getUser(tenantId: string, id: string): Promise<DirectoryUser | null> {
      const { users } = await modelsFor(tenantId);
      const user = await users.findById(directoryKey(tenantId, id)).lean();
      if (!user) return null;
      const { _id, ...rest } = user;
      return rest;
    },

    /** Every user id of a tenant (readiness percentages; a scan, admin pages only). */
    /** Every user's display name and address (protection's impersonation rule guards these names). */
    async displayNames(tenantId: string): Promise<{ displayName: string; mail: string | null }[]> {
      const { users } = await modelsFor(tenantId);
      return (await users.find({ tenantId }, { displayName: 1, mail: 1, _id: 0 }).lean()).map((u) => ({ displayName: u.displayName, mail: u.mail ?? null }));
    },

    async allUserIds(tenantId: string): Promise<string[]> {
      const { users } = await modelsFor(tenantId);
      return (await users.find({ tenantId }, { id: 1, _id: 0 }).lean()).map((u) => u.id);
    },

    async findUserByAddress(tenantId: string, address: string): Promise<DirectoryUser | null> {
      const lower = address.toLowerCase();
      const { users } = await modelsFor(tenantId);
      return users
        .findOne(
          { tenantId, $or: [{ mail: lower }, { addresses: lower }, { userPrincipalName: { $regex: `^${escapeRegExp(lower)}$`, $options: 'i' } }] },
          { _id: 0 },
        )
        .lean();
    },

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
