/** Times in an event's own zone, computed with Intl only (the browser may be in another zone). */
const pad = (n: number) => String(n).padStart(2, '0');

/** The wall clock of an instant in a zone, as a datetime-local value (2027-03-28T09:30). */
export function localInputValue(instant: Date, timeZone: string): string {
  const parts: Record<string, string> = {};
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  for (const p of f.formatToParts(instant)) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** "Mon 28 Mar 2027, 09:30" from a response's startLocal (2027-03-28T09:30:00+02:00): the event zone's wall clock. */
export function showLocal(local: string | null | undefined): string {
  if (!local) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
  if (!m) return local;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const day = date.toLocaleDateString('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
  return `${day}, ${m[4]}:${m[5]}`;
}

/** The offset of a response's local time ("+02:00"), shown beside the zone. */
export function offsetOf(local: string | null | undefined): string {
  const m = /([+-]\d{2}:\d{2}|Z)$/.exec(local ?? '');
  return m ? (m[1] === 'Z' ? 'UTC' : `UTC${m[1]}`) : '';
}

export function zones(): string[] {
  const withSupport = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const list = withSupport.supportedValuesOf?.('timeZone') ?? [];
  return list.includes('UTC') ? list : ['UTC', ...list];
}

export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** A short local rendering of an ISO instant in the browser's zone, for audit and sync times. */
export function showInstant(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function ago(iso: string, now = Date.now()): string {
  const minutes = Math.round((now - Date.parse(iso)) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** The instant of a wall-clock time in a zone (for hints only: the server decides, clock changes included). */
export function instantOfLocal(local: string, timeZone: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  try {
    const shown = localInputValue(new Date(asUtc), timeZone);
    const [d, t] = shown.split('T');
    const [y, mo, da] = d.split('-').map(Number);
    const [h, mi] = t.split(':').map(Number);
    const offset = Date.UTC(y, mo - 1, da, h, mi) - asUtc;
    return asUtc - offset;
  } catch {
    return null;
  }
}
