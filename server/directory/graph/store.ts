/**
 * What a sync keeps, per tenant and generation, in collections of their own:
 *
 *  - `dirsync_<tenant>_<generation>_src`: the directory as Graph returned it, normalised, one document
 *    per Graph page (full sync) plus one per delta page (incremental syncs, applied in order);
 *  - `dirsync_<tenant>_<generation>_exp`: the distribution-list expansions — per group a head
 *    document (`_id` = group id) and chunks of at most CHUNK members (`_id` = "<group id>#<n>") with
 *    their user ids and every address they receive mail at.
 *
 * A new generation is written beside the current one and becomes current with one single-document
 * write (the sync state); only then is the old one dropped. So a failed sync keeps the expansion of
 * the last successful one, no transaction is needed, and dropping a generation is one cheap command
 * (FerretDB v1 would otherwise scan every document to delete them). Documents stay far below 16 MB
 * whatever the group size.
 */
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { classifyGroup, type GroupKind } from '../classify';

export const CHUNK = 1000;
/** The pseudo group whose chunks list every user (no group id starts with "~"). */
const ALL_USERS = '~users';

/** Mimecast expands only these kinds; Lifeboat expands the others too and marks them `extended`. */
export const MIMECAST_EXPANDED_KINDS: GroupKind[] = ['m365', 'mailEnabledSecurity'];

export interface SourceUser {
  id: string;
  displayName?: string;
  mail?: string | null;
  addresses?: string[];
  removed?: boolean;
}

export interface SourceGroup {
  id: string;
  props?: { displayName: string; mail: string | null; groupTypes: string[]; mailEnabled: boolean; securityEnabled: boolean; membershipRule: string | null };
  addUsers?: string[];
  addGroups?: string[];
  removeMembers?: string[];
  removed?: boolean;
}

export interface SourcePage {
  _id: string;
  kind: 'users' | 'groups';
  delta: boolean;
  users?: SourceUser[];
  groups?: SourceGroup[];
}

export interface ExpansionHead {
  _id: string;
  head: true;
  groupId: string;
  displayName: string;
  mail: string | null;
  kind: GroupKind;
  extended: boolean;
  memberCount: number;
  addressCount: number;
  chunks: number;
}

interface ExpansionChunk {
  _id: string;
  head: false;
  groupId: string;
  n: number;
  userIds: string[];
  addresses: string[];
}

/** The directory in memory while expansions are computed: compact, no raw pages. */
export class DirectoryModel {
  readonly users = new Map<string, { displayName: string; mail: string | null; addresses: string[] }>();
  readonly groups = new Map<string, { props: NonNullable<SourceGroup['props']> | null; users: Set<string>; groups: Set<string> }>();

  apply(page: Pick<SourcePage, 'users' | 'groups'>): void {
    for (const u of page.users ?? []) {
      if (u.removed) this.users.delete(u.id);
      else this.users.set(u.id, { displayName: u.displayName ?? '', mail: u.mail ?? null, addresses: u.addresses ?? [] });
    }
    for (const g of page.groups ?? []) {
      if (g.removed) {
        this.groups.delete(g.id);
        continue;
      }
      let entry = this.groups.get(g.id);
      if (!entry) this.groups.set(g.id, (entry = { props: null, users: new Set(), groups: new Set() }));
      if (g.props) entry.props = g.props;
      for (const id of g.addUsers ?? []) entry.users.add(id);
      for (const id of g.addGroups ?? []) entry.groups.add(id);
      for (const id of g.removeMembers ?? []) {
        entry.users.delete(id);
        entry.groups.delete(id);
      }
    }
  }

  /** Every user inside a group, through nested groups; cycles are walked once. */
  transitiveUsers(groupId: string): Set<string> {
    const users = new Set<string>();
    const seen = new Set<string>([groupId]);
    const stack = [groupId];
    while (stack.length) {
      const g = this.groups.get(stack.pop()!);
      if (!g) continue;
      for (const u of g.users) if (this.users.has(u)) users.add(u);
      for (const child of g.groups) {
        if (!seen.has(child)) {
          seen.add(child);
          stack.push(child);
        }
      }
    }
    return users;
  }
}

/** mail and every `smtp:` proxy address (primary `SMTP:` too), lower-cased, once each. */
export function mailAddresses(mail: string | null | undefined, proxyAddresses: string[] | null | undefined): string[] {
  const out = new Set<string>();
  if (mail) out.add(mail.toLowerCase());
  for (const p of proxyAddresses ?? []) if (/^smtp:/i.test(p)) out.add(p.slice(5).toLowerCase());
  return [...out];
}

export const newGeneration = () => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

