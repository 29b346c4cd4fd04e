import { Router } from 'express';
import { findVisiblePayment, type PaymentRepository } from '../payments';
import type { RefundRepository } from './refund.repository';
import { serializeRefund } from './refund.serializer';

/**
 * Mounted at /v1/payments/:id/refunds. Lists a payment's refunds, oldest first: the ones made through
 * Stripe's Dashboard appear here too (they arrive by webhook). Creating refunds is not built yet.
 */
export function refundsRouter(payments: PaymentRepository, refunds: RefundRepository): Router {
  const router = Router({ mergeParams: true });
  router.get('/', async (req, res) => {
    const payment = await findVisiblePayment(payments, String((req.params as { id?: string }).id), req.auth!);
    const list = await refunds.listForPayment(payment.id);
    res.json({ object: 'list', data: list.map(serializeRefund), has_more: false });
  });
  return router;
}
