/**
 * Attempt throttling for admin sign-in, user sign-in and password resets. An attempt is counted
 * BEFORE its password or code is checked, by claiming a numbered slot (an insert under the unique
 * `_id` `<key>:<window>:<n>`): parallel requests cannot all slip under the limit, because only `limit`
 * inserts per key and window can succeed (FerretDB v1 has no atomic $inc under concurrency).
 *
 * Budgets (OWASP): per client address, per account *and* address, and per account from anywhere. The
 * account-wide budget is a ladder of progressive delays, not a hard lock: after `free` attempts, slot n
 * opens `baseDelayMs * 2^(n - free - 1)` after slot n-1 was taken, so a spray from many addresses slows
 * guessing down without locking the real user out for long, and an administrator can unlock the account.
 * Slots are documents (every process sees them, they survive restarts); a sweeper removes old ones.
 */
import { claimByInsert } from '../db/claims';
import type { AttemptSlotModel } from './model';

export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
/** Failed sign-ins one account may have from one address per window. */
export const MAX_FAILURES_PER_ACCOUNT = 5;
/** Failed sign-ins one address may have across all accounts per window. */
export const MAX_FAILURES_PER_ADDRESS = 20;
/** Sign-ins one account may have from all addresses per window; the ones past the first 10 are delayed. */
export const MAX_ATTEMPTS_ACCOUNT_WIDE = 20;
const ACCOUNT_WIDE_FREE = 10;
const ACCOUNT_WIDE_BASE_DELAY_MS = 1000;

export interface ThrottleRule {
  key: string;
  limit: number;
  windowMs?: number;
  /** Slots past `free` open progressively later in the window (none past `limit`). */
  free?: number;
  baseDelayMs?: number;
}

export type ThrottleClaim = { claimed: string[] } | { retryAfter: number };

/** The usual three budgets of an account `account` (e.g. admin:<email>) tried from `ip`. */
export function accountRules(account: string, ip: string | null, addressPrefix = 'address'): ThrottleRule[] {
  return [
    ...(ip ? [{ key: `${addressPrefix}:${ip}`, limit: MAX_FAILURES_PER_ADDRESS }] : []),
    { key: `${account}|${ip ?? '-'}`, limit: MAX_FAILURES_PER_ACCOUNT },
    { key: account, limit: MAX_ATTEMPTS_ACCOUNT_WIDE, free: ACCOUNT_WIDE_FREE, baseDelayMs: ACCOUNT_WIDE_BASE_DELAY_MS },
  ];
}

export function createLoginThrottle(deps: { slots: AttemptSlotModel; now: () => Date }) {
  const { slots, now } = deps;

  const opensAfter = (rule: ThrottleRule, n: number, windowMs: number) => {
    const free = rule.free ?? rule.limit;
    if (n <= free) return 0;
    return Math.min(windowMs, (rule.baseDelayMs ?? 1000) * 2 ** (n - free - 1));
  };

  /** Claims one slot of the rule's key: its id, or the seconds to wait before one opens. */
  async function claimOne(rule: ThrottleRule, account: string | null, t: number): Promise<string | number> {
    const windowMs = rule.windowMs ?? LOGIN_WINDOW_MS;
    const window = Math.floor(t / windowMs);
    const start = window * windowMs;
    // The count is only where to start looking: the insert decides (a stale count costs a duplicate).
    const taken = Math.min(await slots.countDocuments({ key: rule.key, window }), rule.limit);
    // From the count up, then the lower numbers a released (successful) attempt may have freed.
    // A full count is refused at once (a burst of refused requests costs one read each, no inserts).
    const order =
      taken >= rule.limit ? [] : [...Array.from({ length: rule.limit - taken }, (_, i) => taken + 1 + i), ...Array.from({ length: taken }, (_, i) => i + 1)];
    for (const n of order) {
      const delay = opensAfter(rule, n, windowMs);
      const previous = delay ? await slots.findById(`${rule.key}:${window}:${n - 1}`).lean() : null;
      const opensAt = (previous?.at.getTime() ?? start) + delay;
      if (opensAt > t) return Math.max(1, Math.ceil((opensAt - t) / 1000));
      const _id = `${rule.key}:${window}:${n}`;
      const owner = account && (rule.key === account || rule.key.startsWith(`${account}|`)) ? account : null;
      if (await claimByInsert(slots, { _id, key: rule.key, account: owner, window, at: new Date(t) })) return _id;
    }
    return Math.max(1, Math.ceil((start + windowMs - t) / 1000));
  }

  return {
    /**
     * Counts an attempt against every rule, in order (the address first: a refused request does not
     * spend the account's budget). Claimed slots stay claimed; `release` gives them back on success.
     */
    async claim(rules: ThrottleRule[], account: string | null = null): Promise<ThrottleClaim> {
      const t = now().getTime();
      const claimed: string[] = [];
      for (const rule of rules) {
        const slot = await claimOne(rule, account, t);
        if (typeof slot === 'number') return { retryAfter: slot };
        claimed.push(slot);
      }
      return { claimed };
    },
    /** A successful attempt does not count: its slots are freed, and the account's pair budgets reset. */
    async release(claim: ThrottleClaim, account: string | null): Promise<void> {
      if ('claimed' in claim && claim.claimed.length) await slots.deleteMany({ _id: { $in: claim.claimed } });
      if (account) await slots.deleteMany({ account, key: { $ne: account } });
    },
    /** Forgets every attempt on an account (an administrator unlocking it, or a completed reset). */
    async unlock(account: string): Promise<number> {
      return (await slots.deleteMany({ account })).deletedCount;
    },
    async sweep(): Promise<number> {
      return (await slots.deleteMany({ at: { $lt: new Date(now().getTime() - 2 * LOGIN_WINDOW_MS) } })).deletedCount;
    },
  };
}
export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
