import { withTransaction } from '../../shared/db/database';
import { providerFailure } from './payment.errors';
import type { Payment } from './payment.model';
import type { MoveSource } from './payment-status';
import type { PaymentsDeps } from './payments.deps';
import { callProvider } from '../../shared/provider-call';

/**
 * Fetches the PaymentIntent and applies what the provider says: used when our view and the provider's
 * disagree (a refused confirm, a contradicting webhook, the reconcile job).
 */
export class SyncPaymentUseCase {
  constructor(private readonly deps: Pick<PaymentsDeps, 'sequelize' | 'payments' | 'ledger' | 'provider' | 'metrics'>) {}

  async execute(paymentId: string, source: MoveSource, eventId?: string): Promise<Payment> {
    const payment = await this.deps.payments.findById(paymentId);
    if (!payment?.providerPaymentId) return payment!;
    const intent = await callProvider(this.deps.metrics, 'retrieve_payment_intent', () =>
      this.deps.provider.retrievePaymentIntent(payment.providerPaymentId!),
    ).catch((err) => {
      throw providerFailure(err);
    });
    return withTransaction(this.deps.sequelize, async (t) => (await this.deps.ledger.settleIntent(paymentId, intent, { source, eventId }, t)).payment);
  }
}
