import { logger } from '../../shared/logger';
import type { CreatePaymentUseCase } from './create-payment.use-case';
import type { PaymentStatus } from './payment-status';
import type { ReconcileQueueRepository } from './reconcile-queue.repository';
import type { SyncPaymentUseCase } from './sync-payment.use-case';

/** How a reconcile pass runs; the job passes the configured values (RECONCILE_*). */
export interface ReconcileOptions {
  /** Open payments untouched this long (seconds) are checked; default 600. */
  minAgeSeconds?: number;
  /** At most this many payments per pass; default 50. */
  batchSize?: number;
  /** Awaited before every provider call: keeps the pass under the provider's rate limit. */
  throttle?: () => Promise<void>;
}

/** One difference reconcile found between our row and the provider, and fixed. */
export interface PaymentDrift {
  paymentId: string;
  from: PaymentStatus;
  to: PaymentStatus;
  /** True when the PaymentIntent was only now attached (its create never got an answer). */
  intentAttached: boolean;
}

export interface ReconcilePaymentsResult {
  checked: number;
  /** Candidates the provider could not answer for: tried again after their backoff. */
  failed: number;
  drift: PaymentDrift[];
}

/**
 * The janitor (Kill Bill's "UNKNOWN" resolution): no payment stays pending because a webhook was
 * missed or a provider call never answered. Intents are re-read and applied; a create that never got
 * an answer is finished with the same provider idempotency key, so it cannot charge twice. Every
 * candidate taken is pushed back (exponential backoff) unless it settles, so what cannot be settled
 * never starves the rest.
 */
export class ReconcilePaymentsUseCase {
  constructor(
    private readonly deps: { queue: ReconcileQueueRepository; sync: SyncPaymentUseCase; create: CreatePaymentUseCase },
  ) {}

  async execute(options: ReconcileOptions = {}): Promise<ReconcilePaymentsResult> {
    const { minAgeSeconds = 600, batchSize = 50, throttle = async () => {} } = options;
    const candidates = await this.deps.queue.claimDue(minAgeSeconds, batchSize);
    let failed = 0;
    const drift: PaymentDrift[] = [];
    for (const payment of candidates) {
      try {
        await throttle();
        const after = payment.providerPaymentId
          ? await this.deps.sync.execute(payment.id, 'reconcile')
          : await this.deps.create.attachIntent(payment, 'reconcile');
        if (after.status !== payment.status || !payment.providerPaymentId) {
          drift.push({ paymentId: payment.id, from: payment.status, to: after.status, intentAttached: !payment.providerPaymentId });
        }
        await this.deps.queue.resetIfSettled(payment.id);
      } catch (err) {
        failed += 1;
        logger.warn('reconcile could not settle a payment; it backs off', { payment_id: payment.id, err });
      }
    }
    return { checked: candidates.length, failed, drift };
  }
}
