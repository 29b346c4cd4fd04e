import { reportError } from './http/error-handler';

/** What one pass did: how many rows it handled, and whether more are known to be due right now. */
export interface BatchResult {
  handled: number;
  /**
   * True when the pass knows of more due rows (it claimed a full batch, or rows it handled had later
   * ones queued behind them). False ends the drain without another claim just to find nothing; rows
   * that come due later arrive by `poke()` or the timer.
   */
  more: boolean;
}

/**
 * One pass of a worker: claim some due rows, handle them, say how many and whether more are due.
 * `busy` is true when pokes arrived during the previous pass (requests are coming in): a batch may
 * then use fewer connections. `signal` is aborted when the worker is stopping: a batch checks it
 * between items and returns early, leaving what it has not started to its claim lease (another
 * instance, or this one after a restart, takes it up).
 */
export type WorkerBatch = (signal: AbortSignal, busy: boolean) => Promise<BatchResult>;

/**
 * Runs `batch` off the request path: on a timer, and at once on `poke()`. Passes never overlap; a poke
 * during a pass schedules one more, and a drain ends when a pass reports no more due rows. Claims
 * use FOR UPDATE SKIP LOCKED, so every instance can run the same worker. `stop()` lets the item in
 * hand finish and starts no other (SIGTERM drain).
 */
export class PollingWorker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private again = false;
  private stopping = new AbortController();
  /** Set by every poke of a started worker: work is arriving (the request path is busy). */
  private poked = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly batch: WorkerBatch,
    /**
     * Pause (ms) between passes of a drain while pokes keep arriving, 0 for none. Background work
     * then takes a bounded share of the two cores from the requests that poke it, and catches up
     * at full speed once they stop (a backlog instead of slower answers).
     */
    private readonly busyPauseMs = 0,
  ) {}

  start(): void {
    if (this.timer) return;
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    this.timer = setInterval(() => this.poke(), this.intervalMs);
    this.timer.unref();
    this.poke();
  }

  poke(): void {
    if (!this.timer) return;
    this.poked = true;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err) => {
        reportError(err, { worker: this.name });
        return 0;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  /**
   * Handles every due row, batch by batch, until none is left or the worker is stopping; returns how
   * many. Tests and admin routes call this directly.
   */
  async drain(): Promise<number> {
    const signal = this.stopping.signal;
    let handled = 0;
    let busy = false;
    while (!signal.aborted) {
      this.poked = false;
      const pass = await this.batch(signal, busy);
      busy = this.poked;
      handled += pass.handled;
      if (pass.handled === 0 || !pass.more) break;
      if (this.poked && this.busyPauseMs > 0) await pause(this.busyPauseMs, signal);
    }
    return handled;
  }

  /** Stops between items: the item in hand finishes, no other starts; resolves when the pass has ended. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.again = false;
    this.stopping.abort();
    await this.running;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (a stopping worker does not wait out a pause). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
