/**
 * The catalogue of cross-capability reactions: the one place that says what happens when a continuity
 * event starts, ends or is edited, when a directory changes, and which other capability handles mail to
 * an address that is not a user's. Each reaction has a name, a payload type, the capability that emits
 * it, its listeners IN THE ORDER THEY RUN (the order here, not the order they were attached in) and what
 * a failing listener does. Every failure is logged (pino: `reaction`, `listener`, the error); none is
 * swallowed. The subscriptions themselves are all in ./wiring.ts; the dispatch in ./bus.ts.
 * (The model: zone-mta's hook catalogue. docs/ARCHITECTURE.md, "Reactions".)
 *
 * What an event START causes (the scheduler fired its `start` transition, once, in one process):
 *   1. push.banners       users' banners switch (events with Outlook continuity): statuses written to the
 *                         sockets FIRST, so the database work of the others does not delay them;
 *   2. mail.hold-release  queued mail of the recipients a pausing event now covers is held;
 *   3. notify.event-sms   the event-SMS loop looks at once (the start SMS);
 *   4. push.prepare-end   the statuses at the scheduled end are computed just before it.
 * Then the scheduler marks the transition dispatched. An END is the same without step 4 (held mail no
 * longer covered is released), plus 5. sent-items.write-back: what users sent through Lifeboat is copied
 * into their Exchange Sent Items (once per event, whichever node dispatches the end). An EDIT (create, edit, end now, delete, clone) wakes the scheduler (the
 * transition may have moved), lets mail re-check held mail, wakes the SMS loop, and re-pushes statuses.
 * A DIRECTORY import drops mail's recipient caches, then re-pushes statuses (a failure fails the import).
 * Mail to a monitor's own address is handed to the monitor (the `mail:intercept` hook, at the end).
 *
 * EVERY NODE: a listener marked `everyNode` only drops this process's in-memory caches. When a reaction
 * happens on one node, those listeners run there in order with the others, and the reaction's tenant is
 * published to the other nodes (REDIS_URL, ../cluster/), which run the `everyNode` listeners only: the
 * side effects that must happen once (pushes, holding mail, SMS, waking the scheduler) never run twice.
 * Monitor address and Entra connection changes, token revocations and settings changes are reactions for
 * that reason alone.
 *
 * Not reactions (direct calls through an owner's interface, composed in server/services.ts): reports ask
 * the monitor for a detection, the monitor sends alerts through notify, the Entra sync materializes the
 * directory (one capability).
 */
import type { EventRecord, TransitionRecord } from '../events/model';
import type { MailInterceptor } from '../mail/service';

export interface TransitionPayload {
  transition: TransitionRecord;
  event: EventRecord;
}

/** Each reaction's payload. */
export interface ReactionPayloads {
  'event:started': TransitionPayload;
  'event:ended': TransitionPayload;
  'event:changed': { event: EventRecord };
  'directory:changed': { tenantId: string };
  'directory:sync-progress': { tenantId: string };
  'monitor:addresses-changed': { tenantId: string };
  'entra:connection-changed': { tenantId: string };
  'threat-scan:changed': { tenantId: string; kind: 'progress' | 'remediation'; body: unknown };
  'user:tokens-revoked': { tenantId: string; userId: string };
  'settings:changed': { tenantId: string; setting: 'end-user-access' | 'protection-vips' };
}
/** What an `everyNode` listener is told, on the node of the change and on every other node. */
export interface CacheScope {
  tenantId: string;
  /** The one user the change concerns, when it concerns one (a token revocation). */
  userId?: string;
}
export type ReactionName = keyof ReactionPayloads;

/**
 * How listeners run and what a failure does:
 * - `in-order, continue`: one after another, each awaited; a failure is logged and the next one runs;
 *   the emitter waits for all of them.
 * - `in-order, stop`: one after another, each awaited; a failure is logged, the later ones do not run
 *   and the error reaches the emitter (its caller fails).
 * - `detached`: started one after another in order without waiting for each other, the emitter does
 *   not wait; a failure (thrown or rejected) is logged and never stops the others.
 */
