/** Each Outlook user's continuity status, derived from events and group membership. */
import { claimByInsert } from '../db/claims';
import type { DirectoryService } from '../directory/service';
import type { EventCoverage, EventRecord } from '../events/coverage';
import type { StatusEpochModel } from './model';

import type { ContinuityStatus } from './contract';

export type { ContinuityStatus } from './contract';

/** How long after an event ends its users still see "Service restored" with the end message. */
export const RESTORED_FOR_MS = 24 * 3600_000;

function statusOf(covering: EventRecord[], t: Date, epoch: { seq: number; at: Date }): ContinuityStatus {
  const current = covering.filter((e) => e.end === null || e.end > t);
  const shown = current.length ? current : covering.filter((e) => e.end !== null && e.end <= t).sort((a, b) => b.end!.getTime() - a.end!.getTime());
  return {
    seq: epoch.seq,
    active: current.length > 0,
    events: shown.map((e) => ({
      id: e._id.toHexString(),
      description: e.description,
      ...(current.length ? { startMessage: e.appNotifications?.startMessage ?? '' } : { endMessage: e.appNotifications?.endMessage ?? '' }),
      start: e.start.toISOString(),
      end: e.end ? e.end.toISOString() : null,
      timeZone: e.timeZone,
    })),
    at: epoch.at.toISOString(),
  };
}

/** What every user's status is computed from, for one seq of one tenant. */
interface Snapshot {
  seq: number;
  at: Date;
  relevant: EventRecord[];
  members: Map<string, Set<string>>;
  /** Per covered user, the indexes (in `relevant`) of the events covering them, joined: users with the same key share a status. */
  coverage: Map<string, string>;
  builtAt: number;
}

/**
 * How long a snapshot is reused. Changes made in this process replace it at once; changes made
 * by another process on the same database are seen within this time.
 */
export const SNAPSHOT_MAX_AGE_MS = 1000;

/** A snapshot prepared ahead of a scheduled transition is used only if it is at most this old when the transition fires. */
export const PREPARED_MAX_AGE_MS = 2000;

/** A tenant's statuses, read synchronously. Views with the same `coverage` group users the same way. */
export interface StatusView {
  /** The seq of these statuses and when it was recorded. */
  seq: number;
  recordedAt: Date;
  coverage: ReadonlyMap<string, string>;
  keyFor(userId: string): string;
  statusOfKey(key: string): ContinuityStatus;
}

