/**
 * Failed sign-in throttling, shared by admin and user sign-in. Failures are documents in the
 * database (so every process sees them and they survive restarts); a sweeper removes old ones
 * because FerretDB has no TTL indexes.
 */
import type { LoginFailureModel } from './model';

export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_ACCOUNT = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;

export function createLoginThrottle(deps: { failures: LoginFailureModel; now: () => Date }) {
  const { failures, now } = deps;

  /** Seconds until the key may try again, or 0 when it is under its limit. */
  async function wait(key: string, limit: number): Promise<number> {
    const since = new Date(now().getTime() - LOGIN_WINDOW_MS);
    const recent = await failures
      .find({ key, at: { $gte: since } })
      .sort({ at: 1 })
      .limit(limit)
      .lean();
    if (recent.length < limit) return 0;
    return Math.max(1, Math.ceil((recent[0].at.getTime() + LOGIN_WINDOW_MS - now().getTime()) / 1000));
  }

  return {
    /** Seconds to wait before this account may try again from this address (0: go ahead). */
    async retryAfter(accountKey: string, ip: string | null): Promise<number> {
      return Math.max(await wait(accountKey, MAX_FAILURES_PER_ACCOUNT), ip ? await wait(`address:${ip}`, MAX_FAILURES_PER_ADDRESS) : 0);
    },
    async recordFailure(accountKey: string, ip: string | null): Promise<void> {
      const at = now();
      await failures.insertMany([{ key: accountKey, at }, ...(ip ? [{ key: `address:${ip}`, at }] : [])]);
    },
    async clear(accountKey: string): Promise<void> {
      await failures.deleteMany({ key: accountKey });
    },
    async sweep(): Promise<number> {
      return (await failures.deleteMany({ at: { $lt: new Date(now().getTime() - LOGIN_WINDOW_MS) } })).deletedCount;
    },
  };
}
export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
