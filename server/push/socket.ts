/**
 * Socket.IO push. Who a socket is comes only from what it proves: a user bearer token in
 * `handshake.auth.token`, or an admin session cookie. Rooms are derived from that identity; a
 * client can never ask to join one. Every status change reaches a user as `continuity:status`
 * with a growing `seq`; a (re)connecting client sends its last `seq` and gets the current state
 * when the server is past it, so no banner is missed while it was away.
 *
 * Several nodes (a cluster: REDIS_URL): rooms are shared through the Redis adapter, so admin updates
 * reach every node's sockets as they are. A continuity push is computed per socket, so the node that
 * recorded the seq tells the others (`NODE_PUSHED`) and then emits to its own sockets, while they emit the
 * same seq's statuses to theirs. A node that was cut from Redis re-pushes, when it is back, every tenant whose
 * seq moved meanwhile.
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { parse as parseCookies } from 'cookie';
import type { Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import type { AdminIdentity } from '../auth/identity';
import { SESSION_COOKIE } from '../auth/middleware';
import type { AuthService } from '../auth/service';
import type { Cluster } from '../cluster/redis';
import type { UserIdentity } from '../user-auth/identity';
import type { TokenCredential, UserAuthService } from '../user-auth/service';
import type { ReceiptService } from './receipts';
import type { StatusService, StatusView } from './status';

export const STATUS_EVENT = 'continuity:status';
/** The pane's receipt of an active status: `{ seq, eventIds, client? }`, answered through the ack with `{ accepted }`. */
export const SEEN_EVENT = 'continuity:seen';
export const ADMIN_CHANGE_EVENT = 'continuity:changed';

/** Between nodes: a node recorded `seq` for the tenant (at `at`, ISO) and is pushing it to its own sockets; push it to yours. */
export const NODE_PUSHED = 'lifeboat:continuity-pushed';
/** Between nodes: a transition of the tenant is due at `at` (ISO): compute its statuses and group your sockets now. */
export const NODE_PREPARE = 'lifeboat:continuity-prepare';
interface NodeEvents {
  [NODE_PUSHED]: (message: { tenantId: string; seq: number; reason: string; at?: string }) => void;
  [NODE_PREPARE]: (message: { tenantId: string; at: string }) => void;
}

interface SocketData {
  user?: UserIdentity;
  /** What the user's token is judged by again when tokens are revoked (user:tokens-revoked). */
  credential?: TokenCredential;
  admin?: AdminIdentity;
}

export const tenantRoom = (tenantId: string) => `tenant:${tenantId}`;
export const userRoom = (tenantId: string, userId: string) => `user:${tenantId}:${userId}`;
export const adminRoom = (tenantId: string) => `admins:${tenantId}`;

