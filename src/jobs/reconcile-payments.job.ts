import type { PaymentsModule } from '../modules/payments';
import { logger } from '../shared/logger';

/**
 * Settles open payments that have been idle too long (missed webhook, unanswered provider call).
 * @param minAgeSeconds how long an open payment must have been idle (`RECONCILE_MIN_AGE_SECONDS`, 600 by default)
 */
export async function reconcilePayments(payments: PaymentsModule, minAgeSeconds?: number): Promise<void> {
  const { checked, failed } = await payments.reconcile.execute(minAgeSeconds);
  if (checked > 0) logger.info('reconciled idle open payments', { checked, failed });
}
