/** The mode and account whose events this service applies (from the configured key and account). */
export interface EventScope {
  /** true: only live-mode events are ours; false: only test-mode ones (test keys and the mock). */
  livemode: boolean;
  /** The expected `account`; null means events carrying any `account` (Connect) are not ours. */
  accountId: string | null;
}

/**
 * Why an event is outside our scope, or null when it is ours. Stripe sets `livemode` on every event
 * and `account` only on events of a connected account (https://docs.stripe.com/api/events/object,
 * https://docs.stripe.com/connect/webhooks); thin events name the account in `context`.
 * A test-mode event must never move a payment taken with a live key, nor another account's event ours.
 */
export function outOfScope(event: { livemode: boolean; account: string | null }, scope: EventScope): 'livemode_mismatch' | 'account_mismatch' | null {
  if (event.livemode !== scope.livemode) return 'livemode_mismatch';
  if (event.account !== null && event.account !== scope.accountId) return 'account_mismatch';
  return null;
}
