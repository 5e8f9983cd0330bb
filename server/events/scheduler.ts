/**
 * Fires each event's transitions (start, end) once, on time, across restarts and processes.
 *
 * Claims: a transition is fired by inserting its record under a unique key (`<event>:<kind>`);
 * the one process whose insert succeeds owns it (docs/ARCHITECTURE.md "Database rules": no racing
 * findOneAndUpdate). The event's startFiredAt/endFiredAt are then set from the record, idempotently.
 * The timer sleeps until the next due time, but never longer than the poll interval, so edits made
 * by another process are noticed too.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { claimedRecord } from '../db/claims';
import type { EventModel, EventRecord, TransitionKind, TransitionModel, TransitionRecord } from './model';
import { createSerialLoop } from '../loops/serial-loop';

export type TransitionListener = (transition: TransitionRecord, event: EventRecord) => Promise<void> | void;

export interface SchedulerOptions {
  events: EventModel;
  transitions: TransitionModel;
  logger: Logger;
  nodeId?: string;
  /** The longest the scheduler sleeps between looks at the database. */
  pollMs?: number;
  /** A fired transition not dispatched after this long is dispatched again (its firer crashed). */
  redispatchAfterMs?: number;
  now?: () => Date;
}

const BATCH = 200;

export function createScheduler(options: SchedulerOptions) {
  const { events, transitions, logger } = options;
  const nodeId = options.nodeId ?? randomUUID();
  const pollMs = options.pollMs ?? 1000;
  const redispatchAfterMs = options.redispatchAfterMs ?? 30_000;
  const now = options.now ?? (() => new Date());
  const listeners: TransitionListener[] = [];
  const log = logger.child({ component: 'scheduler', nodeId });

  // A wake during a tick (an edit that moved a transition) ticks again right after it.
  const loop = createSerialLoop(tick);

  async function dispatch(transition: TransitionRecord, event: EventRecord): Promise<void> {
    for (const listener of listeners) {
      try {
        await listener(transition, event);
      } catch (err) {
        log.error({ err, transition: transition.key }, 'a transition consumer failed');
      }
    }
    await transitions.updateOne({ _id: transition._id }, { $set: { dispatchedAt: now() } });
  }

  async function fire(event: EventRecord, kind: TransitionKind): Promise<boolean> {
    const scheduledAt = (kind === 'start' ? event.start : event.end)!;
    const firedAt = now();
    const cause = kind === 'end' && event.endedEarly ? 'endNow' : event.updatedAt >= scheduledAt ? 'edit' : 'schedule';
    let record = await claimedRecord<TransitionRecord>(transitions, {
      key: `${event._id.toHexString()}:${kind}`,
      tenantId: event.tenantId,
      eventId: event._id,
      kind,
      cause,
      scheduledAt,
      firedAt,
      firedBy: nodeId,
    });
    const owned = record !== null;
    record ??= await transitions.findOne({ key: `${event._id.toHexString()}:${kind}` }).lean<TransitionRecord>();
    if (!record) return false;
    await events.updateOne({ _id: event._id }, { $set: { [`${kind}FiredAt`]: record.firedAt } }, { timestamps: false });
    if (!owned) return false;
    log.info(
      { tenantId: event.tenantId, eventId: event._id.toHexString(), kind, cause, scheduledAt, lateMs: firedAt.getTime() - scheduledAt.getTime() },
      `continuity event ${kind} fired`,
    );
    await dispatch(record, { ...event, [`${kind}FiredAt`]: record.firedAt });
    return true;
  }

  /** Fires everything due, oldest first; a start always before its own end. */
  async function fireDue(): Promise<number> {
    const t = now();
    const [starts, ends] = await Promise.all([
      events
        .find({ startFiredAt: null, start: { $lte: t } })
        .sort({ start: 1 })
        .limit(BATCH)
        .lean<EventRecord[]>(),
      events
        .find({ startFiredAt: { $ne: null }, endFiredAt: null, end: { $ne: null, $lte: t } })
        .sort({ end: 1 })
        .limit(BATCH)
        .lean<EventRecord[]>(),
    ]);
    const due = [
      ...starts.map((event) => ({ event, kind: 'start' as const, at: event.start.getTime() })),
      ...ends.map((event) => ({ event, kind: 'end' as const, at: event.end!.getTime() })),
    ].sort((a, b) => a.at - b.at || (a.kind === b.kind ? 0 : a.kind === 'start' ? -1 : 1));
    for (const item of due) await fire(item.event, item.kind);
    return due.length;
  }

  async function redispatchStale(): Promise<void> {
    const stale = await transitions
      .find({ dispatchedAt: null, firedAt: { $lte: new Date(now().getTime() - redispatchAfterMs) } })
      .sort({ firedAt: 1 })
      .limit(BATCH)
      .lean<TransitionRecord[]>();
    for (const transition of stale) {
      const event = await events.findById(transition.eventId).lean<EventRecord>();
      log.warn({ transition: transition.key }, 'dispatching a transition whose firer did not finish');
      if (event) await dispatch(transition, event);
      else await transitions.updateOne({ _id: transition._id }, { $set: { dispatchedAt: now() } });
    }
  }

  interface Upcoming {
    id: EventRecord['_id'];
    kind: TransitionKind;
    at: number;
  }

  async function nextDue(): Promise<Upcoming | null> {
    const [start, end] = await Promise.all([
      events.findOne({ startFiredAt: null }, { start: 1 }).sort({ start: 1 }).lean<EventRecord>(),
      events
        .findOne({ startFiredAt: { $ne: null }, endFiredAt: null, end: { $ne: null } }, { end: 1 })
        .sort({ end: 1 })
        .lean<EventRecord>(),
    ]);
    const candidates: Upcoming[] = [];
    if (start) candidates.push({ id: start._id, kind: 'start', at: start.start.getTime() });
    if (end?.end) candidates.push({ id: end._id, kind: 'end', at: end.end.getTime() });
    return candidates.sort((a, b) => a.at - b.at)[0] ?? null;
  }

  /**
   * The transition the timer was set for fires first, checked by one read by _id (an index look-up on
   * FerretDB) rather than found by fireDue's two scans, whose cost grows with the number of events.
   * The read still sees an edit made meanwhile by another process (a moved start does not fire).
   */
  let upcoming: Upcoming | null = null;
  async function fireUpcoming(): Promise<void> {
    const target = upcoming;
    upcoming = null;
    if (!target || target.at > now().getTime()) return;
    const event = await events.findById(target.id).lean<EventRecord>();
    if (!event) return;
    const t = now().getTime();
    const due =
      target.kind === 'start'
        ? !event.startFiredAt && event.start.getTime() <= t
        : !!event.startFiredAt && !event.endFiredAt && !!event.end && event.end.getTime() <= t;
    if (due) await fire(event, target.kind);
  }

  /** One pass; resolves how long until the next. */
  async function tick(): Promise<number> {
    let delay = pollMs;
    try {
      await fireUpcoming();
      // Keep firing while anything was due: an event whose start and end both passed fires both, in order.
      for (let round = 0; round < 10 && loop.running && (await fireDue()) > 0; round++);
      await redispatchStale();
      const next = await nextDue();
      if (next !== null) {
        delay = Math.max(0, Math.min(pollMs, next.at - now().getTime()));
        if (next.at - now().getTime() <= pollMs) upcoming = next;
      }
    } catch (err) {
      log.error({ err }, 'scheduler tick failed; retrying');
    }
    return delay;
  }

  return {
    nodeId,
    /**
     * Told of every transition this process fired, before it is marked dispatched; a failure is logged.
     * In the server the one listener is the reaction bus (reactions/wiring.ts: who reacts, in which
     * order); tests add their own after it.
     */
    onTransition(listener: TransitionListener): void {
      listeners.push(listener);
    },
    /** Starts the loop; missed transitions fire at once, in order. */
    start: () => loop.start(),
    /** Looks again now (after a write that may have moved a transition). */
    wake: () => loop.wake(),
    stop: () => loop.stop(),
  };
}
export type Scheduler = ReturnType<typeof createScheduler>;
