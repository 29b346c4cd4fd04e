import { PollingWorker } from '../../shared/polling-worker';
import type { DeliverEventsUseCase } from './deliver-events.use-case';
import type { Delivery, DeliveryRepository } from './delivery.repository';

/**
 * Delivers the outbox: one polling worker per target, so each target progresses on its own and a
 * slow or dead receiver (a 5 s timeout, three tries) never holds up a healthy one. Within a target,
 * up to `concurrency` payments are delivered side by side; one payment's events go one at a time, in
 * order (the claim never hands out a later event while an earlier one is pending for that target,
 * on any replica). Deliveries for a target this replica does not have configured are left alone:
 * during a rolling update another replica may have it, and a target removed for good keeps its
 * rows `pending` (listed for admins) until it is configured again.
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
      // Settled, not all: one payment's failure (the database, say) must not abandon the others mid-flight.
      const results = await Promise.allSettled(
        byPayment(batch).map(async (mine) => {
          for (const delivery of mine) {
            // Stopping (SIGTERM): what is not started yet waits for its lease, delivered by another replica or after restart.
            if (stopping.aborted) break;
            await deliver.execute(delivery);
          }
        }),
      );
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
      return { handled: batch.length, more: batch.length > 0 };
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

/** Claimed deliveries grouped by payment, each group in sequence order (the claim gives one per payment; this keeps it safe if that changes). */
function byPayment(batch: Delivery[]): Delivery[][] {
  const groups = new Map<string, Delivery[]>();
  for (const d of batch) groups.set(d.event.aggregateId, [...(groups.get(d.event.aggregateId) ?? []), d]);
  return [...groups.values()];
}
