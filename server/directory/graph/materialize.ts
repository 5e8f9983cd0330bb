/**
 * A synced Graph directory in the record shape of the file provider, and its storing as the synced
 * directory's next generation or overlay (../synced-store.ts) before the sync's switch.
 */
import { classifyGroup } from '../classify';
import type { SyncedStore, ViewChanges, ViewGroup, ViewRecords, ViewUser } from '../synced-store';
import { SyncedView } from '../synced-view';
import type { SyncStateRecord } from './model';
import { DirectoryModel, newGeneration, type SyncStore } from './store';
import type { SyncChanges } from './directory-model';

/** An overlay may hold this many changed users and groups, or this share of all; beyond, a new generation is written. */
const MIN_OVERLAY_ENTRIES = 2000;
const MAX_OVERLAY_SHARE = 0.05;

/** The whole directory as records. */
export function materializedDirectory(tenantId: string, model: DirectoryModel): ViewRecords {
  return {
    users: collect(model.users.keys(), (id) => userRecord(tenantId, model, id)),
    groups: collect(model.groups.keys(), (id) => groupRecord(tenantId, model, id)),
  };
}

/** The whole directory as records, rebuilt from a sync's stored Graph pages (see SyncedViews' fromSnapshot). */
export async function snapshotDirectory(store: SyncStore, tenantId: string, generation: string): Promise<ViewRecords> {
  const model = new DirectoryModel();
  await store.source(tenantId, generation).load(model);
  return materializedDirectory(tenantId, model);
}

/** Only what an incremental sync changed: the changed users and groups as they are now, and the ids of those that are gone. */
export function changedDirectory(tenantId: string, model: DirectoryModel, changes: SyncChanges): ViewChanges {
  const removedUserIds: string[] = [];
  const removedGroupIds: string[] = [];
  return {
    users: collect(changes.userIds, (id) => userRecord(tenantId, model, id), removedUserIds),
    groups: collect(changes.groupIds, (id) => groupRecord(tenantId, model, id), removedGroupIds),
    removedUserIds,
    removedGroupIds,
  };
}

export interface ViewPointer {
  directoryGeneration: string;
  directoryOverlay: string | null;
  directoryOverlayEntries: number;
}

/**
 * Writes the synced directory of this sync beside the current one: a new generation (full sync, no
 * current one, or an overlay grown too large), else a new overlay holding the previous overlay and
 * these changes. Returns the pointer for the switch, what was created (to drop if the sync fails)
 * and, for a new generation, its view (handed to this node's readers).
 */
export async function writeSyncedDirectory(
  store: SyncedStore,
  tenantId: string,
  model: DirectoryModel,
  changes: SyncChanges | null,
  previous: Pick<SyncStateRecord, 'directoryGeneration' | 'directoryOverlay' | 'directoryOverlayEntries'> | null,
  created: (name: { generation?: string; overlay?: string }) => void,
  signal?: AbortSignal,
): Promise<{ pointer: ViewPointer; fresh: SyncedView | null }> {
  if (changes && previous?.directoryGeneration) {
    const changed = changedDirectory(tenantId, model, changes);
    const count = changed.users.length + changed.groups.length + changed.removedUserIds.length + changed.removedGroupIds.length;
    const limit = Math.max(MIN_OVERLAY_ENTRIES, (model.users.size + model.groups.size) * MAX_OVERLAY_SHARE);
    if ((previous.directoryOverlayEntries ?? 0) + count <= limit) {
      const before = previous.directoryOverlay ? await store.readOverlay(tenantId, previous.directoryOverlay) : { users: new Map(), groups: new Map() };
      const overlay = newGeneration();
      created({ overlay });
      const entries = await store.writeOverlay(tenantId, overlay, before, changed, signal);
      return { pointer: { directoryGeneration: previous.directoryGeneration, directoryOverlay: overlay, directoryOverlayEntries: entries }, fresh: null };
    }
  }
  const records = materializedDirectory(tenantId, model);
  const generation = newGeneration();
  created({ generation });
  await store.writeGeneration(tenantId, generation, records, signal);
  return { pointer: { directoryGeneration: generation, directoryOverlay: null, directoryOverlayEntries: 0 }, fresh: new SyncedView(records) };
}

function userRecord(tenantId: string, model: DirectoryModel, id: string): ViewUser | null {
  const u = model.users.get(id);
  if (!u) return null;
  return {
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
}

function groupRecord(tenantId: string, model: DirectoryModel, id: string): ViewGroup | null {
  const g = model.groups.get(id);
  if (!g?.props) return null; // only seen as someone's member, never returned itself
  return {
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
}

function collect<T>(ids: Iterable<string>, record: (id: string) => T | null, gone?: string[]): T[] {
  const out: T[] = [];
  for (const id of ids) {
    const r = record(id);
    if (r) out.push(r);
    else gone?.push(id);
  }
  return out;
}
