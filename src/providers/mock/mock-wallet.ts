import { ProviderRejectedError, type ListCardsOptions } from '../payment-provider';
import { testCardFor } from './mock-outcomes';
import type { MockTx } from './mock-store';
import { buildCardPaymentMethod, buildCustomer, buildSetupIntent, type StripeObject } from './stripe-objects';

/**
 * The mock's customers, SetupIntents and saved cards, Stripe-shaped, kept in the mock's store
 * (`mock_customers`, `mock_setup_intents`, `mock_payment_methods`). There is no browser to confirm a
 * SetupIntent with the mock, so a card is saved only by `setupSucceeded` (tests, through
 * MockProvider.simulateSetupSucceeded). Every function works inside the caller's transaction.
 */
export const MockWallet = {
  async createCustomer(tx: MockTx, userId: string): Promise<StripeObject> {
    const customer = buildCustomer(userId);
    await tx.insert('mock_customers', customer, null);
    return customer;
  },

  async createSetupIntent(tx: MockTx, customerId: string): Promise<StripeObject> {
    // A customer id the mock does not hold (one Stripe made, or older than the mock's tables) is taken as an empty customer.
    await tx.insert('mock_customers', { id: customerId, object: 'customer', metadata: {} }, null, { ifAbsent: true });
    const si = buildSetupIntent(customerId);
    await tx.insert('mock_setup_intents', si, customerId);
    return si;
  },

  /** A customer's cards, newest first, as Stripe lists them. */
  async listCards(tx: MockTx, customerId: string, options: ListCardsOptions): Promise<{ data: StripeObject[]; hasMore: boolean }> {
    const cards = (await tx.children('mock_payment_methods', customerId)).filter((pm) => pm.type === 'card').reverse();
    let start = 0;
    if (options.startingAfter) {
      start = cards.findIndex((pm) => pm.id === options.startingAfter) + 1;
      if (start === 0) throw missing('payment_method', options.startingAfter, 'starting_after');
    }
    return { data: cards.slice(start, start + options.limit), hasMore: start + options.limit < cards.length };
  },

  async retrievePaymentMethod(tx: MockTx, id: string, lock = false): Promise<StripeObject> {
    const pm = await tx.find('mock_payment_methods', id, { lock });
    if (!pm) throw missing('payment_method', id, 'payment_method');
    return pm;
  },

  async detachPaymentMethod(tx: MockTx, id: string): Promise<StripeObject> {
    const pm = await MockWallet.retrievePaymentMethod(tx, id, true);
    if (!pm.customer) {
      throw new ProviderRejectedError(
        'payment_method_unexpected_state',
        'The payment method you provided is not attached to a customer so detachment is impossible.',
      );
    }
    pm.customer = null;
    await tx.save('mock_payment_methods', pm, null);
    return pm;
  },

  /**
   * What Stripe.js confirming the SetupIntent with a card does: a new card PaymentMethod (its own
   * `pm_` id, the card of the test PaymentMethod given) attached to the intent's customer.
   */
  async setupSucceeded(tx: MockTx, setupIntentId: string, testPaymentMethod: string): Promise<StripeObject> {
    const si = await tx.find('mock_setup_intents', setupIntentId, { lock: true });
    if (!si) throw missing('setup_intent', setupIntentId, 'intent');
    if (si.status !== 'requires_payment_method') {
      throw new ProviderRejectedError('setup_intent_unexpected_state', `This SetupIntent's status is ${String(si.status)}`);
    }
    const card = testCardFor(testPaymentMethod);
    if (!card) throw missing('PaymentMethod', testPaymentMethod, 'payment_method');
    const customer = String(si.customer);
    const pm = buildCardPaymentMethod(customer, card);
    await tx.insert('mock_payment_methods', pm, customer);
    Object.assign(si, { status: 'succeeded', payment_method: pm.id });
    await tx.save('mock_setup_intents', si, customer);
    return pm;
  },
};

const missing = (what: string, id: string, param: string) =>
  new ProviderRejectedError('resource_missing', `No such ${what}: '${id}'`, param);
