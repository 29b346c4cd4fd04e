import { ProviderRejectedError, type ListCardsOptions } from '../payment-provider';
import { testCardFor } from './mock-outcomes';
import { buildCardPaymentMethod, buildCustomer, buildSetupIntent, type StripeObject } from './stripe-objects';

/**
 * The mock's customers, SetupIntents and saved cards, in memory and Stripe-shaped. There is no
 * browser to confirm a SetupIntent with the mock, so a card is saved only by `setupSucceeded`
 * (tests, through MockProvider.simulateSetupSucceeded).
 */
export class MockWallet {
  private readonly customers = new Map<string, StripeObject>();
  private readonly setupIntents = new Map<string, StripeObject>();
  // Insertion order is creation order; lists read it backwards, newest first, as Stripe's do.
  private readonly paymentMethods = new Map<string, StripeObject>();

  createCustomer(userId: string): StripeObject {
    const customer = buildCustomer(userId);
    this.customers.set(customer.id, customer);
    return customer;
  }

  createSetupIntent(customerId: string): StripeObject {
    this.adoptCustomer(customerId);
    const si = buildSetupIntent(customerId);
    this.setupIntents.set(si.id, si);
    return si;
  }

  listCards(customerId: string, options: ListCardsOptions): { data: StripeObject[]; hasMore: boolean } {
    const cards = [...this.paymentMethods.values()].filter((pm) => pm.customer === customerId && pm.type === 'card').reverse();
    let start = 0;
    if (options.startingAfter) {
      start = cards.findIndex((pm) => pm.id === options.startingAfter) + 1;
      if (start === 0) throw missing('payment_method', options.startingAfter, 'starting_after');
    }
    const page = cards.slice(start, start + options.limit);
    return { data: page, hasMore: start + options.limit < cards.length };
  }

  retrievePaymentMethod(id: string): StripeObject {
    const pm = this.paymentMethods.get(id);
    if (!pm) throw missing('payment_method', id, 'payment_method');
    return pm;
  }

  detachPaymentMethod(id: string): StripeObject {
    const pm = this.retrievePaymentMethod(id);
    if (!pm.customer) {
      throw new ProviderRejectedError(
        'payment_method_unexpected_state',
        'The payment method you provided is not attached to a customer so detachment is impossible.',
      );
    }
    pm.customer = null;
    return pm;
  }

  /**
   * What Stripe.js confirming the SetupIntent with a card does: a new card PaymentMethod (its own
   * `pm_` id, the card of the test PaymentMethod given) attached to the intent's customer.
   */
  setupSucceeded(setupIntentId: string, testPaymentMethod: string): StripeObject {
    const si = this.setupIntents.get(setupIntentId);
    if (!si) throw missing('setup_intent', setupIntentId, 'intent');
    if (si.status !== 'requires_payment_method') {
      throw new ProviderRejectedError('setup_intent_unexpected_state', `This SetupIntent's status is ${String(si.status)}`);
    }
    const card = testCardFor(testPaymentMethod);
    if (!card) throw missing('PaymentMethod', testPaymentMethod, 'payment_method');
    const pm = buildCardPaymentMethod(String(si.customer), card);
    this.paymentMethods.set(pm.id, pm);
    Object.assign(si, { status: 'succeeded', payment_method: pm.id });
    return pm;
  }

  /**
   * A customer id the mock does not hold is taken as an empty customer: the mock forgets on restart
   * while the service keeps its customer ids in the database (as `adopt` does for intents).
   */
  private adoptCustomer(id: string): void {
    if (!this.customers.has(id)) this.customers.set(id, { id, object: 'customer', metadata: {} });
  }
}

const missing = (what: string, id: string, param: string) =>
  new ProviderRejectedError('resource_missing', `No such ${what}: '${id}'`, param);