export type Dispatch = 'in-order, continue' | 'in-order, stop' | 'detached';

export interface ListenerSpec {
  name: string;
  does: string;
  /** Drops this process's caches only: replayed on every other node (see the header). */
  everyNode?: true;
}
export interface ReactionSpec {
  emittedBy: string;
  dispatch: Dispatch;
  listeners: readonly ListenerSpec[];
}

export const REACTIONS = {
  'event:started': {
    emittedBy: 'events/scheduler.ts: an event start fired (once, by the process whose claim won); then it is marked dispatched',
    dispatch: 'in-order, continue',
    listeners: [
      { name: 'push.banners', does: "users' continuity status changes (Outlook continuity events only); first, so banners are not delayed" },
      { name: 'mail.hold-release', does: 'queued mail of recipients a pausing event now covers is held' },
      { name: 'notify.event-sms', does: 'the event-SMS loop looks again now (the start SMS)' },
      { name: 'push.prepare-end', does: 'statuses at the scheduled end are computed just before it' },
    ],
  },
  'event:ended': {
    emittedBy: 'events/scheduler.ts: an event end fired (scheduled or End now), once; then it is marked dispatched',
    dispatch: 'in-order, continue',
    listeners: [
      { name: 'push.banners', does: "users' continuity status changes back (Outlook continuity events only); first, as at a start" },
      { name: 'mail.hold-release', does: 'held mail no longer covered by a pausing event is released' },
      { name: 'notify.event-sms', does: 'the event-SMS loop looks again now (the end SMS)' },
      {
        name: 'sent-items.write-back',
        does: 'the copy of what users sent through Lifeboat into their Exchange Sent Items starts (once per event: claimed by insert)',
      },
    ],
  },
  'event:changed': {
    emittedBy: 'events/service.ts: an admin created, edited, ended, cloned or deleted an event (the response does not wait)',
    dispatch: 'detached',
    listeners: [
      { name: 'scheduler.wake', does: 'the scheduler looks again now (a start or end may have moved)' },
      { name: 'status.caches', does: "the tenant's cached and prepared status snapshots are dropped", everyNode: true },
      { name: 'mail.caches', does: "mail's cached copy of the tenant's events is dropped", everyNode: true },
      { name: 'mail.hold-release', does: "the tenant's cached events are dropped; queued and held mail are re-checked" },
      { name: 'notify.event-sms', does: 'the event-SMS loop looks again now' },
      { name: 'push.status', does: 'prepared statuses are dropped, the next transition is prepared ahead, visible edits are pushed' },
      { name: 'push.admins', does: "every open admin page of the tenant refetches its events (another admin's create, edit or delete)" },
    ],
  },
  'directory:changed': {
    emittedBy: "directory/service.ts: a tenant's users or groups were imported or materialized (the import waits)",
    dispatch: 'in-order, stop',
    listeners: [
      {
        name: 'directory.file-snapshot',
        does: "a directory-file tenant's users, groups and memberships are read again (before the caches built on them)",
        everyNode: true,
      },
      { name: 'mail.caches', does: 'recipient and membership caches are dropped (a new user or group is seen at once)', everyNode: true },
      { name: 'status.caches', does: "the tenant's cached and prepared status snapshots are dropped", everyNode: true },
      { name: 'user-auth.tokens', does: "the tenant's token generations and directory users are read again", everyNode: true },
      { name: 'protection.facts', does: "the tenant's protected display names are read again", everyNode: true },
      {
        name: 'push.revoked-sockets',
        does: "this node's user sockets of the tenant are checked again; users gone from the directory lose theirs",
        everyNode: true,
      },
      { name: 'push.status', does: "prepared statuses are dropped; the tenant's users get their status again" },
    ],
  },
  'directory:sync-progress': {
    emittedBy: "directory/graph/sync.ts: a tenant's Entra sync state changed (every phase)",
    dispatch: 'detached',
    listeners: [{ name: 'push.admins', does: "the sync status is pushed to the tenant's admins' pages" }],
  },
  'monitor:addresses-changed': {
    emittedBy: 'monitor/addresses.ts: a monitor claimed or released one of its own addresses',
    dispatch: 'in-order, continue',
    listeners: [{ name: 'monitor.address-book', does: 'the address book mail asks at RCPT TO is read again', everyNode: true }],
  },
  'entra:connection-changed': {
    emittedBy: "directory/graph/connection.ts: a tenant's Entra connection was created, changed or removed",
    dispatch: 'in-order, continue',
    listeners: [
      { name: 'directory.connection-state', does: 'whether the tenant reads its synced directory or its file is asked again', everyNode: true },
      { name: 'mail.caches', does: 'recipient and membership caches are dropped (the directory read may have switched)', everyNode: true },
    ],
  },
  'threat-scan:changed': {
    emittedBy: "threat-scan/: a scan's progress or state changed, or a remediation made progress (at most 4 a second per scan)",
    dispatch: 'detached',
    listeners: [{ name: 'push.admins', does: "the progress is pushed to the tenant's admins' pages (threat-scan:progress, threat-scan:remediation)" }],
  },
  'user:tokens-revoked': {
    emittedBy: "user-auth/revocation.ts: a user's tokens were revoked (password changed or reset, sign out everywhere); the revocation waits",
    dispatch: 'in-order, continue',
    listeners: [
      { name: 'user-auth.tokens', does: "the tenant's token generations are read again", everyNode: true },
      { name: 'push.revoked-sockets', does: "this node's sockets of the user are checked again; those with a revoked token are disconnected", everyNode: true },
    ],
  },
  'settings:changed': {
    emittedBy: 'inbox/access.ts (who may use the end-user tools), protection/vips.ts (the VIP list): an admin changed a tenant setting',
    dispatch: 'in-order, continue',
    listeners: [
      { name: 'inbox.access', does: 'the end-user tools setting is read again', everyNode: true },
      { name: 'protection.facts', does: "the tenant's protected names (VIPs) are read again", everyNode: true },
    ],
  },
} as const satisfies Record<ReactionName, ReactionSpec>;