/** Browsers send Origin; it must be this server (no cross-site socket hijacking). Non-browser clients send none. */
function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function attachPush(
  server: HttpServer | HttpsServer,
  deps: {
    userAuth: UserAuthService;
    auth: AuthService;
    status: StatusService;
    logger: Logger;
    receipts?: ReceiptService;
    cluster?: Pick<Cluster, 'socketAdapter' | 'onReconnect'>;
  },
) {
  const { userAuth, auth, status } = deps;
  const log = deps.logger.child({ component: 'push' });
  const io = new Server<Record<string, never>, Record<string, never>, NodeEvents, SocketData>(server, {
    serveClient: false,
    ...(deps.cluster ? { adapter: deps.cluster.socketAdapter() } : {}),
    allowRequest: (req, callback) => callback(null, sameOrigin(req.headers.origin, req.headers.host)),
  });

  io.use(async (socket, next) => {
    try {
      const token = socket.handshake.auth?.token;
      if (typeof token === 'string' && token) {
        const result = await userAuth.authenticate(token);
        if ('identity' in result) {
          socket.data.user = result.identity;
          socket.data.credential = result.credential;
          return next();
        }
        log.info({ reason: result.refused }, 'socket refused: user token');
        return next(new Error('unauthorized'));
      }
      const session = parseCookies(socket.handshake.headers.cookie ?? '')[SESSION_COOKIE];
      const admin = await auth.authenticate(session);
      if (admin) {
        socket.data.admin = admin;
        return next();
      }
      next(new Error('unauthorized'));
    } catch (err) {
      log.error({ err }, 'socket authentication failed');
      next(new Error('unavailable'));
    }
  });

  io.on('connection', async (socket: Socket) => {
    const data = socket.data as SocketData;
    if (data.admin) {
      await socket.join(adminRoom(data.admin.tenantId));
      return;
    }
    const user = data.user!;
    // Receipts arrive after the emits and are handled here, per socket: nothing is added to the push loop.
    // One at a time per socket; acknowledgements arriving while one is checked are dropped (best-effort).
    let acking = false;
    (socket as unknown as { on(e: string, l: (payload: unknown, ack?: unknown) => void): void }).on(SEEN_EVENT, (payload, ack) => {
      const reply = typeof ack === 'function' ? (ack as (r: unknown) => void) : () => {};
      if (!deps.receipts || acking) return reply({ accepted: [] });
      acking = true;
      deps.receipts
        .acknowledge(user, (payload ?? {}) as object, 'socket')
        .then((accepted) => reply({ accepted }))
        .catch((err) => {
          log.warn({ err }, 'banner receipt failed');
          reply({ accepted: [] });
        })
        .finally(() => (acking = false));
    });
    await socket.join([tenantRoom(user.tenantId), userRoom(user.tenantId, user.userId)]);
    socketsChanged(user.tenantId);
    socket.once('disconnect', () => socketsChanged(user.tenantId));
    const lastSeq = Number(socket.handshake.auth?.lastSeq);
    try {
      const current = await status.forUser(user.tenantId, user.userId);
      pushedUpTo(user.tenantId, current.seq);
      if (!(Number.isFinite(lastSeq) && lastSeq >= current.seq)) socket.emit(STATUS_EVENT, current);
    } catch (err) {
      log.error({ err }, 'could not send the status on connect');
    }
  });

  // Changes of one tenant are pushed one after another, so a later seq is never sent before an earlier one.
  const queues = new Map<string, Promise<void>>();
  const enqueue = (tenantId: string, work: () => Promise<void>): Promise<void> => {
    const run = (queues.get(tenantId) ?? Promise.resolve()).then(work).catch((err) => log.error({ err, tenantId }, 'push failed'));
    queues.set(tenantId, run);
    return run;
  };
  /** Per tenant, the highest seq this node's sockets were given (by a push or on connecting). */
  const pushed = new Map<string, number>();
  const pushedUpTo = (tenantId: string, seq: number) => {
    if (seq > (pushed.get(tenantId) ?? -1)) pushed.set(tenantId, seq);
  };

  // A tenant's user sockets grouped by the events covering their users, kept while neither the
  // sockets (generation: bumped by every connect and disconnect) nor the coverage changed. A
  // scheduled transition groups them ahead (prepare), so the push at its time only emits.
  interface Grouping {
    coverage: StatusView['coverage'];
    generation: number;
    counts: Map<string, number>;
    largest: string;
    /** Socket ids of every group but the largest (the largest is the tenant room minus these). */
    others: Map<string, string[]>;
  }
  const groupings = new Map<string, Grouping>();
  const generations = new Map<string, number>();
  const socketsChanged = (tenantId: string) => generations.set(tenantId, (generations.get(tenantId) ?? 0) + 1);

  function groupSockets(tenantId: string, view: StatusView): Grouping {
    const generation = generations.get(tenantId) ?? 0;
    const kept = groupings.get(tenantId);
    if (kept && kept.coverage === view.coverage && kept.generation === generation) return kept;
    // Only a key per socket is looked up; the ids of the smaller groups are collected afterwards.
    const ids: string[] = [];
    const keys: string[] = [];
    const counts = new Map<string, number>();
    for (const socket of io.of('/').sockets.values()) {
      const user = (socket.data as SocketData).user;
      if (user?.tenantId !== tenantId) continue;
      const key = view.keyFor(user.userId);
      ids.push(socket.id);
      keys.push(key);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    let largest = '';
    let largestCount = -1;
    for (const [key, count] of counts) if (count > largestCount) [largest, largestCount] = [key, count];
    const others = new Map<string, string[]>();
    if (counts.size > 1) {
      keys.forEach((key, i) => {
        if (key === largest) return;
        const group = others.get(key);
        if (group) group.push(ids[i]!);
        else others.set(key, [ids[i]!]);
      });
    }
    const grouping = { coverage: view.coverage, generation, counts, largest, others };
    groupings.set(tenantId, grouping);
    return grouping;
  }

  async function prepareSockets(tenantId: string): Promise<void> {
    const view = await status.preparedView(tenantId);
    if (view) groupSockets(tenantId, view);
  }

  /** The statuses of `seq` to this node's own sockets (rooms: `io.local`), grouped by coverage; returns the groups' sizes. */
  function emitLocally(tenantId: string, view: StatusView, seq: number): Map<string, number> {
    const { counts, largest, others } = groupSockets(tenantId, view);
    if (counts.size) {
      const room = io.local.to(tenantRoom(tenantId));
      (others.size ? room.except([...others.values()].flat()) : room).emit(STATUS_EVENT, view.statusOfKey(largest));
      for (const [key, group] of others) io.local.to(group).emit(STATUS_EVENT, view.statusOfKey(key));
    }
    pushedUpTo(tenantId, seq);
    return counts;
  }

  /** Where a push's time went (ms per phase), with how many sockets and distinct statuses it reached on this node. */
  const ms = (from: number, to: number) => Math.round(to - from);
  function logPushed(
    message: string,
    push: { tenantId: string; seq: number; reason: string },
    counts: Map<string, number>,
    phases: Record<string, number | undefined>,
  ) {
    log.info({ ...push, sockets: [...counts.values()].reduce((n, c) => n + c, 0), statuses: counts.size, ms: phases }, message);
  }

  /** Another node recorded `seq` (or this one missed it while cut from Redis): this node's sockets get it. */
  async function pushRecorded(tenantId: string, seq: number, reason: string, at?: Date): Promise<void> {
    if ((pushed.get(tenantId) ?? -1) >= seq) return;
    const started = performance.now();
    const view = await status.viewAtLeast(tenantId, seq, at);
    const viewed = performance.now();
    const counts = emitLocally(tenantId, view, seq);
    // heard: from the seq's recording on the other node until this node took it up (both wall clocks).
    const heard = at ? Date.now() - at.getTime() - ms(started, performance.now()) : undefined;
    logPushed('continuity status pushed for another node', { tenantId, seq, reason }, counts, {
      heard,
      view: ms(started, viewed),
      emit: ms(viewed, performance.now()),
    });
  }

  if (deps.cluster) {
    io.on(NODE_PUSHED, ({ tenantId, seq, reason, at }) => {
      const recordedAt = at ? new Date(at) : undefined;
      void enqueue(tenantId, () => pushRecorded(tenantId, seq, reason, recordedAt && !Number.isNaN(recordedAt.getTime()) ? recordedAt : undefined));
    });
    // Another node prepared a transition: this node gets its statuses and its sockets' groups ready too,
    // so when it hears of the push it only emits (as the node that records it does).
    io.on(NODE_PREPARE, ({ tenantId, at }) => {
      const due = new Date(at);
      if (Number.isNaN(due.getTime())) return;
      void status
        .prepare(tenantId, due)
        .then(() => prepareSockets(tenantId))
        .catch(() => {}); // only an optimisation: without it the push computes the statuses itself
    });
    deps.cluster.onReconnect(() => {
      for (const tenantId of pushed.keys()) {
        void enqueue(tenantId, async () => pushRecorded(tenantId, (await status.epoch(tenantId)).seq, 'caught up after Redis came back'));
      }
    });
  }

  async function pushTenant(tenantId: string, reason: string): Promise<void> {
    const started = performance.now();
    const seq = await status.bump(tenantId, reason);
    const bumped = performance.now();
    const view = await status.view(tenantId);
    const viewed = performance.now();
    // The other nodes are told first, so they emit to their sockets while this node emits to its own,
    // as a broadcast through the adapter does (published, then emitted locally). Told after, they
    // started only once this node's emit (the longest part: a write per socket) was over, and the
    // last of their sockets got the status that much later (bench:push, two nodes).
    if (deps.cluster) io.serverSideEmit(NODE_PUSHED, { tenantId, seq, reason, at: view.recordedAt.toISOString() });
    const told = performance.now();
    // From here on nothing awaits: the sockets we group are exactly the sockets we emit to.
    const counts = emitLocally(tenantId, view, seq);
    const computed = performance.now();
    // Through the adapter: every node's admin pages.
    io.to(adminRoom(tenantId)).emit(ADMIN_CHANGE_EVENT, { seq, reason });
    logPushed('continuity status pushed', { tenantId, seq, reason }, counts, {
      record: ms(started, bumped),
      compute: ms(bumped, computed),
      view: ms(bumped, viewed),
      tell: ms(viewed, told),
      emit: ms(computed, performance.now()),
    });
  }

  return {
    io,
    /** Something that may change users' status happened in this tenant: record it and push. */
    tenantChanged(tenantId: string, reason: string): Promise<void> {
      return enqueue(tenantId, () => pushTenant(tenantId, reason));
    },
    /** A transition due at `at` had its statuses prepared (status.prepare): group the tenant's sockets for it now, and tell the other nodes. */
    async prepare(tenantId: string, at?: Date): Promise<void> {
      if (deps.cluster && at) io.serverSideEmit(NODE_PREPARE, { tenantId, at: at.toISOString() });
      await prepareSockets(tenantId);
    },
    /**
     * Tokens were revoked (of one user, or whoever left the tenant's directory): this node's own sockets
     * of them are judged again and those refused now are disconnected. Each node checks its own sockets
     * (the reaction reaches every node), so a socket opened since with a new token is never closed.
     */
    async recheckSockets(tenantId: string, userId?: string): Promise<void> {
      for (const socket of [...io.of('/').sockets.values()]) {
        const { user, credential } = socket.data as SocketData;
        if (!user || user.tenantId !== tenantId || (userId !== undefined && user.userId !== userId)) continue;
        const refused = await userAuth.refusalOf(user, credential ?? {});
        if (refused) {
          log.info({ tenantId, userId: user.userId, reason: refused }, 'socket disconnected: its token is no longer good');
          socket.disconnect(true);
        }
      }
    },
    /** Something for the tenant's signed-in admins only (their pages update live). */
    toAdmins(tenantId: string, event: string, payload: unknown): void {
      (io.to(adminRoom(tenantId)) as unknown as { emit(e: string, p: unknown): void }).emit(event, payload);
    },
    close(): Promise<void> {
      return new Promise((resolve) => io.close(() => resolve()));
    },
  };
}
export type Push = ReturnType<typeof attachPush>;
