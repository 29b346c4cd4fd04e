import { reportError } from './http/error-handler';

/**
 * Runs `batch` (claim some due rows, handle them, return how many) off the request path: on a timer,
 * and at once on `poke()`. Passes never overlap; a poke during a pass schedules one more. Claims use
 * FOR UPDATE SKIP LOCKED, so every instance can run the same worker.
 */
export class PollingWorker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private again = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly batch: () => Promise<number>,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.poke(), this.intervalMs);
    this.timer.unref();
    this.poke();
  }

  poke(): void {
    if (!this.timer) return;
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

  /** Handles every due row, batch by batch; returns how many. Tests call this directly. */
  async drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      const count = await this.batch();
      if (count === 0) return handled;
      handled += count;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
