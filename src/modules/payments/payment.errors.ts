import { ProviderDeclinedError, ProviderRejectedError, ProviderUnavailableError } from '../../providers/payment-provider';
import { AppError } from '../../shared/errors';
import type { Payment } from './payment.model';

export const paymentNotFound = () => new AppError('resource_missing', 'No such payment', { param: 'id' });

export const unexpectedState = (payment: Payment, action: string) =>
  new AppError('payment_unexpected_state', `A payment with status '${payment.status}' cannot be ${action}`, {
    details: { payment_status: payment.status },
  });

/**
 * Stripe's reason for a decline: the `decline_code` when the error has one, else its `code`
 * (`expired_card`, `incorrect_cvc`, ... carry no decline_code). Empty strings count as absent: the
 * SDK sets `decline_code` to '' on card errors without one.
 */
export const declineReason = (error: ProviderDeclinedError['error']): string => error.declineCode || error.code || 'generic_decline';

/** A decline is a final answer: 402 with Stripe's decline code, stored and replayed under the key. */
export function declineError(payment: Payment, err: ProviderDeclinedError): AppError {
  return new AppError('card_declined', err.error.message || 'The card was declined', {
    details: {
      decline_code: declineReason(err.error),
      payment_id: payment.id,
      payment_status: payment.status,
    },
  });
}

// Stripe's amount refusals, answered with our own codes (the same as our validation gives).
const AMOUNT_CODES: Record<string, 'amount_too_small' | 'amount_too_large'> = {
  amount_too_small: 'amount_too_small',
  amount_too_large: 'amount_too_large',
};

/** Provider failures other than declines. Unknown outcomes become retryable 503/504. */
export function providerFailure(err: unknown): AppError {
  if (err instanceof ProviderUnavailableError) {
    return err.kind === 'timeout'
      ? new AppError('provider_timeout', 'The payment provider timed out; retry with the same Idempotency-Key', { cause: err })
      : new AppError('provider_unavailable', 'The payment provider is unavailable; retry with the same Idempotency-Key', { cause: err });
  }
  if (err instanceof ProviderDeclinedError) {
    // A decline outside create/confirm (e.g. a refund to a closed card) is still a final answer.
    return new AppError('card_declined', err.error.message || 'The card was declined', { details: { decline_code: declineReason(err.error) } });
  }
  if (err instanceof ProviderRejectedError) {
    if (err.param === 'amount') {
      return new AppError(AMOUNT_CODES[err.code] ?? 'parameter_invalid', err.message, { param: 'amount', details: { provider_code: err.code } });
    }
    if (err.param === 'payment_method' || err.code === 'payment_method_invalid') {
      return new AppError('payment_method_invalid', err.message, { param: 'payment_method' });
    }
    return new AppError('provider_rejected', 'The payment provider rejected the request', {
      cause: err,
      details: { provider_code: err.code },
    });
  }
  if (err instanceof AppError) return err;
  // Not a provider error at all (a bug, or the process dying mid-call): the outcome is unknown.
  return new AppError('provider_unavailable', 'The payment provider call did not complete; retry with the same Idempotency-Key', {
    cause: err,
  });
}
