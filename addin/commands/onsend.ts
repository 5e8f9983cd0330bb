/**
 * The OnMessageSend handler (Smart Alerts, SendMode SoftBlock in manifest.xml). During an active
 * continuity event it stops Outlook's own send and points to the pane's "Send via Lifeboat"; outside
 * events it lets the send through. Whatever fails — no status, no network, a bug — lets the send
 * through too, and the handler always completes within a few seconds (Outlook waits on it).
 *
 * Runs in Outlook's event runtime: commands.html in the browser runtime (Outlook on the web, new
 * Outlook, Mac), launchevent.js in classic Outlook on Windows' JavaScript-only runtime (no DOM, no
 * localStorage: see send-guard.ts).
 */
import { completedOptions, decideSend, loadGuard, saveGuard, type FreshStatus, type SendDecision } from '../lib/send-guard';
import { parseStatus } from '../lib/status';

export const HANDLER_NAME = 'onMessageSendHandler';
/** How long the handler waits for the backend before deciding from the cached status. */
export const STATUS_TIMEOUT_MS = 4000;

interface SendEvent {
  completed(options?: Office.SmartAlertsEventCompletedOptions): void;
}

function backendOrigin(): string | null {
  try {
    const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
    return origin && /^https?:\/\//.test(origin) ? origin : null;
  } catch {
    return null;
  }
}

/** Asks the backend for the user's status with the token the pane left; 'unavailable' otherwise. */
export async function fetchStatus(token: string | undefined, tokenExpiresAt: string | undefined, now: Date): Promise<FreshStatus> {
  const origin = backendOrigin();
  if (!origin) return { kind: 'unavailable', reason: 'no backend address in this runtime' };
  if (!token || !tokenExpiresAt || !(Date.parse(tokenExpiresAt) > now.getTime())) return { kind: 'unavailable', reason: 'no current Lifeboat token' };
  if (typeof fetch !== 'function') return { kind: 'unavailable', reason: 'no fetch in this runtime' };
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = setTimeout(() => controller?.abort(), STATUS_TIMEOUT_MS);
  try {
    const res = await fetch(`${origin}/api/me/status`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      cache: 'no-store',
      signal: controller?.signal,
    });
    if (!res.ok) return { kind: 'unavailable', reason: `the backend answered ${res.status}` };
    const status = parseStatus(await res.json());
    return status ? { kind: 'status', status } : { kind: 'unavailable', reason: 'unexpected status' };
  } catch (err) {
    return { kind: 'unavailable', reason: `backend unreachable: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

/** The whole decision: fresh status if possible (and cache it), else the cached one; errors allow. */
export async function decide(now = new Date()): Promise<SendDecision> {
  try {
    const cached = await loadGuard();
    const fresh = await fetchStatus(cached?.token, cached?.tokenExpiresAt, now);
    if (fresh.kind === 'status') await saveGuard({ status: fresh.status }, now).catch(() => {});
    return decideSend(fresh, cached, now);
  } catch (err) {
    return { allow: true, reason: 'error', detail: (err as Error)?.message };
  }
}

export async function onMessageSendHandler(event: SendEvent): Promise<void> {
  let decision: SendDecision;
  try {
    decision = await decide();
  } catch {
    decision = { allow: true, reason: 'error' };
  }
  try {
    console.info(`Lifeboat send check: ${decision.allow ? 'allowed' : 'blocked'} (${decision.reason})`);
  } catch {
    // no console in this runtime
  }
  try {
    event.completed(completedOptions(decision));
  } catch {
    // An older Outlook without the Mailbox 1.14 options: block or allow with the basics.
    event.completed(decision.allow ? { allowEvent: true } : { allowEvent: false, errorMessage: decision.message });
  }
}

/** Maps the manifest's FunctionName to the handler (classic Outlook on Windows needs it). */
export function registerSendHandler(): void {
  const office = (globalThis as { Office?: typeof Office }).Office;
  try {
    office?.actions?.associate(HANDLER_NAME, onMessageSendHandler);
  } catch {
    // Office.actions missing (an old host): Outlook will not call the handler, and SoftBlock sends
  }
}
