/**
 * A background loop that runs one pass at a time: a pass every `pollMs`, `wake()` for one now (a pass
 * already in flight is not doubled; the next follows it), and `stop()` waits for the pass in flight.
 * A failing pass is logged and the loop goes on.
 */
import type { Logger } from 'pino';

export interface PollLoop {
  /** Between start() and stop(): passes check it to end early when the loop is stopping. */
  readonly running: boolean;
  start(): void;
  stop(): Promise<void>;
  wake(): void;
}

export function createPollLoop(options: { pass: () => Promise<unknown>; pollMs: number; logger: Logger; failure: string }): PollLoop {
  let running = false;
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> | null = null;

  function schedule(delay: number): void {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      ticking ??= options
        .pass()
        .then(() => undefined)
        .catch((err) => options.logger.error({ err }, options.failure))
        .finally(() => {
          ticking = null;
          schedule(options.pollMs);
        });
    }, delay);
    timer.unref?.();
  }

  return {
    get running() {
      return running;
    },
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await ticking;
    },
    wake: () => schedule(0),
  };
}
