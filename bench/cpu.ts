/** CPU time (ms) used so far by this process and by others, e.g. the database (Linux /proc; 0 elsewhere). */
import { readdirSync, readFileSync } from 'node:fs';

/** A process's parent, command name and CPU time (ms: utime + stime, in clock ticks of 10 ms) from /proc; null when gone. */
function readStat(pid: number | string): { ppid: number; comm: string; ms: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(') ') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')),
      ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100,
    };
  } catch {
    return null;
  }
}

/** CPU time (ms) another process has used so far (0 when unknown). */
export const processCpuMs = (pid: number): number => readStat(pid)?.ms ?? 0;

export function cpuMs(otherPid: number): { node: number; db: number } {
  const u = process.cpuUsage();
  return { node: (u.user + u.system) / 1000, db: processCpuMs(otherPid) };
}

/** CPU time (ms) used so far by this process and each of its descendants, summed by command name (Linux /proc). */
export function treeCpuMs(): Map<string, number> {
  const stats = new Map<number, { ppid: number; comm: string; ms: number }>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return new Map();
  }
  for (const d of pids) {
    const stat = readStat(d);
    if (stat) stats.set(Number(d), stat);
  }
  const totals = new Map<string, number>();
  for (const [pid, s] of stats) {
    let p = pid;
    for (let hops = 0; p && p !== process.pid && hops < 20; hops++) p = stats.get(p)?.ppid ?? 0;
    if (p !== process.pid) continue;
    const name = pid === process.pid ? 'node (this)' : s.comm;
    totals.set(name, (totals.get(name) ?? 0) + s.ms);
  }
  return totals;
}

/** The CPU each process (by name) used between two treeCpuMs() readings, per unit of work (e.g. per message). */
export function cpuPerUnit(before: Map<string, number>, after: Map<string, number>, units: number): string {
  return [...after]
    .map(([name, ms]) => [name, (ms - (before.get(name) ?? 0)) / units] as const)
    .filter(([, ms]) => ms > 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
    .join(', ');
}

/** The CPU (ms) all processes together used between two treeCpuMs() readings, per unit of work. */
export function cpuTotalPerUnit(before: Map<string, number>, after: Map<string, number>, units: number): number {
  return [...after].reduce((sum, [name, ms]) => sum + ms - (before.get(name) ?? 0), 0) / units;
}
