/** "HH:MM" in the user's local time zone (24-hour, so it reads the same in every locale). */
export function hhmm(date: Date | number | string): string {
  const d = new Date(date);
  if (Number.isNaN(d.getTime())) return '--:--';
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
