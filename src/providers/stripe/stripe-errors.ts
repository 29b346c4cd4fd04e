import Stripe from 'stripe';
import { ProviderDeclinedError, ProviderRejectedError, ProviderUnavailableError } from '../payment-provider';
import { toProviderIntent } from './stripe-mappers';

// Stripe answers these when the request was not carried out and may simply be sent again:
// `lock_timeout` (another request holds the object), `rate_limit`; https://docs.stripe.com/error-codes.
const RETRYABLE_CODES = new Set(['lock_timeout', 'rate_limit']);

const isIntent = (value: unknown): value is Stripe.PaymentIntent =>
  typeof value === 'object' && value !== null && (value as { object?: unknown }).object === 'payment_intent';

/**
 * Maps an error of the Stripe SDK onto the three outcomes the use cases understand, from Stripe's
 * own fields (https://docs.stripe.com/api/errors, https://docs.stripe.com/error-handling):
 *
 * - HTTP 402 / `card_error` (StripeCardError): a decline, a final answer. `decline_code` else `code`
 *   is the reason; `payment_intent` rides along when Stripe sends it, and a decline without it is
 *   final all the same -> ProviderDeclinedError (intent optional).
 * - No answer (StripeConnectionError), 5xx (StripeAPIError), 409 (a concurrent request with the same
 *   idempotency key, or the object locked), 429 and `lock_timeout`/`rate_limit`
 *   (StripeRateLimitError): the outcome is unknown or the request was not carried out; a retry with
 *   the same idempotency key settles it -> ProviderUnavailableError (`timeout` for timeouts).
 * - 401 (StripeAuthenticationError) and 403 (StripePermissionError): our key is wrong or lacks a
 *   permission; Stripe did nothing and stores no answer for the key, so the payment must stay open for
 *   a retry once the key is fixed, not fail -> ProviderUnavailableError.
 * - Any other 4xx (StripeInvalidRequestError incl. `payment_intent_unexpected_state` and
 *   `resource_missing`, StripeIdempotencyError `idempotency_error`, ...): Stripe refused the request
 *   itself -> ProviderRejectedError with Stripe's `code` (else its `type`) and `param`.
 * Anything that is not a Stripe error (a socket error the SDK did not wrap) leaves the outcome unknown.
 */
export function translateStripeError(err: unknown): Error {
  if (!(err instanceof Stripe.errors.StripeError)) {
    return new ProviderUnavailableError('unavailable', 'Payment provider call failed', { cause: err });
  }
  const status = err.statusCode;
  // `err.type` is the SDK's class name; Stripe's own `type` is in the raw error.
  const stripeType = (err.raw as { type?: string } | undefined)?.type;
  if (err instanceof Stripe.errors.StripeCardError || status === 402 || stripeType === 'card_error') {
    const intent = isIntent(err.payment_intent) ? err.payment_intent : undefined;
    return new ProviderDeclinedError(
      // The SDK sets decline_code to '' when Stripe sent none: absent, not a reason.
      { code: err.code || undefined, declineCode: err.decline_code || undefined, message: err.message || undefined },
      intent ? toProviderIntent(intent) : undefined,
    );
  }
  if (err instanceof Stripe.errors.StripeConnectionError) {
    const timedOut = /timeout|timed out/i.test(err.message);
    return new ProviderUnavailableError(timedOut ? 'timeout' : 'unavailable', err.message, { cause: err });
  }
  if (
    err instanceof Stripe.errors.StripeRateLimitError ||
    err instanceof Stripe.errors.StripeAuthenticationError ||
    err instanceof Stripe.errors.StripePermissionError ||
    RETRYABLE_CODES.has(err.code ?? '') ||
    // Without a status (an error built by hand), the class says what Stripe meant.
    (status === undefined ? err instanceof Stripe.errors.StripeAPIError : [401, 403, 409, 429].includes(status) || status >= 500)
  ) {
    return new ProviderUnavailableError('unavailable', err.message || `Stripe answered ${status ?? 'without a status'}`, { cause: err });
  }
  return new ProviderRejectedError(err.code || stripeType || 'invalid_request_error', err.message, err.param || undefined);
}
