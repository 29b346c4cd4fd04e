import { ProviderRejectedError } from '../../providers/payment-provider';
import { AppError, notFound } from '../../shared/errors';
import { providerFailure } from '../payments';

/** Unknown ids, malformed ids and other customers' cards all answer this: 404, never 403. */
export const paymentMethodNotFound = () => notFound('payment method');

/** True when the provider says the object named does not exist (or no longer belongs where it was). */
export const isMissingAtProvider = (err: unknown, codes: string[] = ['resource_missing']): boolean =>
  err instanceof ProviderRejectedError && codes.includes(err.code);

/**
 * Provider failures, as for payments (refused: 502; unknown outcome: 503/504), but without the hint
 * about Idempotency-Key: every call here is safe to repeat as it is (reads, and writes whose provider
 * key is derived from our own ids).
 */
export function providerError(err: unknown): AppError {
  const mapped = providerFailure(err);
  if (mapped.code === 'provider_timeout') return new AppError('provider_timeout', 'The payment provider timed out; retry the request', { cause: err });
  if (mapped.code === 'provider_unavailable') {
    return new AppError('provider_unavailable', 'The payment provider is unavailable; retry the request', { cause: err });
  }
  return mapped;
}
