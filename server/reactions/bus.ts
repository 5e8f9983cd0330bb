/**
 * Runs the reactions of ./catalogue.ts: listeners are attached by name and always run in the catalogue's
 * order, with the catalogue's failure policy; every failure is logged with the reaction and listener
 * names. One bus per composed service graph (no module-level state). It never decides what reacts: that
 * is the catalogue's job, and ./wiring.ts attaches the listeners.
 */
import type { Logger } from 'pino';
import {
  HOOKS,
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

  return {
    /** Attaches the catalogued listener `listener` of `name` (once; a name not in the catalogue is refused). */
    on<N extends ReactionName>(name: N, listener: ListenerName<N>, fn: ReactionListener<N>): void {
      if (!REACTIONS[name].listeners.some((l) => l.name === listener)) throw new Error(`${listener} is not a catalogued listener of ${name}`);
      const byName = attached.get(name) ?? new Map<string, AnyListener>();
      if (byName.has(listener)) throw new Error(`${listener} is already attached to ${name}`);
      byName.set(listener, fn as AnyListener);
      attached.set(name, byName);
    },

    /**
     * Runs the listeners of `name` as the catalogue says. Resolves when the emitter may go on: after all
     * of them (in-order), or at once (detached: each was started, synchronously, in order).
     */
    async emit<N extends ReactionName>(name: N, payload: ReactionPayloads[N]): Promise<void> {
      const { dispatch } = REACTIONS[name];
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
