/**
 * A background loop whose passes never overlap and whose pass says when the next one is due. `wake()` asks
 * for a pass now; one asked for while a pass runs follows right after it, since what it was woken for may
 * have come too late for the pass in flight (poll-loop.ts instead lets such a wake wait for the next poll).
 * `stop()` waits for the pass in flight. A pass must not reject: it logs its own failure and says when to retry.
 */
export interface SerialLoop {
  /** Between start() and stop(): passes check it to end early when the loop is stopping. */
  readonly running: boolean;
  start(): void;
  wake(): void;
  stop(): Promise<void>;
}

export function createSerialLoop(pass: () => Promise<number>): SerialLoop {
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let inFlight: Promise<void> | null = null;
  let again = false;

  function schedule(delay: number): void {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, delay);
  }

  function run(): void {
    timer = null;
    if (!running) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = pass().then((delay) => {
      inFlight = null;
      if (again) {
        again = false;
        run();
      } else schedule(delay);
    });
  }

  return {
    get running() {
      return running;
    },
    start(): void {
      if (running) return;
      running = true;
      run();
    },
    wake(): void {
      if (running) schedule(0);
    },
    async stop(): Promise<void> {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await inFlight;
    },
  };
}