type ListenerOf<N extends ReactionName> = (typeof REACTIONS)[N]['listeners'][number];
/** Listeners that run once, on the node where the reaction happened. */
export type ListenerName<N extends ReactionName> = Exclude<ListenerOf<N>, { everyNode: true }>['name'];
/** Listeners that drop caches on every node (see the header). */
export type CacheDropName<N extends ReactionName> = Extract<ListenerOf<N>, { everyNode: true }>['name'];
export type CacheDrop = (scope: CacheScope) => Promise<void> | void;
export type ReactionListener<N extends ReactionName> = (payload: ReactionPayloads[N]) => Promise<void> | void;

/**
 * Hooks: the owner asks its providers, in this order, and uses their answers. `mail:intercept`: at RCPT
 * TO mail asks each interceptor whether it claims an address (the first that does takes it); after DATA
 * it hands each one its recipients' message before answering 250. A failure is logged and reaches the
 * SMTP session, which answers 451 so the sender retries (a probe reply is never lost).
 */
export interface HookProviders {
  'mail:intercept': MailInterceptor;
}
export const HOOKS = {
  'mail:intercept': {
    owner: 'mail/service.ts (checkRecipient, accept)',
    providers: [{ name: 'monitor.probe-replies', does: "the continuity monitor's own addresses: replies to its probes" }],
  },
} as const satisfies Record<keyof HookProviders, { owner: string; providers: readonly ListenerSpec[] }>;
export type HookName = keyof HookProviders;
export type ProviderName<H extends HookName> = (typeof HOOKS)[H]['providers'][number]['name'];
