import { randomUUID } from 'node:crypto';
import { ProviderDeclinedError, ProviderRejectedError, type ProviderPaymentIntent } from '../../providers/payment-provider';
import type { Principal } from '../../shared/auth/jwt-verifier';
import { withTransaction } from '../../shared/db/database';
import type { IdempotencyRecord } from '../idempotency';
import { findVisiblePayment } from './find-payment';
import { declineError, providerFailure, unexpectedState } from './payment.errors';
import type { Payment } from './payment.model';
import { isConfirmable } from './payment-status';
import type { PaymentsDeps } from './payments.deps';
import { callProvider } from '../../shared/provider-call';
import { recordDeclineWithoutIntent } from './record-decline';
import { savedCardCustomer } from './payment-customer';
import { AppError } from '../../shared/errors';
import { SyncPaymentUseCase } from './sync-payment.use-case';
import { claimOrderForConfirm } from './order-payment-guard';
import { logger } from '../../shared/logger';
import { applyAtOnce, type AnswerFor } from './attach-at-once';

/**
 * Server-side confirm with a PaymentMethod. A failed payment may be retried with another method.
 * Refused with 409 `order_already_paid` when another payment of its order is processing, paid, or
 * being confirmed (see `claimOrderForConfirm`).
 */
export class ConfirmPaymentUseCase {
  private readonly sync: SyncPaymentUseCase;

  constructor(private readonly deps: PaymentsDeps) {
    this.sync = new SyncPaymentUseCase(deps);
  }

  /** `answer`: how the request answers, so phase 3 can store it under `idem` in its own statement (see `applyAtOnce`). */
  async execute(paymentId: string, paymentMethod: string, actor: Principal, idem?: IdempotencyRecord, answer?: AnswerFor): Promise<Payment> {
    const payment = await findVisiblePayment(this.deps.payments, paymentId, actor);
    // A retry under the same key replays the provider call (same provider key) whatever happened since.
    if (!idem?.resumed && !isConfirmable(payment.status)) throw unexpectedState(payment, 'confirmed');
    if (!payment.providerPaymentId) throw unexpectedState(payment, 'confirmed before its creation finished');
    await this.checkSavedCard(payment, paymentMethod);
    // One order, one charge: another payment of the order already took (or is taking) the money.
    // Without an order there is nothing to claim: no empty transaction (2 round trips) for it.
    if (payment.orderId) await withTransaction(this.deps.sequelize, (t) => claimOrderForConfirm(this.deps.payments, payment, t));
    try {
      const confirmed = await this.confirmAtProvider(payment, paymentMethod, idem, answer);
      await this.endClaim(payment);
      return confirmed;
    } catch (err) {
      // An unknown outcome (5xx, timeout) may have charged: the claim stays until its lease ends.
      if (err instanceof AppError && err.status < 500) await this.endClaim(payment);
      throw err;
    }
  }

  private async endClaim(payment: Payment): Promise<void> {
    if (!payment.orderId) return;
    await this.deps.payments.setConfirmClaim(payment.id, null).catch((err) => logger.warn('confirm claim not ended; its lease ends it', { err }));
  }

  /** Phase 2 (the provider call, no transaction open) and phase 3 (its result committed). */
  private async confirmAtProvider(payment: Payment, paymentMethod: string, idem?: IdempotencyRecord, answer?: AnswerFor): Promise<Payment> {
    const idempotencyKey = `${payment.id}:confirm:${idem ? `k${idem.id}` : randomUUID()}`;
    let intent: ProviderPaymentIntent;
    let declined: ProviderDeclinedError | undefined;
    try {
      intent = await callProvider(this.deps.metrics, 'confirm_payment_intent', () =>
        this.deps.provider.confirmPaymentIntent(payment.providerPaymentId!, paymentMethod, { idempotencyKey }),
      );
    } catch (err) {
      if (err instanceof ProviderRejectedError && err.code === 'payment_intent_unexpected_state') {
        const synced = await this.sync.execute(payment.id, 'api');
        throw unexpectedState(synced, 'confirmed');
      }
      if (err instanceof ProviderDeclinedError && !err.intent) {
        throw declineError(await recordDeclineWithoutIntent(this.deps, payment.id, err, 'api'), err);
      }
      if (!(err instanceof ProviderDeclinedError && err.intent)) throw providerFailure(err);
      declined = err;
      intent = err.intent;
    }

    // One statement when the row is as read and the move plain (see `applyAtOnce`); else locked.
    const done = declined ? null : await applyAtOnce(this.deps, payment, intent, 'api', answer && { record: idem, answer });
    if (done) return done;
    const saved = await withTransaction(this.deps.sequelize, async (t) => (await this.deps.ledger.settleIntent(payment.id, intent, { source: 'api' }, t)).payment);
    if (declined) throw declineError(saved, declined);
    return saved;
  }

  /**
   * A saved card pays only its owner's payment (404 otherwise), and only one made for their customer:
   * Stripe charges a saved card only on an intent with its customer, which confirm cannot add.
   */
  private async checkSavedCard(payment: Payment, paymentMethod: string): Promise<void> {
    const customer = await savedCardCustomer(this.deps, paymentMethod, payment.userId);
    if (customer && payment.providerCustomerId !== customer) {
      throw new AppError(
        'parameter_invalid',
        'A saved card can pay only a payment created for your customer: create a payment with this payment_method instead',
        { param: 'payment_method' },
      );
    }
  }
}
