import { Router } from 'express';
import type { z } from 'zod';
import { validate } from '../../shared/http/validate.middleware';
import { idempotent, idempotentOwnBegin, type IdempotencyStore } from '../idempotency';
import type { PaymentsController } from './payments.controller';
import { cancelPaymentSchema, confirmPaymentSchema, createPaymentSchema, listPaymentsQuerySchema } from './payment.schemas';

/**
 * Mounted at /v1/payments behind authentication. `createSchema` is `orderPricedPaymentSchema` when the
 * order service prices payments (amount and currency may be left out), else `createPaymentSchema`.
 */
export function paymentsRouter(controller: PaymentsController, idempotency: IdempotencyStore, createSchema: z.ZodType = createPaymentSchema): Router {
  const router = Router();
  router.post('/', validate('body', createSchema), idempotentOwnBegin(idempotency, controller.create));
  router.get('/', validate('query', listPaymentsQuerySchema), controller.list);
  router.get('/:id', controller.get);
  router.get('/:id/history', controller.history);
  router.post('/:id/confirm', validate('body', confirmPaymentSchema), idempotent(idempotency, controller.confirm));
  router.post('/:id/cancel', validate('body', cancelPaymentSchema), idempotent(idempotency, controller.cancel));
  return router;
}
