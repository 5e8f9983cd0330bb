/**
 * Hold and release: inbound mail to recipients a pausing event covers waits in the held collection
 * instead of the queue; when no pausing event covers it any more it is released into the queue, at
 * most releasePerSecond a second per tenant, with its progress recorded for the admin page.
 */
import type { Logger } from 'pino';
import { claimByInsert, insertIgnoringDuplicates } from '../db/claims';
import type { DeliveryWorker } from './delivery';
import type { MailLookups } from './lookups';
import type { DeliveryRecord, HeldRecord, MailModels } from './model';

export function createHoldRelease(deps: {
  models: MailModels;
  lookups: MailLookups;
  worker: DeliveryWorker;
  logger: Logger;
  now: () => Date;
  releasePerSecond: number;
}) {
  const { models, lookups, worker, logger, now, releasePerSecond } = deps;
  const releasing = new Map<string, Promise<void>>();

  async function upsert<T extends { _id: string }>(model: { replaceOne: (f: object, d: object, o: object) => PromiseLike<unknown> }, doc: T) {
    await model.replaceOne({ _id: doc._id }, doc, { upsert: true });
  }

  /**
   * Moves queued (not yet delivered) inbound rows of recipients covered by a pausing event to held.
   * Each row is taken under the same lease the workers use: a row a worker is delivering right now is
   * left to finish (if that attempt is deferred, the worker holds it before its next attempt).
   */
  async function holdTenant(tenantId: string): Promise<void> {
    const pausing = await lookups.pausingEvents(tenantId);
    if (!pausing.length) return;
    const rows = await models.queue.find({ tenantId, kind: 'inbound', releasedBy: null }, { _id: 1, recipientId: 1 }).lean();
    let held = 0;
    let busy = 0;
    for (const r of rows) {
      if (!r.recipientId) continue;
      const eventIds = await lookups.holdingEvents(tenantId, r.recipientId, pausing);
      if (!eventIds.length) continue;
      const moved = await worker.withLease(r._id, async () => {
        const row = await models.queue.findById(r._id).lean<DeliveryRecord>();
        if (!row) return false; // delivered meanwhile
        await moveToHeld(row, eventIds);
        return true;
      });
      if (moved === null) busy++;
      else if (moved) held++;
    }
    if (held || busy) logger.info({ tenant: tenantId, held, beingDelivered: busy }, 'queued mail held: a pausing event started');
  }

  /** Held row first, then the queue row removed: a crash in between leaves both, which the next pass heals. */
  async function moveToHeld(row: DeliveryRecord, eventIds: string[]): Promise<void> {
    const { nextAttemptAt: _n, attempts: _a, ...rest } = row;
    await claimByInsert(models.held, { ...rest, heldAt: now(), eventIds });
    await models.queue.deleteOne({ _id: row._id });
  }

  /** Moves held rows no longer covered by a pausing event into the queue, at most releasePerSecond a second. */
  async function releaseTenant(tenantId: string): Promise<void> {
    const rows = await models.held.find({ tenantId }).sort({ queuedAt: 1 }).lean<HeldRecord[]>();
    if (!rows.length) return;
    const pausing = await lookups.pausingEvents(tenantId);
    const free: HeldRecord[] = [];
    for (const row of rows) if (!row.recipientId || !(await lookups.holdingEvents(tenantId, row.recipientId, pausing)).length) free.push(row);
    if (!free.length) return;
    const progress = {
      _id: tenantId,
      state: 'running' as const,
      startedAt: now(),
      finishedAt: null,
      total: free.length,
      released: 0,
      stillHeld: rows.length - free.length,
    };
    await upsert(models.releases, progress);
    logger.info({ tenant: tenantId, toRelease: free.length, stillHeld: progress.stillHeld }, 'releasing held mail');
    for (let i = 0; i < free.length; i += releasePerSecond) {
      const windowStart = Date.now();
      const slice = free.slice(i, i + releasePerSecond);
      // In slices of ≤100 (FerretDB bulk limit): queue rows first, then the held rows removed.
      for (let j = 0; j < slice.length; j += 100) {
        const part = slice.slice(j, j + 100);
        await insertIgnoringDuplicates(
          models.queue,
          part.map(({ heldAt: _h, eventIds: _e, ...rest }) => ({ ...rest, nextAttemptAt: now(), attempts: [] }) as DeliveryRecord),
        );
        // Which events held them, kept for the post-incident report once the held rows are gone.
        await insertIgnoringDuplicates(
          models.releasedHeld,
          part.map((r) => ({ _id: r._id, tenantId: r.tenantId, eventIds: r.eventIds, heldAt: r.heldAt, releasedAt: now() })),
        );
        await models.held.deleteMany({ tenantId, _id: { $in: part.map((r) => r._id) } });
      }
      progress.released += slice.length;
      worker.wake();
      if (i + releasePerSecond < free.length) {
        await upsert(models.releases, progress);
        const wait = 1000 - (Date.now() - windowStart);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
    await upsert(models.releases, { ...progress, state: 'done', finishedAt: now() });
    logger.info({ tenant: tenantId, released: progress.released, stillHeld: progress.stillHeld }, 'held mail released');
  }

  return {
    /** Brings a tenant's queue and held rows in line with its current pausing events; one pass per tenant at a time. */
    reconcile(tenantId: string): Promise<void> {
      const previous = releasing.get(tenantId) ?? Promise.resolve();
      const p: Promise<void> = previous
        .then(() => holdTenant(tenantId))
        .then(() => releaseTenant(tenantId))
        .catch((err) => logger.error({ err, tenant: tenantId }, 'holding or releasing mail failed'))
        .finally(() => {
          if (releasing.get(tenantId) === p) releasing.delete(tenantId);
        });
      releasing.set(tenantId, p);
      return p;
    },
  };
}
