/**
 * What a sync keeps, per tenant and generation, in collections of their own:
 *
 *  - `dirsync_<tenant>_<generation>_src`: the directory as Graph returned it, normalised, one document
 *    per Graph page (full sync) plus one per delta page (incremental syncs, applied in order);
 *  - `dirsync_<tenant>_<generation>_exp`: the distribution-list expansions — per group a head
 *    document (`_id` = group id, with a version `v`) and chunks of at most CHUNK members
 *    (`_id` = "<group id>#<v>#<n>") with their user ids and every address they receive mail at;
 *    every user's addresses in hash buckets (`~users#<b>`, bucket count in `~meta`).
 *
 * A full sync writes a new generation beside the current one, which becomes current with one
 * single-document write (the sync state); only then is the old one dropped. So a failed sync keeps
 * the expansion of the last successful one, no transaction is needed, and dropping a generation is
 * one cheap command (FerretDB v1 would otherwise scan every document to delete them).
 *
 * An incremental sync writes only the affected groups' expansions (and the buckets of changed users)
 * into an overlay collection (`…_ovl`, see writeOverlay) that readers consult first; it becomes
 * current with the sync state too, and is written only after Graph has answered every delta page.
 * Documents stay far below 16 MB whatever the group size.
 */
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { escapeRegExp } from '../../http/validate';
import { classifyGroup, type GroupKind } from '../classify';
import { DirectoryModel, type SourcePage } from './directory-model';

// The in-memory model and the source page shapes live in directory-model.ts; re-exported for the sync's callers.
export { DirectoryModel, type ModelUser, type SourceGroup, type SourcePage, type SourceUser } from './directory-model';

export const CHUNK = 1000;
/** The pseudo group whose chunks list every user (no group id starts with "~"). */
const ALL_USERS = '~users';
/** The generation's own facts (the number of user buckets). */
const META = '~meta';

/** Mimecast expands only these kinds; Lifeboat expands the others too and marks them `extended`. */
export const MIMECAST_EXPANDED_KINDS: GroupKind[] = ['m365', 'mailEnabledSecurity'];

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
  /** The version of this group's chunks (absent: chunks keyed "<group id>#<n>", written before versions). */
  v?: string;
  /** When this group's expansion was last written. */
  updatedAt?: Date;
}

interface ExpansionMeta {
  _id: typeof META;
  head: false;
  groupId: typeof META;
  buckets: number;
}

/**
 * A chunk of a group's members. Their ids and addresses are stored as one newline-separated string
 * each, not as arrays: FerretDB v1 describes every array element's type in its stored form, which
 * makes long arrays several times slower to write and to scan than one string. A look-up matches a
 * whole line (`$regex` `^…$` with the `m` option). Generations written before hold `userIds` and
 * `addresses` arrays; they are still read.
 */
interface ExpansionChunk {
  _id: string;
  head: false;
  groupId: string;
  n: number;
  ids?: string;
  addrs?: string;
  userIds?: string[];
  addresses?: string[];
}

const joinLines = (values: string[]) => values.join('\n');
const chunkUserIds = (c: ExpansionChunk | null) => (c ? (c.userIds ?? (c.ids ? c.ids.split('\n') : [])) : []);
const chunkAddresses = (c: ExpansionChunk | null) => (c ? (c.addresses ?? (c.addrs ? c.addrs.split('\n') : [])) : []);
/** A filter for chunks holding a value as a line of `field` (or as an element of the older array field). */
const lineFilter = (field: 'ids' | 'addrs', legacy: 'userIds' | 'addresses', value: string) => ({
  $or: [{ [field]: { $regex: `^${escapeRegExp(value)}$`, $options: 'm' } }, { [legacy]: value }],
});

