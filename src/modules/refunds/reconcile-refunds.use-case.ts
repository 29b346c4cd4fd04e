import type { Sequelize } from 'sequelize';
import type { PaymentProvider } from '../../providers/payment-provider';
import { withTransaction } from '../../shared/db/database';
import { logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import type { OutboxRepository } from '../events';
import { callProvider } from '../../shared/provider-call';
import { serializePayment, type PaymentLedger } from '../payments';
import { applyRefundTotal } from './apply-refund-total';
import type { RefundReconcileQueueRepository } from './refund-reconcile-queue.repository';
import type { RefundRepository, RefundStatus } from './refund.repository';

/** One refund whose status reconcile found changed at the provider, and applied. */
export interface RefundDrift {
  refundId: string;
  paymentId: string;
  from: RefundStatus;
  to: RefundStatus;
}

export interface ReconcileRefundsResult {
  checked: number;
  /** Refunds the provider could not answer for: tried again after their backoff. */
  failed: number;
  drift: RefundDrift[];
}

/**
 * Refunds still `pending` (or `requires_action`) at the provider settle later, by `refund.updated` /
 * `refund.failed` webhooks (https://docs.stripe.com/refunds#refund-events). When those are missed the
 * refund would count against the payment forever; this re-reads each such refund and applies its
 * status the way the webhook would: the refund row, the payment's refunded total, and a
 * `refund.failed` event when it failed. No transaction is held across the provider call.
 */
export class ReconcileRefundsUseCase {
  constructor(
    private readonly deps: {
      sequelize: Sequelize;
      provider: PaymentProvider;
      metrics: Metrics;
      queue: RefundReconcileQueueRepository;
      refunds: RefundRepository;
      ledger: PaymentLedger;
      outbox: OutboxRepository;
    },
  ) {}

  /** `minAgeSeconds`: refunds untouched this long are re-read; `throttle` is awaited before each provider call. */
  async execute(options: { minAgeSeconds?: number; batchSize?: number; throttle?: () => Promise<void> } = {}): Promise<ReconcileRefundsResult> {
    const { minAgeSeconds = 600, batchSize = 50, throttle = async () => {} } = options;
    const candidates = await this.deps.queue.claimDue(minAgeSeconds, batchSize);
    let failed = 0;
    const drift: RefundDrift[] = [];
    for (const open of candidates) {
      try {
        await throttle();
        const answer = await callProvider(this.deps.metrics, 'retrieve_refund', () => this.deps.provider.retrieveRefund(open.providerRefundId));
        if (answer.status !== open.status) {
          await this.apply(open.id, answer);
          drift.push({ refundId: open.id, paymentId: open.paymentId, from: open.status, to: answer.status });
        }
        await this.deps.queue.resetIfSettled(open.id);
      } catch (err) {
        failed += 1;
        logger.warn('reconcile could not re-read a refund; it backs off', { refund_id: open.id, err });
      }
    }
    return { checked: candidates.length, failed, drift };
  }

  private apply(refundId: string, answer: { id: string; status: RefundStatus; amount: number; failureReason: string | null }): Promise<void> {
    return withTransaction(this.deps.sequelize, async (t) => {
      const refund = (await this.deps.refunds.findById(refundId, t))!;
      const payment = (await this.deps.ledger.lock(refund.paymentId, t))!;
      const row = await this.deps.refunds.upsertFromProvider(
        payment.id,
        {
          ourRefundId: refund.id,
          providerRefundId: answer.id,
          amount: refund.amount,
          currency: refund.currency,
          status: answer.status,
          reason: refund.reason,
          failureReason: answer.failureReason,
        },
        'reconcile',
        t,
      );
      const updated = await applyRefundTotal({ refunds: this.deps.refunds, payments: this.deps.ledger }, payment, { source: 'reconcile' }, t);
      if (row.status === 'failed' && refund.status !== 'failed') {
        await this.deps.outbox.append(
          'refund.failed',
          updated,
          { refund_id: row.id, provider_refund_id: row.providerRefundId, amount: row.amount, reason: row.failureReason, payment: serializePayment(updated) },
          t,
        );
      }
    });
  }
}
