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

  async execute(delivery: Delivery): Promise<void> {
    const target = this.deps.targets(delivery.target);
    try {
      if (!target) throw new Error(`Target ${delivery.target} is no longer configured`);
      await target.deliver(delivery.event);
      await this.deps.deliveries.markDelivered(delivery.id);
      this.deps.metrics.eventDeliveries.inc({ target: targetLabel(delivery.target), outcome: 'delivered' });
    } catch (err) {
      const dead = delivery.attempts >= this.deps.maxAttempts;
      const message = describe(err);
      await this.deps.deliveries.markFailed(delivery.id, dead ? 'dead' : 'pending', message, new Date(Date.now() + nextAttemptDelay(delivery.attempts)));
      this.deps.metrics.eventDeliveries.inc({ target: targetLabel(delivery.target), outcome: dead ? 'dead' : 'retrying' });
      const context = { event_id: delivery.event.id, target: delivery.target, attempts: delivery.attempts, error: message };
      if (dead) logger.error('event delivery dead after its last attempt', context);
      else logger.warn('event delivery failed; will retry', context);
    }
  }
}

/** Webhook URLs may carry credentials; metrics get the kind of target only. */
const targetLabel = (target: string) => (target.startsWith('webhook:') ? 'webhook' : target);

function describe(err: unknown): string {
  const status = (err as { response?: { status?: number } }).response?.status;
  const message = err instanceof Error ? err.message : String(err);
  return status ? `HTTP ${status}: ${message}` : message;
}
