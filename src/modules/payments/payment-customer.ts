import { ProviderRejectedError } from '../../providers/payment-provider';
import type { Principal } from '../../shared/auth/jwt-verifier';
import { notFound } from '../../shared/errors';
import { providerFailure } from './payment.errors';
import type { CreatePaymentBody } from './payment.schemas';
import type { PaymentsDeps } from './payments.deps';
import { callProvider } from '../../shared/provider-call';

/**
 * Stripe's test PaymentMethod tokens (`pm_card_visa`, `pm_usBankAccount_success`, ...): fixed names
 * with an underscore after the kind, never a customer's saved card, whose ids are `pm_` + random
 * alphanumerics (https://docs.stripe.com/testing#cards). They skip the ownership look-up.
 */
const TEST_TOKEN = /^pm_[A-Za-z0-9]+_/;

/**
 * The provider customer a new payment is made for, or null.
 *
 * - `payment_method` is a card saved on a customer: it must be the caller's own customer (anyone
 *   else's card, like an unknown one, answers 404 `resource_missing` with param `payment_method`,
 *   and no payment is created); the intent is then made for that customer, as Stripe requires to
 *   charge a saved card (https://docs.stripe.com/payments/save-and-reuse).
 * - `setup_future_usage` is set: the caller's customer, created on first need, so the card paid with
 *   is saved on it (https://docs.stripe.com/payments/save-during-payment).
 *
 * Provider faults map as for payments (503/504, retryable). Called before any transaction is open.
 */
export async function customerForPayment(deps: PaymentsDeps, input: CreatePaymentBody, actor: Principal): Promise<string | null> {
  if (!deps.customers) return null;
  const saved = input.payment_method ? await savedCardCustomer(deps, input.payment_method, actor.userId) : null;
  if (saved) return saved;
  return input.setup_future_usage ? deps.customers.ensure(actor.userId) : null;
}

/** True when `customerForPayment` answers null without a look-up (no provider call, no database read). */
export function customerIsLocal(deps: PaymentsDeps, input: CreatePaymentBody): boolean {
  if (!deps.customers) return true;
  return !input.setup_future_usage && (!input.payment_method || TEST_TOKEN.test(input.payment_method));
}

/**
 * For a saved card (`pm_` + random, not a test token): the customer it is saved on, which must be
 * `ownerUserId`'s; anyone else's card, or one the provider does not know, is a 404 `resource_missing`
 * with param `payment_method`. Null for a test token or a card on no customer (the provider decides).
 */
export async function savedCardCustomer(deps: PaymentsDeps, paymentMethod: string, ownerUserId: string): Promise<string | null> {
  const { customers, provider, metrics } = deps;
  if (!customers || TEST_TOKEN.test(paymentMethod)) return null;
  const card = await callProvider(metrics, 'retrieve_payment_method', () => provider.retrievePaymentMethod(paymentMethod)).catch(
    (err: unknown) => {
      if (err instanceof ProviderRejectedError && err.code === 'resource_missing') return null;
      throw providerFailure(err);
    },
  );
  if (!card) throw notFound('payment method', 'payment_method');
  if (!card.customerId) return null;
  const own = await customers.find(ownerUserId);
  if (card.customerId !== own) throw notFound('payment method', 'payment_method');
  return own;
}
