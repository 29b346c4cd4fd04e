import { Router } from 'express';
import { validate } from '../../shared/http/validate.middleware';
import { idempotent, type IdempotencyStore } from '../idempotency';
import type { CreateSetupIntentUseCase } from './create-setup-intent.use-case';
import type { DetachPaymentMethodUseCase } from './detach-payment-method.use-case';
import type { ListPaymentMethodsUseCase } from './list-payment-methods.use-case';
import { createSetupIntentSchema, listPaymentMethodsQuerySchema, type ListPaymentMethodsQuery } from './payment-method.schemas';
import { serializePaymentMethod, serializeSetupIntent } from './payment-method.serializer';

/**
 * Mounted at /v1/payment-methods behind authentication. Customer endpoints: everyone, admins
 * included, acts on their own saved cards (the token's `sub`).
 */
export function paymentMethodsRouter(deps: {
  list: ListPaymentMethodsUseCase;
  createSetupIntent: CreateSetupIntentUseCase;
  detach: DetachPaymentMethodUseCase;
  idempotency: IdempotencyStore;
  /** Sent with each SetupIntent for Stripe.js; null where Stripe.js has nothing to talk to (the mock). */
  publishableKey: string | null;
}): Router {
  const router = Router();

  router.get('/', validate('query', listPaymentMethodsQuerySchema), async (req, res) => {
    const page = await deps.list.execute(req.auth!, req.validated!.query as ListPaymentMethodsQuery);
    res.json({ object: 'list', data: page.data.map(serializePaymentMethod).filter((pm) => pm !== null), has_more: page.hasMore });
  });

  router.post(
    '/setup-intents',
    validate('body', createSetupIntentSchema),
    idempotent(deps.idempotency, async (req, idem) => {
      const si = await deps.createSetupIntent.execute(req.auth!, idem);
      return { status: 201, body: serializeSetupIntent(si, deps.publishableKey) };
    }),
  );

  router.delete('/:id', async (req, res) => {
    const { id } = await deps.detach.execute(req.auth!, String(req.params.id));
    res.json({ id, object: 'payment_method', deleted: true });
  });

  return router;
}
