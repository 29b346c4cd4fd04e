import { reportError } from '../../shared/http/error-handler';
import type { ApplyWebhookEventUseCase } from './apply-webhook-event.use-case';
import type { WebhookEventRepository } from './webhook-event.repository';

const BATCH_SIZE = 20;

/**
 * Applies stored events off the request path. Claims use FOR UPDATE SKIP LOCKED, so any number of
 * instances can run a worker. `poke()` runs a pass at once (after an ingest); a timer catches the rest
 * (retries coming due, events from a crashed instance).
 */
export class WebhookWorker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private again = false;

  constructor(
    private readonly events: WebhookEventRepository,
    private readonly apply: ApplyWebhookEventUseCase,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.poke(), this.intervalMs);
    this.timer.unref();
    this.poke();
  }

  /** Runs a pass soon; passes never overlap, and a poke during a pass schedules one more. */
  poke(): void {
    if (!this.timer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err) => {
        reportError(err, { worker: 'webhooks' });
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

  /** Applies every due event, batch by batch; returns how many were handled. Tests call this directly. */
  async drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      const batch = await this.events.claimDue(BATCH_SIZE);
      if (batch.length === 0) return handled;
      for (const event of batch) await this.apply.execute(event);
      handled += batch.length;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
