import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { pageLimitSchema } from '../../shared/http/pagination';
import { validate } from '../../shared/http/validate.middleware';
import type { DeliveryDispatcher } from './delivery-dispatcher';
import { DELIVERY_STATES, type Delivery, type DeliveryRepository, type DeliveryState } from './delivery.repository';

const DELIVERY_ID = /^dlv_(\d{1,18})$/;

export const listDeliveriesQuerySchema = z.strictObject({
  state: z.enum(DELIVERY_STATES as [DeliveryState, ...DeliveryState[]]).optional(),
  target: z.string().min(1).max(2000).optional(),
  payment_id: z.string().min(1).max(100).optional(),
  limit: pageLimitSchema,
  starting_after: z.string().regex(DELIVERY_ID, 'must be a delivery id (dlv_...)').optional(),
});
type ListQuery = z.infer<typeof listDeliveriesQuerySchema>;

export function serializeDelivery(d: Delivery) {
  return {
    id: `dlv_${d.id}`,
    object: 'event_delivery' as const,
    target: d.target,
    state: d.state,
    attempts: d.attempts,
    last_error: d.lastError,
    next_attempt_at: d.state === 'pending' ? d.nextAttemptAt.toISOString() : null,
    delivered_at: d.deliveredAt?.toISOString() ?? null,
    created_at: d.createdAt.toISOString(),
    event: d.event.payload,
  };
}

const parseId = (id: string): number => {
  const match = DELIVERY_ID.exec(id);
  if (!match) throw new AppError('resource_missing', 'No such event delivery', { param: 'id' });
  return Number(match[1]);
};

/** Admins: every emitted event's delivery per target, and re-sending one (a dead one, typically). */
export function eventDeliveriesAdminRouter(deliveries: DeliveryRepository, dispatcher: DeliveryDispatcher): Router {
  const router = Router();

  router.get('/', validate('query', listDeliveriesQuerySchema), async (req, res) => {
    const q = req.validated!.query as ListQuery;
    const page = await deliveries.list({
      state: q.state,
      target: q.target,
      paymentId: q.payment_id,
      limit: q.limit,
      startingAfter: q.starting_after ? parseId(q.starting_after) : undefined,
    });
    res.json({ object: 'list', data: page.data.map(serializeDelivery), has_more: page.hasMore });
  });

  router.post('/:id/resend', async (req, res) => {
    const id = parseId(String(req.params.id));
    const found = await deliveries.findById(id);
    if (!found) throw new AppError('resource_missing', 'No such event delivery', { param: 'id' });
    if (!(await deliveries.requeue(id))) {
      throw new AppError('webhook_event_not_replayable', 'The delivery is being attempted right now; retry shortly');
    }
    await dispatcher.drainTarget(found.target);
    res.json(serializeDelivery((await deliveries.findById(id))!));
  });

  return router;
}
