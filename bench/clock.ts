/**
 * The time base the benchmarks share between their processes: CLOCK_MONOTONIC in ms (process.hrtime),
 * which on Linux is one clock for every process of the machine, never stepped by NTP and finer than
 * Date.now()'s whole milliseconds. A wall-clock instant (a scheduled event start) is turned into it
 * with `fromWallClock`, sampled once (±1 ms, Date.now's resolution).
 */
export const sharedNow = (): number => Number(process.hrtime.bigint()) / 1e6;

/** The shared-clock time of a wall-clock instant (ms since the epoch). */
export const fromWallClock = (wallMs: number): number => sharedNow() + (wallMs - Date.now());
