import { Router } from 'express';
import { validate } from '../../shared/http/validate.middleware';
import { idempotent, type IdempotencyStore } from '../idempotency';
import type { PaymentsController } from './payments.controller';
import { cancelPaymentSchema, confirmPaymentSchema, createPaymentSchema, listPaymentsQuerySchema } from './payment.schemas';

/** Mounted at /v1/payments behind authentication. */
export function paymentsRouter(controller: PaymentsController, idempotency: IdempotencyStore): Router {
  const router = Router();
  router.post('/', validate('body', createPaymentSchema), idempotent(idempotency, controller.create));
  router.get('/', validate('query', listPaymentsQuerySchema), controller.list);
  router.get('/:id', controller.get);
  router.get('/:id/history', controller.history);
  router.post('/:id/confirm', validate('body', confirmPaymentSchema), idempotent(idempotency, controller.confirm));
  router.post('/:id/cancel', validate('body', cancelPaymentSchema), idempotent(idempotency, controller.cancel));
  return router;
}
