import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { AdminIdentity } from '../../server/auth/identity';
import { openConnection } from '../../server/db/connection';
import { eventModel, transitionModel, type TransitionRecord } from '../../server/events/model';
import { createServices, syncIndexes } from '../../server/services';
import { tenantDirectory, testDatabaseUri, testServiceOptions, useLifeboat } from '../harness/context';
import { waitFor } from '../harness/server-process';

const planner: AdminIdentity = { tenantId: 'alpha', adminId: 'a1', email: 'planner@alpha.test', displayName: 'Planner', role: 'fullAdministrator' };
const context = { ip: null, requestId: null };
const iso = (ms: number) => new Date(ms).toISOString();
const event = (start: number, end: number | null, extra: Record<string, unknown> = {}) => ({
  description: 'Outage',
  affectedGroupId: 'alpha-g1',
  timeZone: 'UTC',
  start: iso(start),
  end: end === null ? null : iso(end),
  ...extra,
});

describe('the scheduler', () => {
  const ctx = useLifeboat();

  it('fires start and end at their times with its precise timer (the poll alone would take a minute)', async () => {
    const quiet = createServices(ctx.conn, testServiceOptions({ schedulerPollMs: 60_000 }));
    const seen: string[] = [];
    quiet.scheduler.onTransition((t) => void seen.push(t.kind));
    quiet.scheduler.start();
    try {
      const now = Date.now();
      // Created through the scheduler-aware service, so the write wakes the timer.
      const created = await createServices(ctx.conn, testServiceOptions()).events.create(planner, event(now + 1500, now + 3000), context);
      quiet.scheduler.wake();
      await waitFor(() => seen.length === 2, 20_000, 'start and end');
      expect(seen).toEqual(['start', 'end']);
      const fired = await quiet.events.transitionsOf('alpha', created.id);
      expect(fired.map((t) => [t.kind, t.cause])).toEqual([
        ['start', 'schedule'],
        ['end', 'schedule'],
      ]);
      for (const t of fired) expect(t.lateMs).toBeGreaterThanOrEqual(0); // never early
      const after = await quiet.events.get('alpha', created.id);
      expect(after).toMatchObject({ status: 'expired', startedAt: fired[0].firedAt, endedAt: fired[1].firedAt });
    } finally {
      await quiet.scheduler.stop();
    }
  });

  it('does not fire a start its timer was set for when another process moved it later meanwhile', async () => {
    const watching = createServices(ctx.conn, testServiceOptions());
    const seen: { kind: string; at: number }[] = [];
    const now = Date.now();
    const created = await ctx.services.events.create(planner, event(now + 1500, null), context);
    watching.scheduler.onTransition((t) => {
      if (t.eventId.toHexString() === created.id) seen.push({ kind: t.kind, at: Date.now() });
    });
    watching.scheduler.start();
    try {
      // This scheduler's timer is set for now + 1.5 s. Another process (a direct write: nothing here
      // is told) moves the start 2.5 s later before that.
      await new Promise((r) => setTimeout(r, 700));
      await eventModel(ctx.conn).collection.updateOne({ _id: new Types.ObjectId(created.id) }, { $set: { start: new Date(now + 4000) } });
      await waitFor(() => seen.length === 1, 15_000, 'the moved start');
      expect(seen[0]!.kind).toBe('start');
      expect(seen[0]!.at).toBeGreaterThanOrEqual(now + 4000);
    } finally {
      await watching.scheduler.stop();
    }
  });

  it('fires a start at once when an edit makes a pending event current, and End Now ends it at once', async () => {
    const seen: TransitionRecord[] = [];
    ctx.services.scheduler.onTransition((t) => void seen.push(t));
    ctx.services.scheduler.start();
    const now = Date.now();
    const created = await ctx.services.events.create(planner, event(now + 3600_000, null), context);
    await ctx.services.events.update(planner, created.id, { start: iso(now - 60_000) }, context);
    await waitFor(() => seen.some((t) => t.eventId.toHexString() === created.id), 10_000, 'the start');
    await ctx.services.events.endNow(planner, created.id, context);
    await waitFor(() => seen.filter((t) => t.eventId.toHexString() === created.id).length === 2, 10_000, 'the end');
    const fired = await ctx.services.events.transitionsOf('alpha', created.id);
    expect(fired.map((t) => [t.kind, t.cause])).toEqual([
      ['start', 'edit'],
      ['end', 'endNow'],
    ]);
    await ctx.services.scheduler.stop();
  });

  it('fires the start at once when Start now makes a pending event current', async () => {
    const seen: TransitionRecord[] = [];
    ctx.services.scheduler.onTransition((t) => void seen.push(t));
    ctx.services.scheduler.start();
    try {
      const created = await ctx.services.events.create(planner, event(Date.now() + 3600_000, null), context);
      await ctx.services.events.startNow(planner, created.id, context);
      await waitFor(() => seen.some((t) => t.eventId.toHexString() === created.id), 10_000, 'the start');
      expect((await ctx.services.events.transitionsOf('alpha', created.id)).map((t) => t.kind)).toEqual(['start']);
    } finally {
      await ctx.services.scheduler.stop();
    }
  });

  it('fires missed transitions once, in order, when it starts', async () => {
    const now = Date.now();
    const events = eventModel(ctx.conn);
    // Written while no scheduler ran: both transitions of the first and the start of the second are overdue.
    const base = {
      tenantId: 'alpha',
      description: 'Missed',
      affectedGroupId: 'alpha-g1',
      timeZone: 'UTC',
      createdAt: new Date(now - 3 * 3600_000),
      updatedAt: new Date(now - 3 * 3600_000),
    };
    const first = await events.create({ ...base, start: new Date(now - 2 * 3600_000), end: new Date(now - 3600_000) });
    const second = await events.create({ ...base, start: new Date(now - 90 * 60_000), end: null });
    await events.collection.updateMany({ _id: { $in: [first._id, second._id] } }, { $set: { updatedAt: base.updatedAt } });

    const order: string[] = [];
    const services = createServices(ctx.conn, testServiceOptions());
    services.scheduler.onTransition((t) => {
      if ([first.id, second.id].includes(t.eventId.toHexString())) order.push(`${t.eventId.toHexString() === first.id ? 'first' : 'second'}:${t.kind}`);
    });
    services.scheduler.start();
    await waitFor(() => order.length === 3, 10_000, 'three missed transitions');
    await services.scheduler.stop();
    expect(order).toEqual(['first:start', 'second:start', 'first:end']);
    const causes = await transitionModel(ctx.conn)
      .find({ eventId: { $in: [first._id, second._id] } })
      .lean();
    expect(causes.every((t) => t.cause === 'schedule')).toBe(true);
  });
});

