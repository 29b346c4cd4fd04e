import type { PaymentsModule } from '../modules/payments';
import { logger } from '../shared/logger';

/** Settles open payments that have been idle too long (missed webhook, unanswered provider call). */
export async function reconcilePayments(payments: PaymentsModule): Promise<void> {
  const { checked, failed } = await payments.reconcile.execute();
  if (checked > 0) logger.info('reconciled idle open payments', { checked, failed });
}
