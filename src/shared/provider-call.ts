import { ProviderDeclinedError, ProviderRejectedError } from '../providers/payment-provider';
import { logger } from './logger';
import type { Metrics } from './metrics';

/**
 * Runs one provider call, outside any transaction, and counts its outcome in `provider_calls_total`
 * (ok, declined, rejected, unknown); an unknown outcome is also logged. Rethrows whatever `fn` throws.
 */
export async function callProvider<T>(metrics: Metrics, operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    const result = await fn();
    metrics.providerCalls.inc({ operation, outcome: 'ok' });
    return result;
  } catch (err) {
    const outcome = err instanceof ProviderDeclinedError ? 'declined' : err instanceof ProviderRejectedError ? 'rejected' : 'unknown';
    metrics.providerCalls.inc({ operation, outcome });
    if (outcome === 'unknown') logger.warn('payment provider outcome unknown', { operation, err });
    throw err;
  }
}
