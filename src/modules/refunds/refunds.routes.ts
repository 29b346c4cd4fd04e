import { Router } from 'express';
import { requireAdmin } from '../../shared/auth/authenticate.middleware';
import { validate } from '../../shared/http/validate.middleware';
import { idempotentOwnBegin, type IdempotencyStore } from '../idempotency';
import { findVisiblePayment, type PaymentReads } from '../payments';
import type { CreateRefundUseCase } from './create-refund.use-case';
import type { Refund, RefundRepository } from './refund.repository';
import { createRefundSchema, type CreateRefundBody } from './refund.schemas';
import { serializeRefund } from './refund.serializer';

const paymentIdOf = (params: unknown) => String((params as { id?: string }).id);

/**
 * Mounted at /v1/payments/:id/refunds. Admins refund (full by default, partial and repeated allowed);
 * owners and admins list a payment's refunds, oldest first, Dashboard refunds included.
 */
export function refundsRouter(deps: {
  payments: PaymentReads;
  refunds: RefundRepository;
  create: CreateRefundUseCase;
  idempotency: IdempotencyStore;
}): Router {
  const router = Router({ mergeParams: true });

  router.post(
    '/',
    requireAdmin,
    validate('body', createRefundSchema),
    // The key is begun in the refund's own first transaction and its answer stored in its last.
    idempotentOwnBegin(deps.idempotency, async (req, key) => {
      const answer = (refund: Refund) => ({ status: 201, body: serializeRefund(refund) });
      return answer(await deps.create.execute(paymentIdOf(req.params), req.validated!.body as CreateRefundBody, req.auth!, key, answer));
    }),
  );

  router.get('/', async (req, res) => {
    const payment = await findVisiblePayment(deps.payments, paymentIdOf(req.params), req.auth!);
    const list = await deps.refunds.listForPayment(payment.id);
    res.json({ object: 'list', data: list.map(serializeRefund), has_more: false });
  });

  return router;
}