export function createSyncStore(conn: Connection) {
  const db = () => {
    if (!conn.db) throw new Error('database not connected');
    return conn.db;
  };
  const sourceName = (tenantId: string, generation: string) => `dirsync_${tenantId}_${generation}_src`;
  const expansionName = (tenantId: string, generation: string) => `dirsync_${tenantId}_${generation}_exp`;

  return {
    source(tenantId: string, generation: string) {
      const coll = db().collection<SourcePage>(sourceName(tenantId, generation));
      return {
        async append(page: SourcePage): Promise<void> {
          await coll.insertOne(page);
        },
        /** Replays every page in order into a model. */
        async load(model: DirectoryModel): Promise<number> {
          let pages = 0;
          for await (const page of coll.find().sort({ _id: 1 })) {
            model.apply(page);
            pages++;
          }
          return pages;
        },
        drop: () => dropCollection(sourceName(tenantId, generation)),
      };
    },

    /** Writes every group's expansion into a new generation; returns the counts. */
    async writeExpansions(tenantId: string, generation: string, model: DirectoryModel, signal?: AbortSignal): Promise<{ groups: number; memberships: number }> {
      const coll = db().collection<ExpansionHead | ExpansionChunk>(expansionName(tenantId, generation));
      let batch: Array<ExpansionHead | ExpansionChunk> = [];
      let batchSize = 0;
      let memberships = 0;
      const flush = async () => {
        if (batch.length) await coll.insertMany(batch, { ordered: false });
        batch = [];
        batchSize = 0;
      };
      for (const [groupId, group] of model.groups) {
        signal?.throwIfAborted();
        if (!group.props) continue; // only seen as someone's member, never returned itself
        const kind = classifyGroup(group.props);
        const userIds = [...model.transitiveUsers(groupId)].sort();
        memberships += userIds.length;
        let addressCount = 0;
        let n = 0;
        for (let i = 0; i < userIds.length; i += CHUNK, n++) {
          const ids = userIds.slice(i, i + CHUNK);
          const addresses = ids.flatMap((id) => model.users.get(id)!.addresses);
          addressCount += addresses.length;
          batch.push({ _id: `${groupId}#${n}`, head: false, groupId, n, userIds: ids, addresses });
          batchSize += ids.length * 4;
        }
        batch.push({
          _id: groupId,
          head: true,
          groupId,
          displayName: group.props.displayName,
          mail: group.props.mail,
          kind,
          extended: !MIMECAST_EXPANDED_KINDS.includes(kind),
          memberCount: userIds.length,
          addressCount,
          chunks: n,
        });
        batchSize++;
        if (batchSize >= 20_000) await flush();
      }
      // Every user's addresses too, under a pseudo group, so an address can be told a user's.
      const everyone = [...model.users.keys()].sort();
      for (let i = 0, n = 0; i < everyone.length; i += CHUNK, n++) {
        const ids = everyone.slice(i, i + CHUNK);
        batch.push({ _id: `${ALL_USERS}#${n}`, head: false, groupId: ALL_USERS, n, userIds: ids, addresses: ids.flatMap((id) => model.users.get(id)!.addresses) });
        batchSize += ids.length * 4;
        if (batchSize >= 20_000) await flush();
      }
      await flush();
      return { groups: model.groups.size, memberships };
    },

    expansions(tenantId: string, generation: string) {
      const coll = db().collection<ExpansionHead | ExpansionChunk>(expansionName(tenantId, generation));
      return {
        async heads(): Promise<ExpansionHead[]> {
          return (await coll.find({ head: true }).sort({ displayName: 1 }).toArray()) as ExpansionHead[];
        },
        async get(groupId: string): Promise<{ head: ExpansionHead; userIds: string[]; addresses: string[] } | null> {
          const head = (await coll.findOne({ _id: groupId })) as ExpansionHead | null;
          if (!head?.head) return null;
          const chunks = await Promise.all(Array.from({ length: head.chunks }, (_, n) => coll.findOne({ _id: `${groupId}#${n}` }) as Promise<ExpansionChunk | null>));
          return { head, userIds: chunks.flatMap((c) => c?.userIds ?? []), addresses: chunks.flatMap((c) => c?.addresses ?? []) };
        },
        /** Groups whose expansion holds the user, or the address. */
        async groupsContaining(filter: { userId: string } | { address: string }): Promise<string[]> {
          const query = 'userId' in filter ? { head: false, userIds: filter.userId } : { head: false, addresses: filter.address.toLowerCase() };
          const chunks = await coll.find(query, { projection: { groupId: 1 } }).toArray();
          return [...new Set(chunks.map((c) => (c as ExpansionChunk).groupId))].filter((id) => id !== ALL_USERS).sort();
        },
        async isUserAddress(address: string): Promise<boolean> {
          return (await coll.countDocuments({ groupId: ALL_USERS, addresses: address.toLowerCase() })) > 0;
        },
        drop: () => dropCollection(expansionName(tenantId, generation)),
      };
    },
  };

  async function dropCollection(name: string): Promise<void> {
    try {
      await db().dropCollection(name);
    } catch (err) {
      if ((err as { codeName?: string }).codeName !== 'NamespaceNotFound') throw err;
    }
  }
}
export type SyncStore = ReturnType<typeof createSyncStore>;
