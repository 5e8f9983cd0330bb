/** CPU time (ms) used so far by this process and by others, e.g. the database (Linux /proc; 0 elsewhere). */
import { readFileSync } from 'node:fs';

/** CPU time (ms) another process has used so far: utime + stime from /proc, in clock ticks of 10 ms. */
export function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

export function cpuMs(otherPid: number): { node: number; db: number } {
  const u = process.cpuUsage();
  return { node: (u.user + u.system) / 1000, db: processCpuMs(otherPid) };
}
