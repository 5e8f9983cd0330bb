/**
 * Runs each connected tenant's directory sync on its interval (default every 15 minutes). Every
 * process may run a scheduler: the sync lease lets only one of them sync a tenant at a time.
 */
import type { Logger } from 'pino';
import type { ConnectionService } from './connection';
import type { DirectorySync } from './sync';

export function createSyncScheduler(deps: { connections: ConnectionService; sync: DirectorySync; logger: Logger; checkEveryMs?: number; now?: () => Date }) {
  const { connections, sync, logger } = deps;
  const now = deps.now ?? (() => new Date());
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> | null = null;

  async function tick(): Promise<string[]> {
    const started: string[] = [];
    for (const { tenantId, syncIntervalMinutes } of await connections.listConnected()) {
      const state = await sync.state(tenantId);
      const last = state?.startedAt?.getTime() ?? 0;
      if (now().getTime() - last < syncIntervalMinutes * 60_000) continue; // a sync still running holds the lease
      if ((await sync.start(tenantId)).started) started.push(tenantId);
    }
    return started;
  }

  return {
    /** One pass: starts the sync of every tenant whose interval has passed since its last start. */
    tick,
    start(): void {
      if (timer) return;
      timer = setInterval(() => {
        if (ticking) return;
        ticking = tick()
          .then(() => undefined)
          .catch((err) => logger.warn({ err }, 'directory sync scheduler pass failed'))
          .finally(() => (ticking = null));
      }, deps.checkEveryMs ?? 30_000);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      await ticking;
      await sync.stop();
    },
  };
}
export type SyncScheduler = ReturnType<typeof createSyncScheduler>;
