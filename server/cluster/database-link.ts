/**
 * Cross-node cache drops WITHOUT Redis: several nodes on one database (MONGODB_URI, no REDIS_URL) tell
 * each other through it. Each node numbers its own changes (reactions with `everyNode` listeners, as
 * ../reactions/bus.ts publishes them) and inserts each one under `<node>:<seq>`, then writes its head
 * (`{_id: node, seq}`); every node reads the heads every `checkMs` and fetches by `_id` the changes of the
 * others it has not seen, which the bus replays into its `everyNode` listeners. So a change on one node
 * is in force on every other within `checkMs` (plus one database round trip); nothing is lost while the
 * database answers, unlike pub/sub.
 *
 * FerretDB v1 shapes it: each node is the only writer of its head (no read-modify-write race), the
 * heads are one small document per live node (the poll reads a handful), changes are inserted and read
 * by exact `_id` only, and the sweep that removes changes and heads older than a day is one scan an hour.
 */
import { Schema, type Connection } from 'mongoose';
import type { Logger } from 'pino';
import { defineModel } from '../db/connection';
import type { ClusterLink, ClusterMessage } from '../reactions/bus';

interface HeadRecord {
  /** The node (a fresh id per process start). */
  _id: string;
  /** Its last change's number. */
  seq: number;
  at: Date;
}
interface ChangeRecord {
  /** `<node>:<seq>` */
  _id: string;
  reaction: string;
  tenantId: string;
  userId?: string;
  at: Date;
}

const headSchema = new Schema<HeadRecord>(
  { _id: { type: String, required: true }, seq: { type: Number, required: true }, at: { type: Date, required: true } },
  { versionKey: false, collection: 'node_heads' },
);
const changeSchema = new Schema<ChangeRecord>(
  {
    _id: { type: String, required: true },
    reaction: { type: String, required: true },
    tenantId: { type: String, required: true },
    userId: { type: String },
    at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'node_changes' },
);

export const nodeChangeModels = (conn: Connection) => ({
  heads: defineModel(conn, 'NodeHead', headSchema),
  changes: defineModel(conn, 'NodeChange', changeSchema),
});

/** Changes and heads older than this are swept (every live node has read them long before). */
const KEEP_MS = 24 * 3600 * 1000;
const SWEEP_EVERY_MS = 3600 * 1000;
/** A node first seen mid-run: at most its last this-many changes are replayed (older ones were swept or are moot). */
const MAX_CATCH_UP = 1000;

export function createDatabaseLink(deps: { conn: Connection; nodeId: string; checkMs: number; logger: Logger; now?: () => Date }) {
  const { nodeId, checkMs } = deps;
  const now = deps.now ?? (() => new Date());
  const log = deps.logger.child({ component: 'cluster' });
  const { heads, changes } = nodeChangeModels(deps.conn);
  const handlers: ((message: ClusterMessage) => void)[] = [];
  /** Per other node, the last change replayed here. */
  const seen = new Map<string, number>();
  let seq = 0;
  let writes: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let checking: Promise<void> | null = null;
  let firstCheck = true;
  let sweptAt = 0;
  let stopped = false;

  async function write(message: Omit<ClusterMessage, 'origin'>, n: number): Promise<void> {
    await changes.create({ _id: `${nodeId}:${n}`, reaction: message.reaction, tenantId: message.tenantId, userId: message.userId, at: now() });
    // Writes are chained: the head never names a change not yet stored.
    await heads.replaceOne({ _id: nodeId }, { _id: nodeId, seq: n, at: now() }, { upsert: true });
  }

  async function check(): Promise<void> {
    const found = await heads.find({}).lean<HeadRecord[]>();
    for (const head of found) {
      if (head._id === nodeId) continue;
      // Changes made before this node's first look are older than its caches: nothing to drop.
      const from = seen.get(head._id) ?? (firstCheck ? head.seq : Math.max(0, head.seq - MAX_CATCH_UP));
      for (let n = from + 1; n <= head.seq; n++) {
        const change = await changes.findById(`${head._id}:${n}`).lean<ChangeRecord>();
        if (!change) continue; // swept
        const message: ClusterMessage = { origin: head._id, reaction: change.reaction as ClusterMessage['reaction'], tenantId: change.tenantId };
        if (change.userId) message.userId = change.userId;
        for (const handler of handlers) handler(message);
      }
      seen.set(head._id, Math.max(from, head.seq));
    }
    firstCheck = false;
    if (now().getTime() - sweptAt > SWEEP_EVERY_MS) {
      sweptAt = now().getTime();
      const before = new Date(sweptAt - KEEP_MS);
      await changes.deleteMany({ at: { $lt: before } });
      // A live node's head older than a day is rewritten whole at its next change (its seq is in memory).
      await heads.deleteMany({ at: { $lt: before }, _id: { $ne: nodeId } });
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      checking = check()
        .catch((err) => log.warn({ err }, "reading the other nodes' changes failed; trying again"))
        .finally(() => {
          checking = null;
          schedule();
        });
    }, checkMs);
    timer.unref();
  }

  const link: ClusterLink & { start(): Promise<void>; stop(): Promise<void>; checkNow(): Promise<void> } = {
    publish(message) {
      const n = ++seq;
      writes = writes
        .then(() => write(message, n))
        .catch((err) =>
          log.warn(
            { err, reaction: message.reaction, tenantId: message.tenantId },
            'a change could not be recorded for the other nodes; they see it when their caches expire',
          ),
        );
    },
    onMessage(handler) {
      handlers.push(handler);
    },
    /** The first look (what exists now is older than this node's caches), then one every checkMs. */
    async start() {
      await check();
      schedule();
    },
    /** Reads the other nodes' changes now (tests; the loop does it every checkMs). */
    checkNow: () => check(),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await checking;
      await writes;
    },
  };
  return link;
}
export type DatabaseLink = ReturnType<typeof createDatabaseLink>;
