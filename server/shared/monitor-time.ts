/**
 * Monitor times as the admin page and the alert portal both show them: in the monitor's own zone, with the
 * zone named ("22 Nov, 14:50:30 CET"). Intl only: the admin bundle imports this module, so it must never
 * import anything.
 */
export function monitorTimeFormatter(timeZone: string): (iso: string | null | undefined) => string {
  const f = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
  return (iso) => (iso ? f.format(new Date(iso)) : '—');
}
