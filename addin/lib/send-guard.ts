/**
 * What the OnMessageSend handler decides, and the status it decides from when the backend cannot be
 * asked. Pure rules (unit-tested) plus a small store shared by the pane and the handler.
 *
 * The pane saves every status it receives (no secrets) and, for a cloud-password sign-in, its
 * short-lived Lifeboat token with its expiry, so the handler can ask `GET /api/me/status` itself.
 * Storage: `OfficeRuntime.storage` where Outlook offers it (classic Outlook's JavaScript-only event
 * runtime has no localStorage), else `localStorage` (same origin as the pane) without the token.
 */
import type { ContinuityStatus } from './status';

export const GUARD_KEY = 'lifeboat.sendGuard';
/** A cached status older than this is not trusted to block a send. */
export const CACHE_MAX_AGE_MS = 7 * 24 * 3600_000;

export interface CachedGuard {
  status: ContinuityStatus;
  savedAt: string;
  /** A Lifeboat token (cloud-password sign-in) the handler may use until it expires. */
  token?: string;
  tokenExpiresAt?: string;
}

export type FreshStatus = { kind: 'status'; status: ContinuityStatus } | { kind: 'unavailable'; reason: string };

export type SendDecision =
  | { allow: true; reason: 'inactive' | 'inactiveCached' | 'noStatus' | 'error'; detail?: string }
  | { allow: false; reason: 'active' | 'activeCached'; message: string };

export const BLOCK_MESSAGE =
  'Email continuity is active: Outlook cannot deliver mail right now. Open Lifeboat and choose "Send via Lifeboat" to send this message.';
/** The Smart Alerts button that opens the pane (≤ 20 characters). */
export const BLOCK_BUTTON = 'Send via Lifeboat';
/** The compose button's Control id in manifest.xml (the pane the button opens). */
export const PANE_COMMAND_ID = 'lifeboatComposeButton';

/** Whether a cached status still means "continuity active" at `now`: an event of it is still current. */
export function cachedActive(guard: CachedGuard | null, now: Date): boolean {
  if (!guard || !guard.status.active) return false;
  const saved = Date.parse(guard.savedAt);
  if (!Number.isFinite(saved) || now.getTime() - saved > CACHE_MAX_AGE_MS) return false;
  return guard.status.events.some((e) => {
    const start = Date.parse(e.start);
    const end = e.end === null ? Infinity : Date.parse(e.end);
    return (!Number.isFinite(start) || start <= now.getTime()) && end > now.getTime();
  });
}

/**
 * Block Outlook's own send only during an active event: the backend's answer when there is one,
 * else the cached status (backend unreachable). Anything unknown lets the send through (SoftBlock:
 * mail is never stuck because of Lifeboat).
 */
export function decideSend(fresh: FreshStatus, cached: CachedGuard | null, now: Date): SendDecision {
  if (fresh.kind === 'status') {
    return fresh.status.active ? { allow: false, reason: 'active', message: BLOCK_MESSAGE } : { allow: true, reason: 'inactive' };
  }
  if (cached) {
    return cachedActive(cached, now)
      ? { allow: false, reason: 'activeCached', message: BLOCK_MESSAGE }
      : { allow: true, reason: 'inactiveCached', detail: fresh.reason };
  }
  return { allow: true, reason: 'noStatus', detail: fresh.reason };
}

/** The options for `event.completed` (Smart Alerts). */
export function completedOptions(decision: SendDecision): Office.SmartAlertsEventCompletedOptions {
  if (decision.allow) return { allowEvent: true };
  return { allowEvent: false, errorMessage: decision.message, cancelLabel: BLOCK_BUTTON, commandId: PANE_COMMAND_ID };
}

// ---- the shared store -----------------------------------------------------------------------------

interface RuntimeStorage {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}

function runtimeStorage(): RuntimeStorage | null {
  try {
    const rt = (globalThis as { OfficeRuntime?: { storage?: RuntimeStorage } }).OfficeRuntime;
    return rt?.storage ?? null;
  } catch {
    return null;
  }
}

function local(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function parseGuard(raw: string | null): CachedGuard | null {
  if (!raw) return null;
  try {
    const g = JSON.parse(raw) as CachedGuard;
    if (!g || typeof g !== 'object' || !g.status || typeof g.status.active !== 'boolean' || !Array.isArray(g.status.events)) return null;
    return g;
  } catch {
    return null;
  }
}

export async function loadGuard(): Promise<CachedGuard | null> {
  const rt = runtimeStorage();
  if (rt) {
    try {
      const g = parseGuard(await rt.getItem(GUARD_KEY));
      if (g) return g;
    } catch {
      // fall through to localStorage
    }
  }
  return parseGuard(local()?.getItem(GUARD_KEY) ?? null);
}

/** Saves the latest status (and, optionally, the token); keeps the stored token when none is given. */
export async function saveGuard(update: { status?: ContinuityStatus; token?: string | null; tokenExpiresAt?: string | null }, now = new Date()): Promise<void> {
  const previous = await loadGuard();
  const status = update.status ?? previous?.status;
  if (!status) return;
  const next: CachedGuard = { status, savedAt: update.status ? now.toISOString() : (previous?.savedAt ?? now.toISOString()) };
  const token = update.token === undefined ? previous?.token : (update.token ?? undefined);
  const expires = update.tokenExpiresAt === undefined ? previous?.tokenExpiresAt : (update.tokenExpiresAt ?? undefined);
  if (token && expires) {
    next.token = token;
    next.tokenExpiresAt = expires;
  }
  const text = JSON.stringify(next);
  try {
    // localStorage outlives the session and any script of the origin reads it: the status only, never the token.
    local()?.setItem(GUARD_KEY, JSON.stringify({ status: next.status, savedAt: next.savedAt }));
  } catch {
    // storage full or disabled
  }
  try {
    await runtimeStorage()?.setItem(GUARD_KEY, text);
  } catch {
    // not offered here
  }
}

/** Forgets the stored token (sign-out); the status stays, so the handler still knows about events. */
export async function forgetGuardToken(): Promise<void> {
  const previous = await loadGuard();
  if (!previous) return;
  await saveGuard({ token: null, tokenExpiresAt: null });
}
