/** A scan as admins see it: its state and live progress (mailboxes, messages, threats, throttling, time left). */
import type { MailboxRecord, ScanRecord, ThreatScanModels } from './model';

export interface ScanView {
  id: string;
  state: ScanRecord['state'];
  days: number;
  since: string;
  targets: ScanRecord['targets'];
  run: number;
  createdAt: string;
  createdBy: string | null;
  endedAt: string | null;
  finishedAt: string | null;
  progress: {
    mailboxesTotal: number;
    mailboxesDone: number;
    mailboxesSkipped: number;
    messagesScanned: number;
    threats: number;
    throttled: number;
    /** Seconds, from this run's pace; null until one mailbox is done or once the scan stopped. */
    etaSeconds: number | null;
  };
}

/** Per-verdict counts of a scan's judged messages ($group is one of the stages FerretDB v1 has). */
export async function verdictCounts(models: ThreatScanModels, scanId: string): Promise<Record<string, number>> {
  const rows = await models.messages.aggregate<{ _id: string | null; n: number }>([{ $match: { scanId } }, { $group: { _id: '$verdict', n: { $sum: 1 } } }]);
  const counts: Record<string, number> = {};
  for (const r of rows) if (r._id) counts[r._id] = r.n;
  return counts;
}

/**
 * While a scan runs, its counts come from the per-mailbox counters (a few small documents): counting the
 * verdict records on every push would read the whole message collection on FerretDB, several times a
 * second, making a long scan quadratic. Once it stopped, the verdict records themselves are counted.
 */
export async function scanView(models: ThreatScanModels, scan: ScanRecord, now: Date): Promise<ScanView> {
  const items = await models.mailboxes
    .find({ scanId: scan._id }, { state: 1, throttled: 1, scanned: 1, threats: 1 })
    .lean<Pick<MailboxRecord, 'state' | 'throttled' | 'scanned' | 'threats'>[]>();
  const live = scan.state === 'running';
  const counts = live ? null : await verdictCounts(models, scan._id);
  const sum = (key: 'scanned' | 'threats') => items.reduce((a, i) => a + (i[key] ?? 0), 0);
  const done = items.filter((i) => i.state === 'done').length;
  const skipped = items.filter((i) => i.state === 'skipped').length;
  const finishedShare = scan.mailboxesTotal ? (done + skipped) / scan.mailboxesTotal : 1;
  const elapsed = (now.getTime() - scan.runStartedAt.getTime()) / 1000;
  const eta = scan.state === 'running' && finishedShare > 0 && finishedShare < 1 ? Math.round((elapsed * (1 - finishedShare)) / finishedShare) : null;
  return {
    id: scan._id,
    state: scan.state,
    days: scan.days,
    since: scan.since.toISOString(),
    targets: scan.targets,
    run: scan.run,
    createdAt: scan.createdAt.toISOString(),
    createdBy: scan.createdBy.email,
    endedAt: scan.endedAt?.toISOString() ?? null,
    finishedAt: scan.finishedAt?.toISOString() ?? null,
    progress: {
      mailboxesTotal: scan.mailboxesTotal,
      mailboxesDone: done,
      mailboxesSkipped: skipped,
      messagesScanned: counts ? Object.values(counts).reduce((a, b) => a + b, 0) : sum('scanned'),
      threats: counts
        ? Object.entries(counts)
            .filter(([v]) => v !== 'clean' && v !== 'unscanned')
            .reduce((a, [, n]) => a + n, 0)
        : sum('threats'),
      throttled: items.reduce((a, i) => a + (i.throttled ?? 0), 0),
      etaSeconds: eta,
    },
  };
}
