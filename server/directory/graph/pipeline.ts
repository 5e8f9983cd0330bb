/**
 * Writes run one after another in the background while the sync fetches the next Graph page, at
 * most `depth` waiting (then the fetch waits); the first failure is thrown by the next push or by
 * drain, never left as an unhandled rejection.
 */
export function pipeline(depth: number) {
  let tail: Promise<void> = Promise.resolve();
  let waiting = 0;
  let failure: unknown = null;
  const check = () => {
    if (failure) throw failure;
  };
  return {
    async push(write: () => Promise<unknown>): Promise<void> {
      check();
      waiting++;
      tail = tail.then(async () => {
        try {
          if (!failure) await write();
        } catch (err) {
          failure ??= err;
        } finally {
          waiting--;
        }
      });
      if (waiting > depth) await tail;
      check();
    },
    /** Every write done; throws the first failure. */
    async drain(): Promise<void> {
      await tail;
      check();
    },
    /** Every write done, failed or not. */
    async settled(): Promise<void> {
      await tail;
    },
  };
}
