/**
 * When routing after the 250 runs: the background backlog, in arrival order, routed in batches. Two ways:
 * - During a burst (receiving(): mail coming in faster than judging keeps up with), one batch at a
 *   time, and accepting comes first: routing waits for a pause (at most yieldMs per batch, not at all
 *   once the backlog reaches forceBacklog), so judging (rspamd, mailauth: milliseconds of CPU per message
 *   on the same cores) does not slow the 250s.
 * - Otherwise every slot is filled (up to inFlight batches): a batch waiting on the engines or the
 *   database leaves the cores to the next one, and a message's placement waits neither for a pause of
 *   the receiver nor for a whole batch ahead of it (the time from 250 to placement).
 * The backlog is safe in the database (the journal's entries; recovery routes them after a crash).
 */
export interface RoutePumpOptions<T> {
  batchSize: number;
  inFlight: number;
  yieldMs: number;
  forceBacklog: number;
  /** Bytes of raw message an item keeps in memory (what the caller budgets with `bytes()`). */
  sizeOf: (item: T) => number;
  receiving: () => boolean;
  /** Routes one batch; a rejection is the caller's to report (the journal routes it again at recovery). */
  route: (batch: T[]) => Promise<void>;
  /** After a batch, routed or not. */
  settled: (batch: T[]) => void;
}

export function createRoutePump<T>(o: RoutePumpOptions<T>) {
  const backlog: T[] = [];
  let backlogBytes = 0;
  let pumping = 0;
  let timer: NodeJS.Timeout | null = null;
  let lastRouted = 0;

  function pump(): void {
    if (timer || !backlog.length || pumping >= o.inFlight) return;
    if (o.receiving() && backlog.length < o.forceBacklog) {
      if (pumping) return; // the batch in flight pumps again when it is done
      if (Date.now() - lastRouted < o.yieldMs) {
        timer = setTimeout(() => {
          timer = null;
          pump();
        }, 10);
        timer.unref?.();
        return;
      }
    }
    start();
    // Outside a burst, fill every slot: one finished batch pumps once, so without this a backlog was
    // routed one batch at a time however many slots there were.
    while (!o.receiving() && backlog.length && pumping < o.inFlight) start();
  }

  function start(): void {
    pumping++;
    const batch = backlog.splice(0, o.batchSize);
    for (const item of batch) backlogBytes -= o.sizeOf(item);
    o.route(batch).finally(() => {
      o.settled(batch);
      pumping--;
      lastRouted = Date.now();
      setImmediate(pump);
    });
  }

  return {
    push(item: T): void {
      backlogBytes += o.sizeOf(item);
      backlog.push(item);
      pump();
    },
    /** Raw bytes held by the waiting items. */
    bytes: () => backlogBytes,
    /** Batches being routed now. */
    inFlight: () => pumping,
    busy: () => backlog.length > 0 || pumping > 0,
  };
}
