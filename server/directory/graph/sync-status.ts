/** A tenant's directory sync as the admin page and the API show it, from its sync state. */
import type { SyncStateRecord } from './model';

/** The sync state's counters as stored, its times as ISO strings (null before the first run). */
export type SyncStatus = Pick<SyncStateRecord, 'state' | 'mode' | 'phase' | 'pages' | 'groups' | 'users' | 'throttled' | 'error'> &
  Record<'startedAt' | 'finishedAt' | 'lastSuccessfulSync', string | null>;

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export function toSyncStatus(r: SyncStateRecord | null): SyncStatus {
  return {
    state: r?.state ?? 'idle',
    mode: r?.mode ?? null,
    phase: r?.phase ?? null,
    pages: r?.pages ?? 0,
    groups: r?.groups ?? 0,
    users: r?.users ?? 0,
    throttled: r?.throttled ?? 0,
    startedAt: iso(r?.startedAt),
    finishedAt: iso(r?.finishedAt),
    error: r?.error ?? null,
    lastSuccessfulSync: iso(r?.lastSuccessfulSync),
  };
}