/** The bucket of a user's addresses (FNV-1a of the id): stable, so a changed user touches one bucket. */
export function userBucket(userId: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % buckets;
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
  const overlayName = (tenantId: string, overlay: string) => `dirsync_${tenantId}_${overlay}_ovl`;

  return {
    source(tenantId: string, generation: string) {
      const coll = db().collection<StoredPage>(sourceName(tenantId, generation));
      return {
        /** Stores a page with its users and groups as one JSON string (see ExpansionChunk on why not arrays). */
        async append(page: SourcePage): Promise<void> {
          const { users, groups, ...rest } = page;
          await coll.insertOne({ ...rest, json: JSON.stringify({ users, groups }) });
        },
        /** Replays every page in order into a model (pages stored before JSON strings hold arrays). */
        async load(model: DirectoryModel): Promise<number> {
          let pages = 0;
          for await (const page of coll.find().sort({ _id: 1 })) {
            model.apply(page.json === undefined ? page : (JSON.parse(page.json) as Pick<SourcePage, 'users' | 'groups'>));
            pages++;
          }
          return pages;
        },
        drop: () => dropCollection(sourceName(tenantId, generation)),
      };
    },

    /** Writes every group's expansion into a new generation; returns the counts. */
    async writeExpansions(tenantId: string, generation: string, model: DirectoryModel, signal?: AbortSignal): Promise<{ groups: number; memberships: number }> {
      const coll = expansionCollection(tenantId, generation);
      const updatedAt = new Date();
      // The generation's facts first: read back with a one-document scan.
      const buckets = Math.max(1, Math.ceil(model.users.size / CHUNK));
      let batch: ExpansionDoc[] = [{ _id: META, head: false, groupId: META, buckets }];
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
        const docs = expansionDocs(model, groupId, generation, updatedAt)!;
        memberships += docs.head.memberCount;
        batch.push(...docs.chunks, docs.head);
        batchSize += docs.head.memberCount * 4 + 1;
        if (batchSize >= 20_000) await flush();
      }
      // Every user's addresses too, under a pseudo group in hash buckets, so an address can be told a user's.
      for (const chunk of userBuckets(model, buckets)) {
        batch.push(chunk);
        batchSize += CHUNK * 4;
        if (batchSize >= 20_000) await flush();
      }
      await flush();
      return { groups: model.groups.size, memberships };
    },

    /**
     * After an incremental sync: writes the expansions of the affected groups (and tombstones for
     * groups that are gone) and the buckets of changed users into a new overlay collection, which
     * also carries forward what the previous overlay held for groups not affected now. The base
     * generation is not touched. Only inserts into a fresh, small collection: FerretDB v1 on SQLite
     * scans the whole collection for every filtered read or write (even on `_id`), so rewriting
     * documents in the large base collection costs a scan each, while inserts cost none.
     * Becomes current with the sync state, like a generation; returns how many groups it overlays.
     */
    async writeOverlay(
      tenantId: string,
      base: string,
      overlay: string,
      previousOverlay: string | null,
      model: DirectoryModel,
      changes: { groupIds: Iterable<string>; userIds: Iterable<string> },
      signal?: AbortSignal,
    ): Promise<{ written: number; removed: number; overlaidGroups: number } | null> {
      const meta = (await expansionCollection(tenantId, base).findOne({ _id: META })) as unknown as ExpansionMeta | null;
      if (!meta) return null; // a generation written before buckets: only a full rewrite can follow
      const groupIds = new Set([...changes.groupIds].filter((id) => !id.startsWith('~')));
      const touched = new Set([...changes.userIds].map((id) => userBucket(id, meta.buckets)));
      const docs: ExpansionDoc[] = [];
      const overlaid = new Set<string>();
      if (previousOverlay) {
        for await (const doc of overlayCollection(tenantId, previousOverlay).find()) {
          signal?.throwIfAborted();
          if (groupIds.has(doc.groupId)) continue;
          if (doc.groupId === ALL_USERS && touched.has((doc as ExpansionChunk).n)) continue;
          docs.push(doc as ExpansionDoc);
          if (doc.groupId !== ALL_USERS) overlaid.add(doc.groupId);
        }
      }
      const v = newGeneration();
      const updatedAt = new Date();
      let written = 0;
      let removed = 0;
      for (const groupId of groupIds) {
        const group = expansionDocs(model, groupId, v, updatedAt);
        if (group) {
          docs.push(...group.chunks, group.head);
          written++;
        } else {
          docs.push({ _id: groupId, head: false, groupId, tombstone: true });
          removed++;
        }
        overlaid.add(groupId);
      }
      docs.push(...userBuckets(model, meta.buckets, touched));
      const coll = overlayCollection(tenantId, overlay);
      for (let i = 0; i < docs.length; i += 500) {
        signal?.throwIfAborted();
        await coll.insertMany(docs.slice(i, i + 500), { ordered: false });
      }
      return { written, removed, overlaidGroups: overlaid.size };
    },

    overlay(tenantId: string, overlay: string) {
      return { drop: () => dropCollection(overlayName(tenantId, overlay)) };
    },

    /** The expansions of a generation, seen through its overlay (if any): the overlay wins per group and per user bucket. */
    expansions(tenantId: string, generation: string, overlay: string | null = null) {
      const coll = expansionCollection(tenantId, generation);
      const ovl = overlay ? overlayCollection(tenantId, overlay) : null;
      /** Which groups and user buckets the overlay replaces (it is small: one read). */
      const overlaid = async () => {
        const groups = new Set<string>();
        const buckets = new Set<number>();
        if (ovl) {
          for (const doc of await ovl.find({}, { projection: { groupId: 1, n: 1 } }).toArray()) {
            if (doc.groupId === ALL_USERS) buckets.add((doc as ExpansionChunk).n);
            else groups.add(doc.groupId);
          }
        }
        return { groups, buckets };
      };
      return {
        async heads(): Promise<ExpansionHead[]> {
          const base = (await coll.find({ head: true }).toArray()) as ExpansionHead[];
          if (!ovl) return base.sort(byName);
          const { groups } = await overlaid();
          const newer = (await ovl.find({ head: true }).toArray()) as ExpansionHead[];
          return [...base.filter((h) => !groups.has(h.groupId)), ...newer].sort(byName);
        },
        async get(groupId: string): Promise<{ head: ExpansionHead; userIds: string[]; addresses: string[] } | null> {
          let from = coll;
          let head = (ovl ? await ovl.findOne({ _id: groupId }) : null) as ExpansionHead | (ExpansionDoc & { tombstone?: boolean }) | null;
          if (head && (head as { tombstone?: boolean }).tombstone) return null;
          if (head?.head) from = ovl!;
          else head = (await coll.findOne({ _id: groupId })) as ExpansionHead | null;
          if (!head?.head) return null;
          const found = head as ExpansionHead;
          const chunks = await Promise.all(chunkIds(found).map((id) => from.findOne({ _id: id }) as Promise<ExpansionChunk | null>));
          return { head: found, userIds: chunks.flatMap(chunkUserIds), addresses: chunks.flatMap(chunkAddresses) };
        },
        /** Groups whose expansion holds the user, or the address. */
        async groupsContaining(filter: { userId: string } | { address: string }): Promise<string[]> {
          const query = {
            head: false,
            ...('userId' in filter ? lineFilter('ids', 'userIds', filter.userId) : lineFilter('addrs', 'addresses', filter.address.toLowerCase())),
          };
          const found = (await coll.find(query, { projection: { groupId: 1 } }).toArray()).map((c) => c.groupId);
          if (ovl) {
            const { groups } = await overlaid();
            const newer = (await ovl.find(query, { projection: { groupId: 1 } }).toArray()).map((c) => c.groupId);
            found.splice(0, found.length, ...found.filter((id) => !groups.has(id)), ...newer);
          }
          return [...new Set(found)].filter((id) => id !== ALL_USERS).sort();
        },
        async isUserAddress(address: string): Promise<boolean> {
          const query = { groupId: ALL_USERS, ...lineFilter('addrs', 'addresses', address.toLowerCase()) };
          if (ovl && (await ovl.countDocuments(query)) > 0) return true;
          const buckets = (await coll.find(query, { projection: { n: 1 } }).toArray()) as unknown as Array<{ n: number }>;
          if (!ovl) return buckets.length > 0;
          const replaced = (await overlaid()).buckets;
          return buckets.some((b) => !replaced.has(b.n));
        },
        drop: () => dropCollection(expansionName(tenantId, generation)),
      };
    },
  };

  function expansionCollection(tenantId: string, generation: string) {
    return db().collection<ExpansionDoc>(expansionName(tenantId, generation));
  }

  function overlayCollection(tenantId: string, overlay: string) {
    return db().collection<ExpansionDoc>(overlayName(tenantId, overlay));
  }

  async function dropCollection(name: string): Promise<void> {
    try {
      await db().dropCollection(name);
    } catch (err) {
      if ((err as { codeName?: string }).codeName !== 'NamespaceNotFound') throw err;
    }
  }
}
export type SyncStore = ReturnType<typeof createSyncStore>;

