/**
 * The window loop: every tick, each enabled monitor's current window is started near its beginning by
 * the one process whose claim wins (an insert under `<monitor>:<windowStart>`, server/db/claims.ts), and
 * old windows, probes, log rows and alerts are swept hourly (no TTL indexes on FerretDB).
 */
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { claimByInsert } from '../db/claims';
import { windowMsOf, type MonitorContext } from './context';
import type { MonitorRecord } from './model';

const LOG_RETENTION_DAYS = 30;
/** A window is started only in its first quarter, so its checks get the whole window. */
const START_WITHIN = 0.25;

export function createWindowLoop(ctx: MonitorContext, deps: { runWindow: (monitorId: string, windowStart: Date) => Promise<unknown>; tickMs: number }) {
  const { models, logger, now } = ctx;
  const { runWindow, tickMs } = deps;
  const node = `${osHostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const running = new Map<string, Promise<unknown>>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = true;
  let ticking: Promise<void> | null = null;
  let lastSweep = 0;

  const claim = (m: MonitorRecord, start: number) =>
    claimByInsert(models.windows, {
      _id: `${m._id}:${start}`,
      tenantId: m.tenantId,
      monitorId: m._id,
      windowStart: new Date(start),
      claimedBy: node,
      claimedAt: now(),
    });

  /** Old windows, probes and log rows (no TTL indexes on FerretDB). */
  async function sweep(): Promise<void> {
    const t = now().getTime();
    await models.windows.deleteMany({ claimedAt: { $lt: new Date(t - 24 * 3600_000) } });
    await models.probes.deleteMany({ sentAt: { $lt: new Date(t - 24 * 3600_000) } });
    await models.log.deleteMany({ at: { $lt: new Date(t - LOG_RETENTION_DAYS * 24 * 3600_000) } });
    await models.alerts.deleteMany({ expiresAt: { $lt: new Date(t - 7 * 24 * 3600_000) } });
  }

  async function tick(): Promise<void> {
    const t = now().getTime();
    const list = await models.monitors.find({ enabled: true }).lean<MonitorRecord[]>();
    for (const m of list) {
      const w = windowMsOf(ctx, m);
      const start = Math.floor(t / w) * w;
      const key = `${m._id}:${start}`;
      if (t - start > w * START_WITHIN || running.has(key)) continue;
      if (m.state?.lastWindowStart && m.state.lastWindowStart.getTime() >= start) continue;
      if (!(await claim(m, start))) continue;
      const p = runWindow(m._id, new Date(start))
        .catch((err) => logger.error({ err, monitor: m._id }, 'monitor window failed'))
        .finally(() => running.delete(key));
      running.set(key, p);
    }
    if (t - lastSweep > 3600_000) {
      lastSweep = t;
      await sweep().catch((err) => logger.warn({ err }, 'monitor sweep failed'));
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      ticking = tick()
        .catch((err) => logger.warn({ err }, 'monitor loop tick failed'))
        .finally(() => {
          ticking = null;
          schedule();
        });
    }, tickMs);
    timer.unref?.();
  }

  return {
    tick,
    sweep,
    start(): void {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    /** Stops the loop and waits for the windows this process is running. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ticking;
      await Promise.all(running.values());
    },
  };
}
