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
