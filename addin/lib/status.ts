/** The continuity status the backend pushes (`continuity:status`) and serves (`GET /api/me/status`). */

import type { ContinuityEvent, ContinuityStatus } from '../../server/push/contract';

export type { ContinuityEvent, ContinuityStatus };

export type HeaderState = { kind: 'normal' } | { kind: 'active'; events: ContinuityEvent[] } | { kind: 'restored'; events: ContinuityEvent[] };

/** Whether `incoming` should replace what is shown: only a newer seq does. */
export function isNewer(current: ContinuityStatus | null, incoming: ContinuityStatus): boolean {
  return current === null || incoming.seq > current.seq;
}

/** Normal (no events) / Continuity active / Service restored (inactive, with an end message). */
export function headerState(status: ContinuityStatus): HeaderState {
  if (status.active) return { kind: 'active', events: status.events };
  const ended = status.events.filter((e) => typeof e.endMessage === 'string' && e.endMessage !== '');
  if (ended.length > 0) return { kind: 'restored', events: ended };
  return { kind: 'normal' };
}

/** The text for the item banner while continuity is active. */
export function bannerMessage(status: ContinuityStatus): string | null {
  if (!status.active) return null;
  const event = status.events[0];
  if (!event) return 'Email continuity is active. Open Lifeboat for details.';
  return `Email continuity is active: ${event.startMessage || event.description}`;
}

/** A light shape check of a payload from the network (the backend is trusted; this guards against mistakes). */
export function parseStatus(value: unknown): ContinuityStatus | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (typeof v.seq !== 'number' || typeof v.active !== 'boolean' || !Array.isArray(v.events)) return null;
  const events: ContinuityEvent[] = [];
  for (const e of v.events) {
    if (!e || typeof e !== 'object') return null;
    const ev = e as Record<string, unknown>;
    if (typeof ev.id !== 'string' || typeof ev.description !== 'string') return null;
    events.push({
      id: ev.id,
      description: ev.description,
      startMessage: typeof ev.startMessage === 'string' ? ev.startMessage : undefined,
      endMessage: typeof ev.endMessage === 'string' ? ev.endMessage : undefined,
      start: typeof ev.start === 'string' ? ev.start : '',
      end: typeof ev.end === 'string' ? ev.end : null,
      ...(typeof ev.timeZone === 'string' ? { timeZone: ev.timeZone } : {}),
    });
  }
  return { seq: v.seq, active: v.active, events, at: typeof v.at === 'string' ? v.at : new Date().toISOString() };
}
