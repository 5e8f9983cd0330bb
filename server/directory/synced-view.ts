/**
 * A connected tenant's synced directory as readers see it: the current generation (./synced-store.ts)
 * in memory, with the look-ups the directory service answers from it. The generation's pointer is
 * read on every call (one `_id` look-up of the sync state), so a switch made by any node is seen at
 * the next read here; the generation is loaded only when the pointer changed, and an overlay on an
 * already loaded generation costs only the overlay's read.
 */
import type { SyncStateModel } from './graph/model';
import { GenerationGone, type OverlayEntries, type SyncedStore, type ViewGroup, type ViewRecords, type ViewUser } from './synced-store';

/** One generation (with its overlay applied), with the indexes readers need built on first use. */
export class SyncedView {
  readonly users = new Map<string, ViewUser>();
  readonly groups = new Map<string, ViewGroup>();
  private addressIndex: Map<string, ViewUser> | null = null;
  private groupAddressIndex: Map<string, ViewGroup> | null = null;

  constructor(base: ViewRecords | SyncedView, overlay?: OverlayEntries) {
    if (base instanceof SyncedView) {
      for (const [id, u] of base.users) this.users.set(id, u);
      for (const [id, g] of base.groups) this.groups.set(id, g);
    } else {
      for (const u of base.users) this.users.set(u.id, u);
      for (const g of base.groups) this.groups.set(g.id, g);
    }
    // A changed entry keeps its place (as a replaced document did); a new one goes last.
    for (const [id, u] of overlay?.users ?? []) {
      if (u) this.users.set(id, u);
      else this.users.delete(id);
    }
    for (const [id, g] of overlay?.groups ?? []) {
      if (g) this.groups.set(id, g);
      else this.groups.delete(id);
    }
  }

  /**
   * The first user (in stored order) whose mail, one of whose addresses, or whose UPN (any case) is
   * the address — what `findOne({$or: [mail, addresses, userPrincipalName]})` answered.
   */
  userByAddress(address: string): ViewUser | null {
    this.addressIndex ??= firstByKey(this.users.values(), (u) => [u.mail, ...u.addresses, u.userPrincipalName?.toLowerCase()]);
    return this.addressIndex.get(address.toLowerCase()) ?? null;
  }

  /** The first group (in stored order) that receives mail at the address (any case). */
  groupByAddress(address: string): ViewGroup | null {
    this.groupAddressIndex ??= firstByKey(this.groups.values(), (g) => [g.mail?.toLowerCase()]);
    return this.groupAddressIndex.get(address.toLowerCase()) ?? null;
  }
}

/** Each key's first item, in the items' order (built once per view, on its first look-up). */
function firstByKey<T>(items: Iterable<T>, keysOf: (item: T) => Array<string | null | undefined>): Map<string, T> {
  const index = new Map<string, T>();
  for (const item of items) for (const key of keysOf(item)) if (key && !index.has(key)) index.set(key, item);
  return index;
}

/** Stored order, sorted by display name (stable, as the database's sort of the stored documents). */
export function searchIn<T extends { displayName: string; mail: string | null }>(entries: Iterable<T>, text: string | undefined, limit: number): T[] {
  const trimmed = text?.trim();
  const needle = trimmed ? trimmed.toLowerCase() : null;
  const found: T[] = [];
  for (const e of entries) {
    if (needle === null || e.displayName.toLowerCase().includes(needle) || (e.mail != null && e.mail.toLowerCase().includes(needle))) found.push(e);
  }
  found.sort((a, b) => (a.displayName < b.displayName ? -1 : a.displayName > b.displayName ? 1 : 0));
  return found.slice(0, limit);
}

export function createSyncedViews(deps: {
  states: SyncStateModel;
  store: SyncedStore;
  /**
   * The directory rebuilt from a sync's stored Graph pages: for a tenant last synced before the synced
   * directory had generations (its sync state names none yet), until its next sync writes one.
   */
  fromSnapshot?: (tenantId: string, generation: string) => Promise<ViewRecords>;
}) {
  const { states, store } = deps;
  /** Per tenant, the loaded generation (without overlay) and the current view (with it). */
  const cache = new Map<string, { generation: string; base: Promise<SyncedView>; overlay: string | null; view: Promise<SyncedView> }>();

  async function load(tenantId: string, generation: string, overlay: string | null): Promise<SyncedView> {
    const hit = cache.get(tenantId);
    if (hit && hit.generation === generation && hit.overlay === overlay) return hit.view;
    const base = hit?.generation === generation ? hit.base : store.readGeneration(tenantId, generation).then((r) => new SyncedView(r));
    const view = overlay ? Promise.all([base, store.readOverlay(tenantId, overlay)]).then(([b, o]) => new SyncedView(b, o)) : base;
    const entry = { generation, base, overlay, view };
    cache.set(tenantId, entry);
    // A failed load is not kept: the next read tries again.
    view.catch(() => {
      if (cache.get(tenantId) === entry) cache.delete(tenantId);
    });
    return view;
  }

  return {
    /** The tenant's current synced directory; null when no sync has stored one yet. */
    async current(tenantId: string): Promise<SyncedView | null> {
      for (let attempt = 0; ; attempt++) {
        const state = await states.findById(tenantId, { directoryGeneration: 1, directoryOverlay: 1, generation: 1, deltaChunks: 1 }).lean();
        if (!state?.directoryGeneration && state?.generation && deps.fromSnapshot) {
          const key = `snapshot:${state.generation}:${state.deltaChunks ?? 0}`;
          const hit = cache.get(tenantId);
          if (hit?.generation === key) return hit.view;
          const view = deps.fromSnapshot(tenantId, state.generation).then((r) => new SyncedView(r));
          const entry = { generation: key, base: view, overlay: null, view };
          cache.set(tenantId, entry);
          view.catch(() => cache.get(tenantId) === entry && cache.delete(tenantId));
          return view;
        }
        if (!state?.directoryGeneration) {
          cache.delete(tenantId);
          return null;
        }
        try {
          return await load(tenantId, state.directoryGeneration, state.directoryOverlay ?? null);
        } catch (err) {
          // The generation was switched and dropped while it was read: read the new pointer.
          if (!(err instanceof GenerationGone) || attempt >= 3) throw err;
        }
      }
    },

    /** Hands a generation just written by this node's sync over, so this node need not read it back. */
    prime(tenantId: string, generation: string, view: SyncedView): void {
      const ready = Promise.resolve(view);
      cache.set(tenantId, { generation, base: ready, overlay: null, view: ready });
    },

    forget(tenantId: string): void {
      cache.delete(tenantId);
    },
  };
}
export type SyncedViews = ReturnType<typeof createSyncedViews>;
