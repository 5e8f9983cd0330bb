/**
 * Directory sync from Microsoft Graph: a full sync (`/users/delta` and `/groups/delta` with members,
 * pages of 999), then incremental syncs from the stored delta links. A full sync computes every
 * group's expansion into a new generation that becomes current only when the whole sync succeeded;
 * an incremental sync, once Graph has answered every delta page, writes only the affected expansions
 * (changed groups, groups holding changed users, and every group above them) into a small overlay
 * that becomes current the same way. The synced directory the rest of Lifeboat reads (users and
 * groups, ../synced-store.ts) is written beside the current one the same way, a new generation or an
 * overlay of what changed, and switched in the same single write.
 *
 * One sync per tenant at a time, also across server processes: a run first inserts a lease document
 * (unique _id = tenant id), renews it while it runs and deletes it at the end; a lease whose holder
 * died expires. Progress is written to the tenant's sync state as pages arrive.
 */
import { claimByInsert } from '../../db/claims';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { TenantService } from '../../tenants/service';
import { describeGraphError, type GraphApi, type GraphClientFactory, GraphRequestError } from './client';
import type { ConnectionService } from './connection';
import { overlayChainOf, type SyncLeaseModel, type SyncStateModel, type SyncStateRecord } from './model';
import { normaliseGroup, normaliseUser, type GraphEntry } from './normalise';
import { DirectoryModel, newGeneration, type SyncStore } from './store';
import type { SyncChanges } from './directory-model';
export type { SyncChanges } from './directory-model';
import type { SyncedStore } from '../synced-store';
import type { SyncedView } from '../synced-view';
import { writeSyncedDirectory } from './materialize';
import { pipeline } from './pipeline';

export const PAGE_SIZE = 999;
/** After this many incremental syncs the next one is a full sync (which also compacts the snapshot). */
const MAX_DELTA_SYNCS = 200;
/**
 * The overlays of rewritten expansions may hold this many groups together, or this share of all
 * groups, in at most MAX_OVERLAYS overlays; beyond, the expansions are written anew (every group:
 * seconds for 100,000 users). Each node holds them in memory (~25 MB for 1,500 groups of ~150 members).
 */
const MIN_OVERLAY_GROUPS = 1500;
const MAX_OVERLAY_SHARE = 0.2;
const MAX_OVERLAYS = 16;

const USER_SELECT = 'id,displayName,mail,userPrincipalName,proxyAddresses,mobilePhone,businessPhones,otherMails';
const GROUP_SELECT = 'id,displayName,mail,groupTypes,mailEnabled,securityEnabled,membershipRule,members';

import { toSyncStatus, type SyncStatus } from './sync-status';
export { toSyncStatus, type SyncStatus };

/** Graph says a delta link can no longer be used: start over with a full sync. */
const deltaExpired = (err: unknown) => err instanceof GraphRequestError && (err.status === 410 || /syncStateNotFound|resyncRequired/i.test(err.code ?? ''));

export interface SyncDeps {
  states: SyncStateModel;
  leases: SyncLeaseModel;
  store: SyncStore;
  connections: ConnectionService;
  graph: GraphClientFactory;
  tenants: TenantService;
  logger: Logger;
  leaseMs?: number;
  now?: () => Date;
  /**
   * Where the synced directory the rest of Lifeboat (events, push, sign-in, mail) reads is written
   * before the switch, and this node's readers, handed a new generation so they need not read it back.
   */
  synced: { store: SyncedStore; prime: (tenantId: string, generation: string, view: SyncedView) => void };
  /** Told after a successful sync's switch (the synced directory changed). */
  onSynced?: (tenantId: string) => Promise<void>;
}

