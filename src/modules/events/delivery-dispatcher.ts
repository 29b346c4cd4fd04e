import { PollingWorker } from '../../shared/polling-worker';
import type { DeliverEventsUseCase } from './deliver-events.use-case';
import type { DeliveryRepository } from './delivery.repository';

/**
 * Delivers the outbox: one polling worker per target, so each target progresses on its own and a
 * slow or dead receiver (a 5 s timeout, three tries) never holds up a healthy one. Within a target,
 * up to `concurrency` payments are delivered side by side; one payment's events go one at a time, in
 * order (the claim never hands out a later event while an earlier one is pending for that target,
 * on any replica). Deliveries for a target this replica does not have configured are left alone:
 * during a rolling update another replica may have it, and a target removed for good keeps its
 * rows `pending` (listed for admins) until it is configured again.
 *
 * Woken by the outbox after a commit that appended events (`poke()`), so delivery starts within
 * milliseconds; the timer (`intervalMs`) stays for retries coming due, expired leases and events
 * another replica wrote. A short batch with nothing queued behind it ends the pass.
 *
 * Same surface as a PollingWorker (start, poke, drain, stop), so the composition root and the
 * shutdown path treat it as one.
 */
export class DeliveryDispatcher {
  private readonly workers = new Map<string, PollingWorker>();

  constructor(deps: {
    deliveries: DeliveryRepository;
    deliver: DeliverEventsUseCase;
    /** The configured target names (`stream`, `order_service`, `webhook:<url>`). */
    targets: string[];
    intervalMs: number;
    /** Deliveries of one target in flight at once (each for a different payment). */
    concurrency: number;
  }) {
    const { deliveries, deliver, concurrency } = deps;
    const pass = (target: string) => async (stopping: AbortSignal) => {
      const batch = await deliveries.claimDue(concurrency, target);
      if (batch.length > 0) await deliver.executeBatch(batch, stopping);
      // A short batch with nothing queued behind it: no claim again until a poke or the timer.
      return { handled: batch.length, more: batch.length === concurrency || batch.some((d) => d.followers) };
    };
    deps.targets.forEach((target, i) => {
      // Worker names reach logs: a webhook URL may carry credentials, so it gets a number instead.
      const label = target.startsWith('webhook:') ? `webhook#${i}` : target;
      this.workers.set(target, new PollingWorker(`outbox:${label}`, deps.intervalMs, pass(target)));
    });
  }

  start(): void {
    for (const worker of this.workers.values()) worker.start();
  }

  poke(): void {
    for (const worker of this.workers.values()) worker.poke();
  }

  /** Delivers every due event to every target (each target drained on its own); returns how many deliveries were handled. */
  async drain(): Promise<number> {
    const counts = await Promise.all([...this.workers.values()].map((w) => w.drain()));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Drains one target only (an admin re-send waits for its own target, not for a slow other one). */
  async drainTarget(target: string): Promise<number> {
    return (await this.workers.get(target)?.drain()) ?? 0;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
  }
}
