/** Monitor times are shown in the monitor's own time zone, with the zone named (as the alert portal shows them). */
import { monitorTimeFormatter } from '../../../server/shared/monitor-time';

/** "22 Nov, 14:50:30 CET" in the monitor's zone. */
export function when(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '—';
  return monitorTimeFormatter(timeZone)(iso);
}
