import { logger } from '../../shared/logger';
import type { CreatePaymentUseCase } from './create-payment.use-case';
import type { PaymentRepository } from './payment.repository';
import type { SyncPaymentUseCase } from './sync-payment.use-case';

/** Payments idle this long while open are checked against the provider. */
const IDLE_SECONDS = 10 * 60;
const BATCH = 50;

/**
 * The janitor (Kill Bill's "UNKNOWN" resolution): no payment stays pending because a webhook was
 * missed or a provider call never answered. Intents are re-read and applied; a create that never got
 * an answer is finished with the same provider idempotency key, so it cannot charge twice.
 */
export class ReconcilePaymentsUseCase {
  constructor(
    private readonly deps: { payments: PaymentRepository; sync: SyncPaymentUseCase; create: CreatePaymentUseCase },
  ) {}

  async execute(idleSeconds = IDLE_SECONDS): Promise<{ checked: number; failed: number }> {
    const stale = await this.deps.payments.findStaleOpen(idleSeconds, BATCH);
    let failed = 0;
    for (const payment of stale) {
      try {
        if (payment.providerPaymentId) await this.deps.sync.execute(payment.id, 'reconcile');
        else await this.deps.create.attachIntent(payment, 'reconcile');
      } catch (err) {
        failed += 1;
        logger.warn('reconcile could not settle a payment', { payment_id: payment.id, err });
      }
    }
    return { checked: stale.length, failed };
  }
}
