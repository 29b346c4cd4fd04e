import type { CreateIntentInput, PaymentError } from '../payment-provider';
import { outcomeForPaymentMethod, testCardFor, type MockOutcome } from './mock-outcomes';
import type { MockTx } from './mock-store';
import { MockWallet } from './mock-wallet';
import type { StripeObject } from './stripe-objects';

/**
 * What the mock adds for a checkout page: a 3-D Secure step a person can complete or fail, cards
 * saved while paying (`setup_future_usage`), and paying again with a saved card. Stripe does each of
 * these in test mode; the mock does them in its own tables, with the same objects and events.
 */

/** Where the service serves the mock's 3-D Secure page (`/mock/3ds/:payment_intent`), like Stripe's hosted test page. */
export const MOCK_3DS_PATH = '/mock/3ds';

/** What the person chose on the mock 3-D Secure page. */
export type AuthenticationOutcome = 'complete' | 'fail';

/**
 * Stripe's answer when the customer fails 3-D Secure: the intent goes back to
 * requires_payment_method with this error (https://docs.stripe.com/payments/3d-secure#when-to-use-3d-secure).
 */
export const AUTHENTICATION_FAILURE: PaymentError = {
  code: 'payment_intent_authentication_failure',
  message: 'We are unable to authenticate your payment method. Please choose a different payment method and try again.',
};

/**
 * `next_action` as Stripe sends it for a card needing 3-D Secure when confirmed server-side without a
 * `return_url`: `use_stripe_sdk`, whose `stripe_js` is the page Stripe.js shows in a frame. The mock's
 * page is relative to the service's own URL; the browser adds `?client_secret=...`.
 */
export function mockAuthenticationAction(pi: StripeObject): Record<string, unknown> {
  return {
    type: 'use_stripe_sdk',
    use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: `${MOCK_3DS_PATH}/${pi.id}` },
  };
}

/** The customer and `setup_future_usage` of a new intent, as Stripe keeps them on the PaymentIntent. */
export function applyCustomer(pi: StripeObject, input: CreateIntentInput): void {
  if (input.customer) pi.customer = input.customer;
  if (input.setupFutureUsage) pi.setup_future_usage = input.setupFutureUsage;
}

/**
 * When the intent succeeds with a test PaymentMethod and asked to save it, the card is attached to the
 * intent's customer as a new `pm_...` (Stripe does the same), and the intent now names that card.
 * The wallet only saves cards through a SetupIntent, so one is made and succeeded for it.
 */
export async function saveCardIfAsked(tx: MockTx, pi: StripeObject): Promise<void> {
  const testPaymentMethod = String(pi.payment_method ?? '');
  if (!pi.setup_future_usage || !pi.customer || !testCardFor(testPaymentMethod)) return;
  const setupIntent = await MockWallet.createSetupIntent(tx, String(pi.customer));
  const card = await MockWallet.setupSucceeded(tx, setupIntent.id as string, testPaymentMethod);
  pi.payment_method = card.id;
}

// Every test PaymentMethod that stands for a card, so a saved card behaves as the card it was saved from.
const TEST_CARD_METHODS = [
  'pm_card_visa',
  'pm_card_mastercard',
  'pm_card_amex',
  'pm_card_discover',
  'pm_card_visa_debit',
  'pm_card_chargeDeclined',
  'pm_card_chargeDeclinedInsufficientFunds',
  'pm_card_chargeDeclinedFraudulent',
  'pm_card_chargeDeclinedLostCard',
  'pm_card_chargeDeclinedStolenCard',
  'pm_card_chargeDeclinedExpiredCard',
  'pm_card_chargeDeclinedIncorrectCvc',
  'pm_card_chargeDeclinedProcessingError',
  'pm_card_authenticationRequired',
  'pm_card_threeDSecure2Required',
  'pm_card_authenticationRequiredOnSetup',
];

/**
 * What paying with a saved card does: what its test card does (matched by brand and last 4). The card
 * behind 4000 0025 0000 3155 asks for 3-D Secure again on a payment made with the customer present,
 * as Stripe's does. Undefined when the wallet does not hold `paymentMethod`.
 */
export async function savedCardOutcome(tx: MockTx, paymentMethod: string): Promise<MockOutcome | undefined> {
  let card: Record<string, unknown> | undefined;
  try {
    card = (await MockWallet.retrievePaymentMethod(tx, paymentMethod)).card as Record<string, unknown> | undefined;
  } catch {
    return undefined;
  }
  const test = TEST_CARD_METHODS.find((name) => {
    const c = testCardFor(name);
    return c && c.last4 === card?.last4 && c.brand === card?.brand;
  });
  return test ? outcomeForPaymentMethod(test) : undefined;
}
