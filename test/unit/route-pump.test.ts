/**
 * The routing pump: one batch at a time during a burst (the 250s come first), every slot filled
 * outside one. A finished batch used to start just one more, so a backlog built up during a burst was
 * then routed one batch at a time (bench:protect: batches strictly back to back, the cores a third idle).
 */
import { createRoutePump } from '../../server/mail/route-pump';

function setUp(options: { inFlight?: number; forceBacklog?: number } = {}) {
  let receiving = true;
  const running: { batch: number[]; finish: () => void }[] = [];
  const routed: number[][] = [];
  const pump = createRoutePump<number>({
    batchSize: 50,
    inFlight: options.inFlight ?? 3,
    yieldMs: 60_000,
    forceBacklog: options.forceBacklog ?? 2_000,
    sizeOf: () => 1,
    receiving: () => receiving,
    route: (batch) =>
      new Promise<void>((resolve) =>
        running.push({
          batch,
          finish: () => {
            running.splice(
              running.findIndex((r) => r.batch === batch),
              1,
            );
            routed.push(batch);
            resolve();
          },
        }),
      ),
    settled: () => {},
  });
  return {
    pump,
    running,
    routed,
    burstEnds: () => (receiving = false),
  };
}

// A finished batch pumps on the next turn of the event loop.
const turn = () => new Promise((resolve) => setTimeout(resolve, 5));

it('routes one batch at a time during a burst, then fills every slot', async () => {
  const { pump, running, burstEnds } = setUp();
  for (let n = 0; n < 201; n++) pump.push(n);
  // The first message started a batch; the rest wait while the burst goes on.
  expect(running.map((r) => r.batch.length)).toEqual([1]);
  burstEnds();
  running[0]!.finish();
  await turn();
  expect(pump.inFlight()).toBe(3);
  expect(running.map((r) => r.batch[0])).toEqual([1, 51, 101]);
});

it('routes every message once, in arrival order, and is idle after', async () => {
  const { pump, running, routed, burstEnds } = setUp({ inFlight: 2 });
  burstEnds();
  for (let n = 0; n < 120; n++) pump.push(n);
  while (running.length) {
    running[0]!.finish();
    await turn();
  }
  expect(routed.flat()).toEqual(Array.from({ length: 120 }, (_, n) => n));
  expect(pump.busy()).toBe(false);
  expect(pump.bytes()).toBe(0);
});

it('does not wait for a pause once the backlog is large', async () => {
  const { pump, running } = setUp({ forceBacklog: 100 });
  for (let n = 0; n < 150; n++) pump.push(n);
  running[0]!.finish();
  await turn();
  // Still receiving, but 149 wait (over 100): the next batch starts without waiting for the pause.
  expect(running.map((r) => r.batch.length)).toEqual([50]);
});
