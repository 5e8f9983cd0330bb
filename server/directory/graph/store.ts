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
 * into an overlay collection (`…_ovl`, see writeOverlay and ./expansion-overlay.ts) that readers
 * hold in memory and consult first; it becomes current with the sync state too, and is written only
 * after Graph has answered every delta page. Documents stay far below 16 MB whatever the group size.
 */
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { escapeRegExp } from '../../http/validate';
import { classifyGroup, type GroupKind } from '../classify';
import { DirectoryModel, type SourcePage } from './directory-model';
import { createOverlayCache, readOverlay, writePackedOverlay, type OverlayData, type OverlayGroup } from './expansion-overlay';

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

type Overlay = OverlayData<ExpansionHead>;
const emptyOverlay = (): Overlay => ({ groups: new Map(), buckets: new Map() });

export function createSyncStore(conn: Connection) {
  const db = () => {
    if (!conn.db) throw new Error('database not connected');
    return conn.db;
  };
  /** Per tenant, its chain of overlays in memory (./expansion-overlay.ts), and each generation's facts (never changed). */
  const overlays = createOverlayCache<ExpansionHead>((tenantId, overlay) =>
    readOverlay(overlayCollection(tenantId, overlay) as never, reviveHead, legacyOverlay),
  );
  const metas = new Map<string, { generation: string; meta: Promise<ExpansionMeta | null> }>();

  const sourceName = (tenantId: string, generation: string) => `dirsync_${tenantId}_${generation}_src`;
  const expansionName = (tenantId: string, generation: string) => `dirsync_${tenantId}_${generation}_exp`;
  const overlayName = (tenantId: string, overlay: string) => `dirsync_${tenantId}_${overlay}_ovl`;

  function generationMeta(tenantId: string, generation: string): Promise<ExpansionMeta | null> {
    const hit = metas.get(tenantId);
    if (hit?.generation === generation) return hit.meta;
    const meta = expansionCollection(tenantId, generation).findOne({ _id: META }) as unknown as Promise<ExpansionMeta | null>;
    const entry = { generation, meta };
    metas.set(tenantId, entry);
    const forget = () => metas.get(tenantId) === entry && metas.delete(tenantId);
    meta.then((m) => m ?? forget(), forget);
    return meta;
  }

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
      for (const bucket of userBuckets(model, buckets)) {
        batch.push(bucketDoc(bucket));
        batchSize += CHUNK * 4;
        if (batchSize >= 20_000) await flush();
      }
      await flush();
      return { groups: model.groups.size, memberships };
    },

    /**
     * After an incremental sync: writes the expansions of the affected groups (and tombstones for
     * groups that are gone) and the buckets of changed users into a new overlay collection, the next
     * of the chain of overlays since the base generation (what earlier overlays hold is not written
     * again: readers merge the chain). The base generation is not touched. Only inserts into a fresh, small collection: FerretDB v1 on SQLite
     * scans the whole collection for every filtered write, so rewriting documents in the large base
     * collection costs a scan each, while inserts cost none; the overlay is packed (a few documents,
     * see ./expansion-overlay.ts) and handed to this node's readers, so they need not read it back.
     * Becomes current with the sync state, like a generation; returns how many groups the chain
     * overlays with it, or null when only a full rewrite can follow: a generation written before
     * buckets, an earlier overlay that is gone, or more than `limit` groups overlaid together.
     */
    async writeOverlay(
      tenantId: string,
      base: string,
      overlay: string,
      previousChain: string[],
      model: DirectoryModel,
      changes: { groupIds: Iterable<string>; userIds: Iterable<string> },
      limit: number,
      signal?: AbortSignal,
    ): Promise<{ written: number; removed: number; overlaidGroups: number } | null> {
      const [meta, previous] = await Promise.all([generationMeta(tenantId, base), overlays.chain(tenantId, previousChain)]);
      if (!meta || !previous) return null;
      const groupIds = new Set([...changes.groupIds].filter((id) => !id.startsWith('~')));
      let overlaid = previous.groups.size;
      for (const id of groupIds) if (!previous.groups.has(id)) overlaid++;
      if (overlaid > limit) return null;
      const touched = new Set([...changes.userIds].map((id) => userBucket(id, meta.buckets)));
      const data: Overlay = { groups: new Map(), buckets: new Map() };
      const v = newGeneration();
      const updatedAt = new Date();
      let written = 0;
      let removed = 0;
      for (const groupId of groupIds) {
        signal?.throwIfAborted();
        const group = groupExpansion(model, groupId, v, updatedAt);
        data.groups.set(groupId, group);
        if (group) written++;
        else removed++;
      }
      for (const { n, userIds, addresses } of userBuckets(model, meta.buckets, touched)) data.buckets.set(n, { userIds, addresses });
      await writePackedOverlay(overlayCollection(tenantId, overlay) as never, data, signal);
      overlays.prime(tenantId, previousChain, previous, overlay, data); // this node's readers need not read it back
      return { written, removed, overlaidGroups: overlaid };
    },

    overlay(tenantId: string, overlay: string) {
      return { drop: () => dropCollection(overlayName(tenantId, overlay)) };
    },

    /**
     * The expansions of a generation, seen through its chain of overlays (if any, oldest first): the
     * overlays win per group and per user bucket, the later over the earlier.
     */
    expansions(tenantId: string, generation: string, chain: string[] = []) {
      const coll = expansionCollection(tenantId, generation);
      if (!chain.length) {
        overlays.forget(tenantId);
      }
      /** The overlays in memory (one read per overlay and node); an overlay dropped while read hides nothing. */
      const overlaid = async (): Promise<Overlay> => (chain.length ? await overlays.chain(tenantId, chain) : null) ?? emptyOverlay();
      return {
        async heads(): Promise<ExpansionHead[]> {
          const [base, { groups }] = await Promise.all([coll.find({ head: true }).toArray() as Promise<ExpansionHead[]>, overlaid()]);
          const newer = [...groups.values()].flatMap((g) => (g ? [g.head] : []));
          return [...base.filter((h) => !groups.has(h.groupId)), ...newer].sort(byName);
        },
        async get(groupId: string): Promise<{ head: ExpansionHead; userIds: string[]; addresses: string[] } | null> {
          const { groups } = await overlaid();
          if (groups.has(groupId)) return groups.get(groupId) ?? null;
          const head = (await coll.findOne({ _id: groupId })) as ExpansionHead | null;
          if (!head?.head) return null;
          const chunks = await Promise.all(chunkIds(head).map((id) => coll.findOne({ _id: id }) as Promise<ExpansionChunk | null>));
          return { head, userIds: chunks.flatMap(chunkUserIds), addresses: chunks.flatMap(chunkAddresses) };
        },
        /** Groups whose expansion holds the user, or the address. */
        async groupsContaining(filter: { userId: string } | { address: string }): Promise<string[]> {
          const query = {
            head: false,
            ...('userId' in filter ? lineFilter('ids', 'userIds', filter.userId) : lineFilter('addrs', 'addresses', filter.address.toLowerCase())),
          };
          const [base, { groups }] = await Promise.all([coll.find(query, { projection: { groupId: 1 } }).toArray(), overlaid()]);
          const found = base.map((c) => c.groupId).filter((id) => !groups.has(id));
          const holds =
            'userId' in filter
              ? (g: OverlayGroup<ExpansionHead>) => g.userIds.includes(filter.userId)
              : (g: OverlayGroup<ExpansionHead>) => g.addresses.includes(filter.address.toLowerCase());
          for (const [id, g] of groups) if (g && holds(g)) found.push(id);
          return [...new Set(found)].filter((id) => id !== ALL_USERS).sort();
        },
        async isUserAddress(address: string): Promise<boolean> {
          const lower = address.toLowerCase();
          const { buckets } = await overlaid();
          for (const b of buckets.values()) if (b.addresses.includes(lower)) return true;
          const query = { groupId: ALL_USERS, ...lineFilter('addrs', 'addresses', lower) };
          const found = (await coll.find(query, { projection: { n: 1 } }).toArray()) as unknown as Array<{ n: number }>;
          return found.some((b) => !buckets.has(b.n));
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

/** One group's whole expansion (its head written under version `v`); null when the model has no such group. */
function groupExpansion(model: DirectoryModel, groupId: string, v: string, updatedAt: Date): OverlayGroup<ExpansionHead> | null {
  const group = model.groups.get(groupId);
  if (!group?.props) return null;
  const kind = classifyGroup(group.props);
  const userIds = [...model.transitiveUsers(groupId)].sort();
  const addresses: string[] = [];
  for (const id of userIds) for (const a of model.users.get(id)!.addresses) addresses.push(a); // a flatMap allocates an array per user
  const head: ExpansionHead = {
    _id: groupId,
    head: true,
    groupId,
    displayName: group.props.displayName,
    mail: group.props.mail,
    kind,
    extended: !MIMECAST_EXPANDED_KINDS.includes(kind),
    memberCount: userIds.length,
    addressCount: addresses.length,
    chunks: Math.ceil(userIds.length / CHUNK),
    v,
    updatedAt,
  };
  return { head, userIds, addresses };
}

/** One group's expansion documents under version `v` (chunks of CHUNK members); null when the model has no such group. */
function expansionDocs(model: DirectoryModel, groupId: string, v: string, updatedAt: Date): { head: ExpansionHead; chunks: ExpansionChunk[] } | null {
  const expansion = groupExpansion(model, groupId, v, updatedAt);
  if (!expansion) return null;
  const { head, userIds } = expansion;
  const chunks: ExpansionChunk[] = [];
  for (let i = 0, n = 0; i < userIds.length; i += CHUNK, n++) {
    const ids = userIds.slice(i, i + CHUNK);
    chunks.push({
      _id: `${groupId}#${v}#${n}`,
      head: false,
      groupId,
      n,
      ids: joinLines(ids),
      addrs: joinLines(ids.flatMap((id) => model.users.get(id)!.addresses)),
    });
  }
  return { head, chunks };
}

/** The user buckets (all, or only `only`), each listing its users sorted, with their addresses. */
function userBuckets(model: DirectoryModel, buckets: number, only?: Set<number>): Array<{ n: number; userIds: string[]; addresses: string[] }> {
  if (only?.size === 0) return [];
  const members = new Map<number, string[]>();
  for (const b of only ?? Array.from({ length: buckets }, (_, i) => i)) members.set(b, []);
  for (const id of model.users.keys()) members.get(userBucket(id, buckets))?.push(id);
  return [...members].map(([n, ids]) => ({ n, userIds: ids.sort(), addresses: ids.flatMap((id) => model.users.get(id)!.addresses) }));
}

const bucketDoc = (b: { n: number; userIds: string[]; addresses: string[] }): ExpansionChunk => ({
  _id: `${ALL_USERS}#${b.n}`,
  head: false,
  groupId: ALL_USERS,
  n: b.n,
  ids: joinLines(b.userIds),
  addrs: joinLines(b.addresses),
});

/** A head read back from a packed overlay (JSON: its date is a string). */
const reviveHead = (head: ExpansionHead): ExpansionHead => ({ ...head, updatedAt: head.updatedAt ? new Date(head.updatedAt) : undefined });

/** An overlay written before packing (a document per head, chunk, tombstone and user bucket), in memory. */
function legacyOverlay(docs: Array<Record<string, unknown>>): Overlay {
  const data = emptyOverlay();
  const byId = new Map(docs.map((d) => [String(d._id), d]));
  for (const doc of docs) {
    if ((doc as unknown as ExpansionTombstone).tombstone) data.groups.set(String(doc.groupId), null);
    else if (doc.head === true) {
      const head = doc as unknown as ExpansionHead;
      const chunks = chunkIds(head).map((id) => (byId.get(id) ?? null) as ExpansionChunk | null);
      data.groups.set(head.groupId, { head, userIds: chunks.flatMap(chunkUserIds), addresses: chunks.flatMap(chunkAddresses) });
    } else if (doc.groupId === ALL_USERS) {
      const chunk = doc as unknown as ExpansionChunk;
      data.buckets.set(chunk.n, { userIds: chunkUserIds(chunk), addresses: chunkAddresses(chunk) });
    }
  }
  return data;
}
