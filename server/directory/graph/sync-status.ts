/** A tenant's directory sync as the admin page and the API show it, from its sync state. */
import type { SyncStateRecord } from './model';

export interface SyncStatus {
  state: SyncStateRecord['state'];
  mode: 'full' | 'incremental' | null;
  phase: string | null;
  pages: number;
  groups: number;
  users: number;
  throttled: number;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  lastSuccessfulSync: string | null;
}

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
