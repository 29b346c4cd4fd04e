import type { PaymentProvider } from '../../providers/payment-provider';
import type { Principal } from '../../shared/auth/jwt-verifier';
import type { Metrics } from '../../shared/metrics';
import { callProvider } from '../../shared/provider-call';
import { isMissingAtProvider, paymentMethodNotFound, providerError } from './payment-method.errors';
import { PAYMENT_METHOD_ID } from './payment-method.schemas';
import type { UserCustomers } from './user-customers';

/**
 * Detaches one of the caller's saved cards. The card is looked up first and must be on the caller's
 * customer: anyone else's card (or no card) is a 404, and the provider is never asked to detach it.
 */
export class DetachPaymentMethodUseCase {
  constructor(private readonly deps: { customers: UserCustomers; provider: PaymentProvider; metrics: Metrics }) {}

  async execute(actor: Principal, id: string): Promise<{ id: string }> {
    if (!PAYMENT_METHOD_ID.test(id)) throw paymentMethodNotFound();
    const customerId = await this.deps.customers.find(actor.userId);
    if (!customerId) throw paymentMethodNotFound();

    const { provider } = this.deps;
    const card = await this.call('retrieve_payment_method', () => provider.retrievePaymentMethod(id));
    if (card.customerId !== customerId) throw paymentMethodNotFound();
    // Keyed by the card: two concurrent deletes of it make one detach and get the same answer.
    await this.call('detach_payment_method', () => provider.detachPaymentMethod(id, { idempotencyKey: `${customerId}:${id}:detach` }));
    return { id };
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await callProvider(this.deps.metrics, operation, fn);
    } catch (err) {
      // Gone, or detached in between by another request: either way it is not the caller's card (any more).
      if (isMissingAtProvider(err, ['resource_missing', 'payment_method_unexpected_state'])) throw paymentMethodNotFound();
      throw providerError(err);
    }
  }
}
