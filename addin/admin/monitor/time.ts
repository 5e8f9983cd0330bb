/** Monitor times are shown in the monitor's own time zone, with the zone named. */

/** "22 Nov, 14:50:30 CET" in the monitor's zone. */
export function when(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  }).format(new Date(iso));
}