export function createDirectorySync(deps: SyncDeps) {
  const { states, leases, store, connections, graph, tenants, logger, synced } = deps;
  const leaseMs = deps.leaseMs ?? 60_000;
  const now = deps.now ?? (() => new Date());
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  /**
   * Per tenant, the directory model of the last successful sync run here, so the next incremental
   * sync need not replay the stored snapshot. Used only while the sync state still names that sync
   * (another process's sync, or a failed one, makes it stale).
   */
  const models = new Map<string, { key: string; model: DirectoryModel }>();
  const modelKey = (generation: string, deltaChunks: number, at: Date | null | undefined) => `${generation}:${deltaChunks}:${at?.getTime() ?? ''}`;

  async function claimLease(tenantId: string, owner: string): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await claimByInsert(leases, { _id: tenantId, owner, expiresAt: new Date(now().getTime() + leaseMs) })) return true;
      const held = await leases.findById(tenantId).lean();
      if (held && held.expiresAt.getTime() > now().getTime()) return false;
      // The holder stopped renewing (it died): remove exactly that stale lease, then race to insert.
      if (held) await leases.deleteOne({ _id: tenantId, owner: held.owner, expiresAt: held.expiresAt });
    }
    return false;
  }

  const progressListeners: ((tenantId: string) => void)[] = [];
  const setState = async (tenantId: string, fields: Partial<SyncStateRecord>) => {
    await states.updateOne({ _id: tenantId }, { $set: fields }, { upsert: true });
    for (const listener of progressListeners) listener(tenantId);
  };

  async function collect(api: GraphApi, path: string, signal: AbortSignal, onPage: (value: GraphEntry[]) => Promise<void>): Promise<string | null> {
    let deltaLink: string | null = null;
    for await (const page of api.pages<GraphEntry>(path, { maxPageSize: PAGE_SIZE, signal })) {
      await onPage(page.value);
      deltaLink = page.deltaLink;
    }
    return deltaLink;
  }

  async function run(tenantId: string, options: { full?: boolean }, signal: AbortSignal): Promise<void> {
    const timings: Record<string, number> = {};
    let mark = performance.now();
    const lap = (name: string) => {
      const t = performance.now();
      timings[name] = Math.round(t - mark);
      mark = t;
    };
    const previous = await states.findById(tenantId).lean();
    const previousChain = overlayChainOf(previous);
    const incremental =
      !options.full && Boolean(previous?.generation && previous.usersDeltaLink && previous.groupsDeltaLink) && (previous?.deltaChunks ?? 0) < MAX_DELTA_SYNCS;
    const progress = { pages: 0, groups: 0, users: 0, throttled: 0 };
    await setState(tenantId, { mode: incremental ? 'incremental' : 'full', phase: 'signing in' });
    const report = (phase: string) => setState(tenantId, { phase, ...progress });

    const creds = await connections.credentials(tenantId);
    if (!creds) throw new GraphRequestError('the tenant is not connected to Entra ID', null, null);
    const api = graph.client(creds, { onThrottled: () => void progress.throttled++ });

    // Accepted domains: the verified ones become the tenant's domains. Asked while the directory is
    // fetched (one Graph round trip less before the switch), and awaited before anything is switched.
    const domainsDone = (async () => {
      const domains = await api.get<{ value: Array<{ id: string; isVerified: boolean }> }>('/domains');
      const verified = domains.value.filter((d) => d.isVerified).map((d) => d.id.toLowerCase());
      const tenant = await tenants.get(tenantId);
      if (verified.length) await tenants.upsert({ id: tenantId, name: tenant?.name ?? tenantId, domains: verified }, 'graph');
    })();
    domainsDone.catch(() => {}); // handled where it is awaited; a sync failing before then does not wait for it

    let model = new DirectoryModel();
    const changes: SyncChanges = { userIds: new Set(), groupIds: new Set() };
    lap('sign in');
    let expanded = 0;
    let sourceGeneration: string;
    let usersLink: string | null;
    let groupsLink: string | null;
    let createdSource: string | null = null;
    const expansionGeneration = newGeneration();
    let createdOverlay: string | null = null;
    const createdView: { generation?: string; overlay?: string } = {};
    let replacedBase: boolean;
    let view: Awaited<ReturnType<typeof writeSyncedDirectory>>;
    let viewWrite: Promise<unknown> | null = null;
    try {
      let seq = 0;
      const pageId = (prefix: string) => `${prefix}${String(++seq).padStart(7, '0')}`;
      const fetchAll = async (source: ReturnType<SyncStore['source']>, prefix: string, usersPath: string, groupsPath: string) => {
        const delta = prefix !== 'a';
        // Pages are stored while Graph prepares the next one (at most a few behind), in order.
        const writes = pipeline(4);
        await report('users');
        try {
          return await fetchBoth(source, prefix, usersPath, groupsPath, delta, writes);
        } finally {
          await writes.settled(); // nothing of this run is written after it failed and cleaned up
        }
      };
      const fetchBoth = async (
        source: ReturnType<SyncStore['source']>,
        prefix: string,
        usersPath: string,
        groupsPath: string,
        delta: boolean,
        writes: ReturnType<typeof pipeline>,
      ) => {
        const u = await collect(api, usersPath, signal, async (value) => {
          const users = value.map(normaliseUser);
          const id = pageId(prefix);
          await writes.push(() => source.append({ _id: id, kind: 'users', delta, users }));
          model.apply({ users });
          if (delta) for (const u of users) changes.userIds.add(u.id);
          progress.pages++;
          progress.users += users.length;
          await writes.push(() => report('users'));
        });
        await writes.push(() => report('groups')); // after the users pages' own reports
        const g = await collect(api, groupsPath, signal, async (value) => {
          const groups = value.map(normaliseGroup);
          const id = pageId(prefix);
          await writes.push(() => source.append({ _id: id, kind: 'groups', delta, groups }));
          model.apply({ groups });
          if (delta) for (const g of groups) changes.groupIds.add(g.id);
          progress.pages++;
          progress.groups += groups.filter((x) => x.props || x.removed).length;
          await writes.push(() => report('groups'));
        });
        await writes.drain();
        return { u, g };
      };

      const fullSync = async () => {
        sourceGeneration = newGeneration();
        createdSource = sourceGeneration;
        const links = await fetchAll(
          store.source(tenantId, sourceGeneration),
          'a',
          `/users/delta?$select=${USER_SELECT}`,
          `/groups/delta?$select=${GROUP_SELECT}`,
        );
        usersLink = links.u;
        groupsLink = links.g;
      };

      if (incremental) {
        sourceGeneration = previous!.generation!;
        await report('loading snapshot');
        const source = store.source(tenantId, sourceGeneration);
        // The model this process kept from the last successful sync, if it is that sync's; else replay the snapshot.
        const kept = models.get(tenantId);
        models.delete(tenantId);
        const reuse = kept?.key === modelKey(sourceGeneration, previous!.deltaChunks ?? 0, previous!.lastSuccessfulSync);
        if (reuse) model = kept!.model;
        else await source.load(model);
        lap(reuse ? 'load (kept in memory)' : 'load');
        try {
          // Delta pages sort after the snapshot's and after earlier deltas ("d<time>...").
          const links = await fetchAll(source, `d${Date.now().toString(36)}-`, previous!.usersDeltaLink!, previous!.groupsDeltaLink!);
          usersLink = links.u;
          groupsLink = links.g;
        } catch (err) {
          if (!deltaExpired(err)) throw err;
          logger.info({ tenant: tenantId }, 'directory sync: delta link expired; running a full sync');
          model.users.clear();
          model.groups.clear();
          await setState(tenantId, { mode: 'full' });
          await fullSync();
        }
      } else {
        await fullSync();
      }
      if (!usersLink! || !groupsLink!) throw new GraphRequestError('Graph ended a delta round without a delta link', null, null);
      await domainsDone;
      lap('fetch (and domains)');

      const wasFull = createdSource !== null;
      await report('expanding');
      // The synced directory the rest of Lifeboat reads (a new generation, or an overlay of what
      // changed) is written while the expansions are: the database works on one while this thread
      // computes the other.
      const writingView = writeSyncedDirectory(synced.store, tenantId, model, wasFull ? null : changes, previous, (c) => Object.assign(createdView, c), signal);
      viewWrite = writingView.catch(() => {}); // handled at once: a failure is thrown where it is awaited
      let overlay: { chain: string[]; groups: number } = { chain: [], groups: 0 };
      let rewritten = true; // a new base generation of every expansion (no overlay)
      if (!wasFull && previousChain.length < MAX_OVERLAYS) {
        // Only what the changes reach: changed groups, groups holding changed users, and all above
        // them, into a new small overlay after the previous ones (unless the overlays would grow
        // large: then a fresh base).
        const affected = model.affectedGroups(changes);
        const next = newGeneration();
        createdOverlay = next;
        const result = await store.writeOverlay(
          tenantId,
          previous!.expansionGeneration!,
          next,
          previousChain,
          model,
          { groupIds: affected, userIds: changes.userIds },
          Math.max(MIN_OVERLAY_GROUPS, model.groups.size * MAX_OVERLAY_SHARE),
          signal,
        );
        if (result) {
          overlay = { chain: [...previousChain, next], groups: result.overlaidGroups };
          expanded = result.written;
          rewritten = false;
        }
      }
      if (rewritten) expanded = (await store.writeExpansions(tenantId, expansionGeneration, model, signal)).groups;
      lap('expand');
      view = await writingView;
      lap('store directory (after the expansions)');
      const finished = now();
      // The switch: one single-document write makes the new expansions (and snapshot) current.
      await setState(tenantId, {
        state: 'succeeded',
        phase: null,
        ...progress,
        finishedAt: finished,
        error: null,
        generation: sourceGeneration!,
        expansionGeneration: rewritten ? expansionGeneration : previous!.expansionGeneration,
        overlayGeneration: overlay.chain.at(-1) ?? null,
        overlayChain: overlay.chain,
        overlayGroups: overlay.groups,
        ...view.pointer,
        usersDeltaLink: usersLink,
        groupsDeltaLink: groupsLink,
        deltaChunks: wasFull ? 0 : (previous?.deltaChunks ?? 0) + 1,
        lastSuccessfulSync: finished,
        ...(wasFull ? { lastFullSync: finished } : {}),
      } as Partial<SyncStateRecord>);
      replacedBase = rewritten;
      models.set(tenantId, { key: modelKey(sourceGeneration!, wasFull ? 0 : (previous?.deltaChunks ?? 0) + 1, finished), model });
    } catch (err) {
      // The previous generation stays current; what this run wrote is removed.
      models.delete(tenantId); // it may hold changes that did not become current
      await viewWrite; // ended before what it wrote is dropped
      const drops = [
        store.expansions(tenantId, expansionGeneration).drop,
        createdOverlay && store.overlay(tenantId, createdOverlay).drop,
        createdSource && store.source(tenantId, createdSource).drop,
        createdView.generation && (() => synced.store.dropGeneration(tenantId, createdView.generation!)),
        createdView.overlay && (() => synced.store.dropOverlay(tenantId, createdView.overlay!)),
      ];
      for (const drop of drops) if (drop) await drop().catch(() => {});
      throw err;
    }
    // The new generation is current: the old one is garbage (a failure here is only logged).
    const wasFull = createdSource !== null;
    const { pointer, fresh } = view!;
    if (fresh) synced.prime(tenantId, pointer.directoryGeneration, fresh);
    await deps.onSynced?.(tenantId).catch((err: Error) => logger.warn({ tenant: tenantId, error: err.message }, 'directory sync: a listener failed'));
    lap('switch');
    try {
      if (previous?.directoryOverlay && previous.directoryOverlay !== pointer.directoryOverlay)
        await synced.store.dropOverlay(tenantId, previous.directoryOverlay);
      if (previous?.directoryGeneration && previous.directoryGeneration !== pointer.directoryGeneration)
        await synced.store.dropGeneration(tenantId, previous.directoryGeneration);
      if (replacedBase) for (const id of previousChain) await store.overlay(tenantId, id).drop();
      if (replacedBase && previous?.expansionGeneration) await store.expansions(tenantId, previous.expansionGeneration).drop();
      if (wasFull && previous?.generation) await store.source(tenantId, previous.generation).drop();
    } catch (err) {
      logger.warn({ tenant: tenantId, error: (err as Error).message }, 'directory sync: could not drop the previous generation');
    }
    // What a sync that died (no catch ran) left behind: every collection of the tenant's no pointer names.
    try {
      const current = await states.findById(tenantId).lean();
      const keep = [current?.generation, current?.expansionGeneration, ...overlayChainOf(current), current?.directoryGeneration, current?.directoryOverlay];
      const swept = await synced.store.sweep(tenantId, new Set(keep.filter((g): g is string => Boolean(g))));
      if (swept.length) logger.info({ tenant: tenantId, collections: swept }, 'directory sync: dropped what an interrupted sync left');
    } catch (err) {
      logger.warn({ tenant: tenantId, error: (err as Error).message }, 'directory sync: could not sweep interrupted syncs');
    }
    lap('cleanup');
    logger.info({ tenant: tenantId, mode: wasFull ? 'full' : 'incremental', ...progress, expanded, ms: timings }, 'directory sync succeeded');
  }

  return {
    /** Starts a sync in the background unless one is running (here or in another process). */
    async start(tenantId: string, options: { full?: boolean } = {}): Promise<{ started: boolean; status: SyncStatus }> {
      const owner = randomUUID();
      if (running.has(tenantId) || !(await claimLease(tenantId, owner))) {
        return { started: false, status: await this.status(tenantId) };
      }
      await setState(tenantId, {
        state: 'running',
        mode: null,
        phase: 'starting',
        pages: 0,
        groups: 0,
        users: 0,
        throttled: 0,
        startedAt: now(),
        finishedAt: null,
        error: null,
      });
      const controller = new AbortController();
      const heartbeat = setInterval(
        () => {
          leases.updateOne({ _id: tenantId, owner }, { $set: { expiresAt: new Date(now().getTime() + leaseMs) } }).catch(() => {});
        },
        Math.max(1000, leaseMs / 3),
      );
      heartbeat.unref();
      const done = run(tenantId, options, controller.signal)
        .catch(async (err) => {
          const failure = controller.signal.aborted
            ? new GraphRequestError('stopped: the server shut down during the sync', null, null)
            : describeGraphError(err, 'directory sync');
          logger.warn({ tenant: tenantId, error: failure.message }, 'directory sync failed; the last successful expansion stays in use');
          await setState(tenantId, { state: 'failed', phase: null, finishedAt: now(), error: failure.message }).catch(() => {});
        })
        .finally(async () => {
          clearInterval(heartbeat);
          running.delete(tenantId);
          await leases.deleteOne({ _id: tenantId, owner }).catch(() => {});
        });
      running.set(tenantId, { controller, done });
      return { started: true, status: await this.status(tenantId) };
    },

    /** Told after every change of a tenant's sync state (progress pushed to its admins). */
    onProgress(listener: (tenantId: string) => void): void {
      progressListeners.push(listener);
    },

    async status(tenantId: string): Promise<SyncStatus> {
      return toSyncStatus(await states.findById(tenantId).lean());
    },

    async state(tenantId: string): Promise<SyncStateRecord | null> {
      return states.findById(tenantId).lean();
    },

    /** Resolves when the tenant's running sync (if any, in this process) has ended. */
    async settled(tenantId: string): Promise<void> {
      await running.get(tenantId)?.done;
    },

    /** Forgets the tenant's sync state (the connection was removed): the next connection starts with a full sync. */
    async reset(tenantId: string): Promise<void> {
      await running.get(tenantId)?.done;
      const state = await states.findById(tenantId).lean();
      models.delete(tenantId);
      for (const id of overlayChainOf(state)) await store.overlay(tenantId, id).drop();
      if (state?.expansionGeneration) await store.expansions(tenantId, state.expansionGeneration).drop();
      if (state?.generation) await store.source(tenantId, state.generation).drop();
      await states.deleteOne({ _id: tenantId });
      // The synced directory after the pointer: a reader never finds a pointer to a dropped generation for long.
      if (state?.directoryOverlay) await synced.store.dropOverlay(tenantId, state.directoryOverlay);
      if (state?.directoryGeneration) await synced.store.dropGeneration(tenantId, state.directoryGeneration);
    },

    /** Stops every running sync of this process and waits for them to end. */
    async stop(): Promise<void> {
      for (const r of running.values()) r.controller.abort();
      await Promise.all([...running.values()].map((r) => r.done));
    },
  };
}
export type DirectorySync = ReturnType<typeof createDirectorySync>;
