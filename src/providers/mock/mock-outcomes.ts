import type { PaymentError } from '../payment-provider';

/**
 * What Stripe's test PaymentMethods do in test mode, so the mock decides outcomes the same way.
 * https://docs.stripe.com/testing#declined-payments
 */
export type MockOutcome =
  | { kind: 'succeed' }
  | { kind: 'require_action' }
  | { kind: 'process' }
  | { kind: 'decline'; error: PaymentError };

const decline = (code: string, declineCode: string | undefined, message: string): MockOutcome => ({
  kind: 'decline',
  error: { code, declineCode, message },
});

const TEST_PAYMENT_METHODS: Record<string, MockOutcome> = {
  pm_card_visa: { kind: 'succeed' },
  pm_card_visa_debit: { kind: 'succeed' },
  pm_card_mastercard: { kind: 'succeed' },
  pm_card_amex: { kind: 'succeed' },
  pm_card_discover: { kind: 'succeed' },
  pm_card_us: { kind: 'succeed' },
  pm_card_chargeDeclined: decline('card_declined', 'generic_decline', 'Your card was declined.'),
  pm_card_chargeDeclinedInsufficientFunds: decline('card_declined', 'insufficient_funds', 'Your card has insufficient funds.'),
  pm_card_chargeDeclinedFraudulent: decline('card_declined', 'fraudulent', 'Your card was declined.'),
  pm_card_chargeDeclinedLostCard: decline('card_declined', 'lost_card', 'Your card was declined.'),
  pm_card_chargeDeclinedStolenCard: decline('card_declined', 'stolen_card', 'Your card was declined.'),
  pm_card_chargeDeclinedExpiredCard: decline('expired_card', undefined, 'Your card has expired.'),
  pm_card_chargeDeclinedIncorrectCvc: decline('incorrect_cvc', undefined, "Your card's security code is incorrect."),
  pm_card_chargeDeclinedProcessingError: decline('processing_error', undefined, 'An error occurred while processing your card.'),
  pm_card_authenticationRequired: { kind: 'require_action' },
  pm_card_threeDSecure2Required: { kind: 'require_action' },
  pm_card_authenticationRequiredOnSetup: { kind: 'require_action' },
  // Bank debits settle later in Stripe test mode; the mock models that as `processing`.
  pm_usBankAccount_success: { kind: 'process' },
  pm_sepaDebit_success: { kind: 'process' },
};

export function outcomeForPaymentMethod(paymentMethod: string): MockOutcome | undefined {
  return TEST_PAYMENT_METHODS[paymentMethod];
}

/** Random failures for MOCK_SUCCESS_RATE < 1, weighted as real-world declines are. */
const RANDOM_FAILURES: Array<{ weight: number; outcome: MockOutcome }> = [
  { weight: 60, outcome: decline('card_declined', 'generic_decline', 'Your card was declined.') },
  { weight: 20, outcome: decline('processing_error', undefined, 'An error occurred while processing your card.') },
  { weight: 10, outcome: decline('card_declined', 'insufficient_funds', 'Your card has insufficient funds.') },
  { weight: 10, outcome: decline('invalid_payment_method', 'invalid_account', 'The payment method is invalid.') },
];

export function randomFailure(random: () => number): MockOutcome {
  const total = RANDOM_FAILURES.reduce((sum, f) => sum + f.weight, 0);
  let roll = random() * total;
  for (const failure of RANDOM_FAILURES) {
    roll -= failure.weight;
    if (roll < 0) return failure.outcome;
  }
  return RANDOM_FAILURES[0].outcome;
}

/** The card behind one of Stripe's test PaymentMethods, as a saved card shows it. */
export interface TestCard {
  brand: string;
  last4: string;
  funding: 'credit' | 'debit';
}

// The last four digits of the test card numbers each test PaymentMethod stands for
// (https://docs.stripe.com/testing#cards); bank debits are not cards and are left out.
const TEST_CARDS: Record<string, TestCard> = {
  pm_card_visa: { brand: 'visa', last4: '4242', funding: 'credit' },
  pm_card_visa_debit: { brand: 'visa', last4: '5556', funding: 'debit' },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444', funding: 'credit' },
  pm_card_amex: { brand: 'amex', last4: '0005', funding: 'credit' },
  pm_card_discover: { brand: 'discover', last4: '1117', funding: 'credit' },
  pm_card_us: { brand: 'visa', last4: '4242', funding: 'credit' },
  pm_card_chargeDeclined: { brand: 'visa', last4: '0002', funding: 'credit' },
  pm_card_chargeDeclinedInsufficientFunds: { brand: 'visa', last4: '9995', funding: 'credit' },
  pm_card_chargeDeclinedFraudulent: { brand: 'visa', last4: '0019', funding: 'credit' },
  pm_card_chargeDeclinedLostCard: { brand: 'visa', last4: '9987', funding: 'credit' },
  pm_card_chargeDeclinedStolenCard: { brand: 'visa', last4: '9979', funding: 'credit' },
  pm_card_chargeDeclinedExpiredCard: { brand: 'visa', last4: '0069', funding: 'credit' },
  pm_card_chargeDeclinedIncorrectCvc: { brand: 'visa', last4: '0127', funding: 'credit' },
  pm_card_chargeDeclinedProcessingError: { brand: 'visa', last4: '0119', funding: 'credit' },
  pm_card_authenticationRequired: { brand: 'visa', last4: '3184', funding: 'credit' },
  pm_card_threeDSecure2Required: { brand: 'visa', last4: '3220', funding: 'credit' },
  pm_card_authenticationRequiredOnSetup: { brand: 'visa', last4: '3155', funding: 'credit' },
};

/**
 * The card a test PaymentMethod saves. Test mode takes any future expiry: December, a few years
 * ahead of now, so a saved test card never expires under the mock or the tests.
 */
export function testCardFor(paymentMethod: string): (TestCard & { expMonth: number; expYear: number }) | undefined {
  const card = TEST_CARDS[paymentMethod];
  return card && { ...card, expMonth: 12, expYear: new Date().getUTCFullYear() + 4 };
}