interface ExpansionTombstone {
  _id: string;
  head: false;
  groupId: string;
  tombstone: true;
}

/** A source page as stored: its entries as one JSON string (older pages: `users`/`groups` arrays). */
type StoredPage = Omit<SourcePage, 'users' | 'groups'> & Partial<Pick<SourcePage, 'users' | 'groups'>> & { json?: string };

type ExpansionDoc = ExpansionHead | ExpansionChunk | ExpansionMeta | ExpansionTombstone;

const byName = (a: ExpansionHead, b: ExpansionHead) => (a.displayName < b.displayName ? -1 : a.displayName > b.displayName ? 1 : 0);

/** The `_id`s of a head's chunks. */
const chunkIds = (head: ExpansionHead) =>
  Array.from({ length: head.chunks }, (_, n) => (head.v === undefined ? `${head.groupId}#${n}` : `${head.groupId}#${head.v}#${n}`));

/** One group's expansion documents under version `v`; null when the model has no such group. */
function expansionDocs(model: DirectoryModel, groupId: string, v: string, updatedAt: Date): { head: ExpansionHead; chunks: ExpansionChunk[] } | null {
  const group = model.groups.get(groupId);
  if (!group?.props) return null;
  const kind = classifyGroup(group.props);
  const userIds = [...model.transitiveUsers(groupId)].sort();
  const chunks: ExpansionChunk[] = [];
  let addressCount = 0;
  for (let i = 0, n = 0; i < userIds.length; i += CHUNK, n++) {
    const ids = userIds.slice(i, i + CHUNK);
    const addresses = ids.flatMap((id) => model.users.get(id)!.addresses);
    addressCount += addresses.length;
    chunks.push({ _id: `${groupId}#${v}#${n}`, head: false, groupId, n, ids: joinLines(ids), addrs: joinLines(addresses) });
  }
  const head: ExpansionHead = {
    _id: groupId,
    head: true,
    groupId,
    displayName: group.props.displayName,
    mail: group.props.mail,
    kind,
    extended: !MIMECAST_EXPANDED_KINDS.includes(kind),
    memberCount: userIds.length,
    addressCount,
    chunks: chunks.length,
    v,
    updatedAt,
  };
  return { head, chunks };
}

/** The user buckets (all, or only `only`), each listing its users sorted, with their addresses. */
function userBuckets(model: DirectoryModel, buckets: number, only?: Set<number>): ExpansionChunk[] {
  const members = new Map<number, string[]>();
  for (const b of only ?? Array.from({ length: buckets }, (_, i) => i)) members.set(b, []);
  for (const id of model.users.keys()) members.get(userBucket(id, buckets))?.push(id);
  return [...members].map(([n, ids]) => {
    ids.sort();
    return {
      _id: `${ALL_USERS}#${n}`,
      head: false,
      groupId: ALL_USERS,
      n,
      ids: joinLines(ids),
      addrs: joinLines(ids.flatMap((id) => model.users.get(id)!.addresses)),
    };
  });
}
