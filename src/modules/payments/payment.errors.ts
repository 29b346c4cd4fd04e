import { ProviderDeclinedError, ProviderRejectedError, ProviderUnavailableError } from '../../providers/payment-provider';
import { AppError } from '../../shared/errors';
import type { Payment } from './payment.model';

export const paymentNotFound = () => new AppError('resource_missing', 'No such payment', { param: 'id' });

export const unexpectedState = (payment: Payment, action: string) =>
  new AppError('payment_unexpected_state', `A payment with status '${payment.status}' cannot be ${action}`, {
    details: { payment_status: payment.status },
  });

/** A decline is a final answer: 402 with Stripe's decline code, stored and replayed under the key. */
export function declineError(payment: Payment, err: ProviderDeclinedError): AppError {
  return new AppError('card_declined', err.error.message ?? 'The card was declined', {
    details: {
      decline_code: err.error.declineCode ?? err.error.code ?? 'generic_decline',
      payment_id: payment.id,
      payment_status: payment.status,
    },
  });
}

/** Provider failures other than declines. Unknown outcomes become retryable 503/504. */
export function providerFailure(err: unknown): AppError {
  if (err instanceof ProviderUnavailableError) {
    return err.kind === 'timeout'
      ? new AppError('provider_timeout', 'The payment provider timed out; retry with the same Idempotency-Key', { cause: err })
      : new AppError('provider_unavailable', 'The payment provider is unavailable; retry with the same Idempotency-Key', { cause: err });
  }
  if (err instanceof ProviderRejectedError) {
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
