/** The add-in client census: which Outlook each user runs, and whether it can take part in continuity. */
import { isDuplicateKey } from '../db/claims';
import type { UserIdentity } from '../user-auth/identity';
import { CLIENT_KINDS, type CachedMode, type ClientEvidence, type ClientKind, type ClientReportModel } from './model';

export interface ClientReport {
  kind: ClientKind;
  hostName?: string;
  platform?: string;
  accountType?: string;
  hostVersion?: string;
  cachedMode: CachedMode;
  evidence?: ClientEvidence[];
}

export type Readiness = 'ready' | 'unknown' | 'notCapable';

/**
 * Can this client work offline from Exchange through Lifeboat? Mac Outlook always caches; classic
 * Windows only in Cached Exchange Mode (which Office.js cannot see: the user or an admin confirms
 * it); new Outlook, the web and mobile cannot enter continuity mode.
 */
export function readinessOf(kind: ClientKind, cachedMode: CachedMode): Readiness {
  if (kind === 'mac') return 'ready';
  if (kind === 'classicWindows') return cachedMode === 'confirmed' ? 'ready' : cachedMode === 'notConfirmed' ? 'notCapable' : 'unknown';
  if (kind === 'unknown') return 'unknown';
  return 'notCapable';
}

export function createClientService(deps: { reports: ClientReportModel; now?: () => Date }) {
  const { reports } = deps;
  const now = deps.now ?? (() => new Date());

  return {
    async report(user: UserIdentity, report: ClientReport): Promise<void> {
      const doc = {
        tenantId: user.tenantId,
        userId: user.userId,
        kind: report.kind,
        hostName: report.hostName ?? '',
        platform: report.platform ?? '',
        accountType: report.accountType ?? '',
        hostVersion: report.hostVersion ?? '',
        cachedMode: report.cachedMode,
        evidence: report.evidence ?? [],
        reportedAt: now(),
      };
      // Two panes reporting at once may both try to insert; the unique index keeps one, the retry updates it.
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await reports.replaceOne({ tenantId: user.tenantId, userId: user.userId }, doc, { upsert: true });
          return;
        } catch (err) {
          if (!isDuplicateKey(err) || attempt === 1) throw err;
        }
      }
    },

    /** The census of a tenant, or of some of its users (an event's affected users). */
    async summary(tenantId: string, userIds?: string[]) {
      const rows = await reports.aggregate<{ _id: { kind: ClientKind; cachedMode: CachedMode }; n: number }>([
        { $match: userIds ? { tenantId, userId: { $in: userIds } } : { tenantId } },
        { $group: { _id: { kind: '$kind', cachedMode: '$cachedMode' }, n: { $sum: 1 } } },
      ]);
      const byKind = Object.fromEntries(CLIENT_KINDS.map((k) => [k, { total: 0, byCachedMode: {} as Record<string, number> }])) as Record<
        ClientKind,
        { total: number; byCachedMode: Record<string, number> }
      >;
      const readiness: Record<Readiness, number> = { ready: 0, unknown: 0, notCapable: 0 };
      let total = 0;
      for (const row of rows) {
        const { kind, cachedMode } = row._id;
        byKind[kind].total += row.n;
        byKind[kind].byCachedMode[cachedMode] = (byKind[kind].byCachedMode[cachedMode] ?? 0) + row.n;
        readiness[readinessOf(kind, cachedMode)] += row.n;
        total += row.n;
      }
      return { total, byKind, readiness };
    },
  };
}
export type ClientService = ReturnType<typeof createClientService>;