describe('two schedulers on one database', () => {
  it('fire each transition exactly once between them', async () => {
    const dbName = `t_${randomBytes(6).toString('hex')}`;
    const connA = await openConnection(testDatabaseUri(), dbName);
    const connB = await openConnection(testDatabaseUri(), dbName);
    const a = createServices(connA, testServiceOptions({ schedulerPollMs: 100 }));
    const b = createServices(connB, testServiceOptions({ schedulerPollMs: 100 }));
    try {
      await syncIndexes(connA);
      await a.directory.importDirectory(tenantDirectory('alpha'));
      const dispatched = { a: 0, b: 0 };
      a.scheduler.onTransition(() => void dispatched.a++);
      b.scheduler.onTransition(() => void dispatched.b++);
      a.scheduler.start();
      b.scheduler.start();
      const count = 12;
      for (let i = 0; i < count; i++) {
        // Some already due, some due in a moment, each ending shortly after it starts. Times are taken per
        // event: on a loaded machine the loop itself can take longer than the 1.5 s an event lasts.
        const now = Date.now();
        await (i % 2 ? a : b).events.create(planner, event(now - 1000 + i * 150, now + 1500 + i * 150), context);
      }
      await waitFor(() => dispatched.a + dispatched.b >= 2 * count, 20_000, 'every transition');
      await new Promise((r) => setTimeout(r, 500)); // would a duplicate still arrive?
      expect(dispatched.a + dispatched.b).toBe(2 * count);
      expect(await transitionModel(connA).countDocuments()).toBe(2 * count);
      const perEvent = await transitionModel(connA).aggregate([{ $group: { _id: '$eventId', n: { $sum: 1 } } }]);
      expect(perEvent).toHaveLength(count);
      expect(perEvent.every((g) => g.n === 2)).toBe(true);
    } finally {
      await a.scheduler.stop();
      await b.scheduler.stop();
      await connA.dropDatabase();
      await connA.close();
      await connB.close();
    }
  });
});
