/**
 * Runs the reactions of ./catalogue.ts: listeners are attached by name and always run in the catalogue's
 * order, with the catalogue's failure policy; every failure is logged with the reaction and listener
 * names. One bus per composed service graph (no module-level state). It never decides what reacts: that
 * is the catalogue's job, and ./wiring.ts attaches the listeners. With a cluster link (useCluster), a
 * reaction with `everyNode` listeners is published to the other nodes, and theirs are replayed here.
 */
import type { Logger } from 'pino';
import {
  HOOKS,
  type CacheDrop,
  type CacheDropName,
  type CacheScope,
  REACTIONS,
  type HookName,
  type HookProviders,
  type ListenerName,
  type ProviderName,
  type ReactionListener,
  type ReactionName,
  type ReactionPayloads,
} from './catalogue';

type AnyListener = (payload: unknown) => Promise<void> | void;

/** What travels between nodes: a reaction happened on `origin` for a tenant. */
export interface ClusterMessage {
  origin: string;
  reaction: ReactionName;
  tenantId: string;
  userId?: string;
}
/** The channel to the other nodes (../cluster/invalidation.ts); it hands back only other nodes' messages. */
export interface ClusterLink {
  publish(message: Omit<ClusterMessage, 'origin'>): void;
  onMessage(handler: (message: ClusterMessage) => void): void;
}

/** The tenant a reaction concerns (every payload names one), and the user when it concerns one. */
function scopeOf(payload: unknown): CacheScope {
  const p = payload as { tenantId?: string; userId?: unknown; event?: { tenantId: string } };
  const tenantId = p.event?.tenantId ?? p.tenantId ?? '';
  return typeof p.userId === 'string' ? { tenantId, userId: p.userId } : { tenantId };
}

/** What a log line says about the payload: the tenant (and event) it concerns. */
function subjectOf(payload: unknown): Record<string, unknown> {
  const p = payload as { tenantId?: string; event?: { tenantId?: string; _id?: { toHexString?: () => string } } } | null;
  const event = p?.event;
  if (event) return { tenantId: event.tenantId, eventId: event._id?.toHexString?.() };
  return p?.tenantId ? { tenantId: p.tenantId } : {};
}

export function createReactions(logger: Logger) {
  const log = logger.child({ component: 'reactions' });
  const attached = new Map<ReactionName, Map<string, AnyListener>>();
  /** The `everyNode` listeners, given the reaction's scope rather than its payload. */
  const drops = new Set<AnyListener>();
  let cluster: ClusterLink | null = null;

  const failed = (reaction: string, listener: string, err: unknown, payload: unknown) =>
    log.error({ err, reaction, listener, ...subjectOf(payload) }, `reaction ${reaction}: listener ${listener} failed`);

  /** The attached listeners of a reaction, in the catalogue's order. */
  function ordered(name: ReactionName): [string, AnyListener][] {
    const byName = attached.get(name);
    if (!byName) return [];
    const out: [string, AnyListener][] = [];
    for (const { name: listener } of REACTIONS[name].listeners) {
      const fn = byName.get(listener);
      if (fn) out.push([listener, fn]);
    }
    return out;
  }

  function attach(name: ReactionName, listener: string, fn: AnyListener, everyNode: boolean): void {
    const spec = REACTIONS[name].listeners.find((l) => l.name === listener) as { everyNode?: true } | undefined;
    if (!spec) throw new Error(`${listener} is not a catalogued listener of ${name}`);
    if (Boolean(spec.everyNode) !== everyNode) throw new Error(`${listener} of ${name} must be attached with ${everyNode ? 'on' : 'drop'}`);
    const byName = attached.get(name) ?? new Map<string, AnyListener>();
    if (byName.has(listener)) throw new Error(`${listener} is already attached to ${name}`);
    byName.set(listener, fn);
    attached.set(name, byName);
  }

  const hasDrops = (name: ReactionName) => REACTIONS[name].listeners.some((l) => (l as { everyNode?: true }).everyNode);

  /** Another node's reaction: its `everyNode` listeners run here, in order; a failure is logged and the next runs. */
  function replay(message: ClusterMessage): void {
    if (!(message.reaction in REACTIONS)) return;
    for (const [listener, fn] of ordered(message.reaction)) {
      if (!drops.has(fn)) continue;
      try {
        void Promise.resolve(fn(scopeOf(message))).catch((err) => failed(message.reaction, listener, err, message));
      } catch (err) {
        failed(message.reaction, listener, err, message);
      }
    }
  }

  return {
    /** Attaches the catalogued listener `listener` of `name` (once; a name not in the catalogue is refused). */
    on<N extends ReactionName>(name: N, listener: ListenerName<N>, fn: ReactionListener<N>): void {
      attach(name, listener, fn as AnyListener, false);
    },

    /** Attaches an `everyNode` listener: it drops caches here and is replayed when the reaction happens on another node. */
    drop<N extends ReactionName>(name: N, listener: CacheDropName<N>, fn: CacheDrop): void {
      const run: AnyListener = (payload) => fn(scopeOf(payload));
      drops.add(run);
      attach(name, listener, run, true);
    },

    /** Connects this node to the others: its reactions with `everyNode` listeners are published, theirs replayed here. */
    useCluster(link: ClusterLink): void {
      cluster = link;
      link.onMessage(replay);
    },

    /**
     * Runs the listeners of `name` as the catalogue says. Resolves when the emitter may go on: after all
     * of them (in-order), or at once (detached: each was started, synchronously, in order).
     */
    async emit<N extends ReactionName>(name: N, payload: ReactionPayloads[N]): Promise<void> {
      const { dispatch } = REACTIONS[name];
      // The other nodes drop their caches while this one runs its listeners (the change is already stored).
      if (cluster && hasDrops(name)) cluster.publish({ reaction: name, ...scopeOf(payload) });
      for (const [listener, fn] of ordered(name)) {
        if (dispatch === 'detached') {
          try {
            void Promise.resolve(fn(payload)).catch((err) => failed(name, listener, err, payload));
          } catch (err) {
            failed(name, listener, err, payload);
          }
          continue;
        }
        try {
          await fn(payload);
        } catch (err) {
          failed(name, listener, err, payload);
          if (dispatch === 'in-order, stop') throw err;
        }
      }
    },

    /**
     * A hook's providers, in the catalogue's order, each wrapped so that a failure is logged with the hook
     * and provider names before it reaches the owner (which decides what it means, see HOOKS).
     */
    providers<H extends HookName>(hook: H, byName: Record<ProviderName<H>, HookProviders[H]>): HookProviders[H][] {
      return HOOKS[hook].providers.map(({ name }) => {
        const provider = byName[name as ProviderName<H>];
        const guarded = {} as Record<string, unknown>;
        for (const [key, value] of Object.entries(provider)) {
          guarded[key] =
            typeof value !== 'function'
              ? value
              : async (...args: unknown[]) => {
                  try {
                    return await (value as (...a: unknown[]) => unknown).apply(provider, args);
                  } catch (err) {
                    failed(hook, name, err, args[0]);
                    throw err;
                  }
                };
        }
        return guarded as unknown as HookProviders[H];
      });
    },

    /** Catalogued listeners not attached (push's are attached when the socket server exists). */
    unattached(): string[] {
      const missing: string[] = [];
      for (const name of Object.keys(REACTIONS) as ReactionName[]) {
        for (const { name: listener } of REACTIONS[name].listeners) if (!attached.get(name)?.has(listener)) missing.push(`${name} → ${listener}`);
      }
      return missing;
    },
  };
}
export type Reactions = ReturnType<typeof createReactions>;