export function createStatusService(deps: { events: EventCoverage; epochs: StatusEpochModel; directory: DirectoryService; now?: () => Date }) {
  const { events, epochs, directory } = deps;
  const now = deps.now ?? (() => new Date());
  const snapshots = new Map<string, Promise<Snapshot>>();
  /** Per tenant, the highest seq this process knows was recorded (by it, or read, or heard of from another node). */
  const lastSeq = new Map<string, number>();
  const knownUpTo = (tenantId: string, seq: number) => {
    if (seq > (lastSeq.get(tenantId) ?? 0)) lastSeq.set(tenantId, seq);
  };
  /**
   * Per tenant, a snapshot computed shortly before a scheduled transition, for the time it fires:
   * the expensive part of a push (reading events and expanding their groups) is then done before
   * the start, not after it. `basedOn` is the seq it was prepared at: it is used only by the very
   * next change of the tenant (nothing else changed in between) and only once its time has come.
   */
  const prepared = new Map<string, { at: Date; basedOn: number; snapshot: Promise<Snapshot> }>();

  /** Outlook events that started and are current, or ended recently enough to show "restored". */
  function relevantEvents(tenantId: string, t: Date) {
    return events.shownInOutlook(tenantId, t, RESTORED_FOR_MS);
  }

  async function epoch(tenantId: string): Promise<{ seq: number; at: Date }> {
    const latest = await epochs.findOne({ tenantId }).sort({ epoch: -1 }).lean();
    if (latest) knownUpTo(tenantId, latest.epoch);
    return latest ? { seq: latest.epoch, at: latest.at } : { seq: 0, at: new Date(0) };
  }

  async function build(tenantId: string, t: Date = now()): Promise<Snapshot> {
    const [current, relevant] = await Promise.all([epoch(tenantId), relevantEvents(tenantId, t)]);
    const members = new Map<string, Set<string>>();
    for (const e of relevant) {
      if (!members.has(e.affectedGroupId)) members.set(e.affectedGroupId, new Set(await directory.transitiveUserIds(tenantId, e.affectedGroupId)));
    }
    const coverage = new Map<string, string>();
    relevant.forEach((e, index) => {
      for (const userId of members.get(e.affectedGroupId)!) {
        const key = coverage.get(userId);
        coverage.set(userId, key === undefined ? String(index) : `${key},${index}`);
      }
    });
    return { seq: current.seq, at: current.at, relevant, members, coverage, builtAt: Date.now() };
  }

  /**
   * The change `seq` (recorded at `at`) was the one a prepared snapshot waited for (nothing else changed
   * since it was prepared, and its time has come): it becomes the tenant's snapshot. On the node that
   * recorded the change and on every other node told of it (../push/socket.ts).
   */
  async function adoptPrepared(tenantId: string, seq: number, at: Date): Promise<boolean> {
    const ready = prepared.get(tenantId);
    if (!ready) return false;
    prepared.delete(tenantId);
    const fresh = ready.basedOn === seq - 1 && ready.at.getTime() <= at.getTime() ? await ready.snapshot.catch(() => null) : null;
    if (!fresh || Date.now() - fresh.builtAt > PREPARED_MAX_AGE_MS) return false;
    snapshots.set(tenantId, Promise.resolve({ ...fresh, seq, at, builtAt: Date.now() }));
    return true;
  }

  /** The tenant's snapshot: every relevant event's members expanded once, shared by all its users. */
  async function snapshot(tenantId: string): Promise<Snapshot> {
    const cached = snapshots.get(tenantId);
    if (cached) {
      const snap = await cached.catch(() => null);
      if (snap && Date.now() - snap.builtAt < SNAPSHOT_MAX_AGE_MS) return snap;
    }
    const fresh = build(tenantId);
    snapshots.set(tenantId, fresh);
    return fresh;
  }

  /** A user's status; users covered by the same events share one status object (`cache`). */
  function statusFrom(snap: Snapshot, userId: string, cache = new Map<string, ContinuityStatus>()): ContinuityStatus {
    return statusOfKey(snap, snap.coverage.get(userId) ?? '', cache);
  }

  /** The status shared by every user whose covering events are `key` (see Snapshot.coverage). */
  function statusOfKey(snap: Snapshot, key: string, cache: Map<string, ContinuityStatus>): ContinuityStatus {
    let status = cache.get(key);
    if (!status) {
      const covering = key === '' ? [] : key.split(',').map((i) => snap.relevant[Number(i)]);
      status = statusOf(covering, now(), { seq: snap.seq, at: snap.at });
      cache.set(key, status);
    }
    return status;
  }

  function viewOf(snap: Snapshot): StatusView {
    const cache = new Map<string, ContinuityStatus>();
    return {
      seq: snap.seq,
      recordedAt: snap.at,
      coverage: snap.coverage,
      keyFor: (userId) => snap.coverage.get(userId) ?? '',
      statusOfKey: (key) => statusOfKey(snap, key, cache),
    };
  }

  return {
    epoch,

    /** Records a change of the tenant's state and returns its new seq. */
    async bump(tenantId: string, reason: string): Promise<number> {
      for (let attempt = 0; attempt < 50; attempt++) {
        // The latest seq this process knows of is tried first (no read): recorded here, read when a
        // transition was prepared (so at a scheduled start any node's first insert is usually right,
        // one round trip before the first emit), or heard of from another node. A duplicate means
        // another process moved on: read the latest and try again. The unique index keeps seqs unique.
        const known = attempt === 0 ? lastSeq.get(tenantId) : undefined;
        const next = (known ?? (await epoch(tenantId)).seq) + 1;
        const at = now();
        if (await claimByInsert(epochs, { tenantId, epoch: next, reason, at })) {
          lastSeq.set(tenantId, next);
          if (!(await adoptPrepared(tenantId, next, at))) snapshots.delete(tenantId);
          return next;
        }
      }
      throw new Error('could not record a status change (too much contention)');
    },

    /**
     * Computes, now, the tenant's snapshot for a transition due at `at` (called shortly before it);
     * the next change recorded at or after `at` uses it if nothing else changed since.
     */
    async prepare(tenantId: string, at: Date): Promise<void> {
      const basedOn = (await epoch(tenantId)).seq;
      const snapshot = build(tenantId, at);
      prepared.set(tenantId, { at, basedOn, snapshot });
      await snapshot;
    },

    /** The tenant's events or directory changed (here or on another node): nothing cached for it is used again. */
    forget(tenantId: string): void {
      prepared.delete(tenantId);
      snapshots.delete(tenantId);
    },

    /**
     * The tenant's statuses at `seq` or later: another node recorded `seq` and asked this one to push
     * it to its own sockets, so a snapshot cached here before that is not used.
     */
    async viewAtLeast(tenantId: string, seq: number, at?: Date): Promise<StatusView> {
      knownUpTo(tenantId, seq);
      // Another node recorded `seq` at `at`: a snapshot prepared here for that transition is used as is.
      if (at && (await adoptPrepared(tenantId, seq, at))) return viewOf(await snapshot(tenantId));
      const snap = await snapshot(tenantId);
      if (snap.seq >= seq) return viewOf(snap);
      snapshots.delete(tenantId);
      return viewOf(await snapshot(tenantId));
    },

    /** Something a prepared snapshot was computed from changed (an event, the directory): forget it. */
    forgetPrepared(tenantId: string): void {
      prepared.delete(tenantId);
    },

    async forUser(tenantId: string, userId: string): Promise<ContinuityStatus> {
      return statusFrom(await snapshot(tenantId), userId);
    },

    /**
     * The tenant's statuses, ready to read synchronously (so a caller can pick its sockets and
     * compute their statuses with no await in between). Users covered by the same events get the
     * same status object.
     */
    async view(tenantId: string): Promise<StatusView> {
      return viewOf(await snapshot(tenantId));
    },

    /** The view a prepared transition will use (see prepare), or null: lets a caller get ready for it. */
    async preparedView(tenantId: string): Promise<StatusView | null> {
      const snap = await prepared.get(tenantId)?.snapshot.catch(() => null);
      return snap ? viewOf(snap) : null;
    },
  };
}
export type StatusService = ReturnType<typeof createStatusService>;
