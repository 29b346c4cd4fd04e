import { expect } from 'chai';
import { PollingWorker, type BatchResult } from '../../src/shared/polling-worker';

const ticks = async (n = 5) => {
  for (let i = 0; i < n; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

/** A worker whose passes each report more work; `during` runs inside every pass. */
function worker(busyPauseMs: number, during: (w: PollingWorker) => void) {
  let passes = 0;
  const w: PollingWorker = new PollingWorker(
    'test',
    3_600_000,
    async (): Promise<BatchResult> => {
      await ticks(1); // a real pass awaits the database before anything else happens
      passes += 1;
      during(w);
      return { handled: 1, more: passes < 3 };
    },
    busyPauseMs,
  );
  return { w, passes: () => passes };
}

describe('PollingWorker: passes, pokes and the pause while busy', () => {
  it('when a pass reports no more work, then the drain ends without another pass (no empty claim)', async () => {
    let passes = 0;
    const w = new PollingWorker('test', 3_600_000, async () => {
      passes += 1;
      return { handled: 4, more: false };
    });
    expect(await w.drain()).to.equal(4);
    expect(passes).to.equal(1);
  });

  it('when pokes arrive during a pass of a started worker, then the next pass waits out the pause; stopping ends the pause at once', async () => {
    const { w, passes } = worker(3_600_000, (self) => self.poke());
    w.start();
    await ticks(20);
    expect(passes(), 'the second pass waits while the requests keep poking').to.equal(1);
    await w.stop();
    expect(passes()).to.equal(1);
  });

  it('when nothing pokes during the passes, then they run back to back', async () => {
    const { w, passes } = worker(3_600_000, () => undefined);
    w.start();
    await ticks(20);
    await w.stop();
    expect(passes()).to.equal(3);
  });
});
