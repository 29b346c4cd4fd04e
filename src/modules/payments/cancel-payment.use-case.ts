import { ProviderRejectedError, type ProviderPaymentIntent } from '../../providers/payment-provider';
import type { Principal } from '../../shared/auth/jwt-verifier';
import { withTransaction } from '../../shared/db/database';
import type { IdempotencyRecord } from '../idempotency';
import { findVisiblePayment } from './find-payment';
import { providerFailure, unexpectedState } from './payment.errors';
import type { Payment } from './payment.model';
import { isCancelable } from './payment-status';
import type { PaymentsDeps } from './payments.deps';
import { callProvider } from '../../shared/provider-call';
import { SyncPaymentUseCase } from './sync-payment.use-case';
import { applyAtOnce, type AnswerFor } from './attach-at-once';

/** Cancels an open payment at the provider, then locally. */
export class CancelPaymentUseCase {
  private readonly sync: SyncPaymentUseCase;

  constructor(private readonly deps: PaymentsDeps) {
    this.sync = new SyncPaymentUseCase(deps);
  }

  /** `answer`: how the request answers, so phase 3 can store it under `idem` in its own statement (see `applyAtOnce`). */
  async execute(paymentId: string, actor: Principal, idem?: IdempotencyRecord, answer?: AnswerFor): Promise<Payment> {
    const payment = await findVisiblePayment(this.deps.payments, paymentId, actor);
    if (!idem?.resumed && !isCancelable(payment.status)) throw unexpectedState(payment, 'canceled');
    if (payment.status === 'canceled') return payment;

    if (!payment.providerPaymentId) return this.cancelLocally(payment);

    let intent: ProviderPaymentIntent;
    try {
      intent = await callProvider(this.deps.metrics, 'cancel_payment_intent', () =>
        this.deps.provider.cancelPaymentIntent(payment.providerPaymentId!, { idempotencyKey: `${payment.id}:cancel` }),
      );
    } catch (err) {
      if (err instanceof ProviderRejectedError && err.code === 'payment_intent_unexpected_state') {
        const synced = await this.sync.execute(payment.id, 'api');
        throw unexpectedState(synced, 'canceled');
      }
      throw providerFailure(err);
    }
    const done = await applyAtOnce(this.deps, payment, intent, 'api', answer && { record: idem, answer });
    if (done) return done;
    return withTransaction(this.deps.sequelize, async (t) => {
      const result = await this.deps.ledger.settleIntent(payment.id, intent, { source: 'api' }, t);
      if (result.outcome === 'refused') throw unexpectedState(result.payment, 'canceled');
      return result.payment;
    });
  }

  /** Creation never reached the provider: there is nothing to cancel there. */
  private cancelLocally(payment: Payment): Promise<Payment> {
    return withTransaction(this.deps.sequelize, async (t) => {
      const current = (await this.deps.payments.findById(payment.id, t, { lock: true }))!;
      const result = await this.deps.mover.move(current, 'canceled', { source: 'api' }, t);
      if (result.outcome === 'refused') throw unexpectedState(current, 'canceled');
      return result.payment;
    });
  }
}
