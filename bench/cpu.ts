/** CPU time (ms) used so far by this process and by another one, e.g. the database (Linux /proc; 0 elsewhere). */
import { readFileSync } from 'node:fs';

export function cpuMs(otherPid: number): { node: number; db: number } {
  const u = process.cpuUsage();
  let db: number;
  try {
    const fields = readFileSync(`/proc/${otherPid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    db = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    db = 0;
  }
  return { node: (u.user + u.system) / 1000, db };
}
