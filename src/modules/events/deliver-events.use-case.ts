import { nextAttemptDelay } from '../../shared/backoff';
import { logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import type { Delivery, DeliveryRepository } from './delivery.repository';
import type { DeliveryTarget } from './targets/delivery-target';

/**
 * Delivers claimed events, at least once: a failure is retried with backoff and jitter; after the
 * last attempt the delivery is `dead` (listed for admins, counted in metrics, and re-sendable).
 */
export class DeliverEventsUseCase {
  constructor(
    private readonly deps: {
      deliveries: DeliveryRepository;
      targets: (name: string) => DeliveryTarget | undefined;
      metrics: Metrics;
      maxAttempts: number;
    },
  ) {}

  /**
   * Delivers a claimed batch of one target: its payments side by side, each payment's deliveries in
   * sequence order. Every delivery that went through is marked in ONE statement at the end (a
   * failure is recorded at once, with its backoff). A crash before that mark re-sends them after
   * their lease: at least once, as before. `stopping` (SIGTERM) leaves what has not started to its lease.
   */
  async executeBatch(batch: Delivery[], stopping?: AbortSignal): Promise<void> {
    const delivered: Delivery[] = [];
    // Settled, not all: one payment's failure (the database, say) must not abandon the others mid-flight.
    const results = await Promise.allSettled(
      byPayment(batch).map(async (mine) => {
        for (const delivery of mine) {
          if (stopping?.aborted) break;
          if (await this.attempt(delivery)) delivered.push(delivery);
        }
      }),
    );
    await this.deps.deliveries.markDelivered(delivered.map((d) => d.id));
    for (const d of delivered) this.deps.metrics.eventDeliveries.inc({ target: targetLabel(d.target), outcome: 'delivered' });
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** Delivers one claimed event; true when the target took it, false when the failure was recorded. */
  private async attempt(delivery: Delivery): Promise<boolean> {
    const target = this.deps.targets(delivery.target);
    try {
      if (!target) throw new Error(`Target ${delivery.target} is no longer configured`);
      await target.deliver(delivery.event);
      return true;
    } catch (err) {
      const dead = delivery.attempts >= this.deps.maxAttempts;
      const message = describe(err);
      await this.deps.deliveries.markFailed(delivery.id, dead ? 'dead' : 'pending', message, new Date(Date.now() + nextAttemptDelay(delivery.attempts)));
      this.deps.metrics.eventDeliveries.inc({ target: targetLabel(delivery.target), outcome: dead ? 'dead' : 'retrying' });
      const context = { event_id: delivery.event.id, target: delivery.target, attempts: delivery.attempts, error: message };
      if (dead) logger.error('event delivery dead after its last attempt', context);
      else logger.warn('event delivery failed; will retry', context);
      return false;
    }
  }
}

/** Claimed deliveries grouped by payment, each group in sequence order (the claim gives one per payment; this keeps it safe if that changes). */
function byPayment(batch: Delivery[]): Delivery[][] {
  const groups = new Map<string, Delivery[]>();
  for (const d of batch) groups.set(d.event.aggregateId, [...(groups.get(d.event.aggregateId) ?? []), d]);
  return [...groups.values()];
}

/** Webhook URLs may carry credentials; metrics get the kind of target only. */
const targetLabel = (target: string) => (target.startsWith('webhook:') ? 'webhook' : target);

function describe(err: unknown): string {
  const status = (err as { response?: { status?: number } }).response?.status;
  const message = err instanceof Error ? err.message : String(err);
  return status ? `HTTP ${status}: ${message}` : message;
}
