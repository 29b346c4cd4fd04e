import { Router } from 'express';
import { z } from 'zod';
import { pageLimitSchema } from '../../shared/http/pagination';
import { AppError } from '../../shared/errors';
import { validate } from '../../shared/http/validate.middleware';
import { serializeWebhookEvent, WEBHOOK_EVENT_STATES, type WebhookEventState } from './webhook-event.model';
import type { WebhookEventRepository } from './webhook-event.repository';
import type { WebhookWorker } from './webhook-worker';

export const listWebhookEventsQuerySchema = z.strictObject({
  state: z.enum(WEBHOOK_EVENT_STATES as [WebhookEventState, ...WebhookEventState[]]).optional(),
  type: z.string().min(1).max(255).optional(),
  limit: pageLimitSchema,
  starting_after: z.string().max(255).optional(),
});
type ListQuery = z.infer<typeof listWebhookEventsQuerySchema>;

const notFound = () => new AppError('resource_missing', 'No such webhook event', { param: 'id' });

/** Admin view of the inbox: list with filters, and replay one event (re-applied through the same handlers). */
export function webhookEventsAdminRouter(events: WebhookEventRepository, worker: WebhookWorker): Router {
  const router = Router();

  router.get('/', validate('query', listWebhookEventsQuerySchema), async (req, res) => {
    const query = req.validated!.query as ListQuery;
    if (query.starting_after && !(await events.findById(query.starting_after))) {
      throw new AppError('parameter_invalid', 'starting_after must be the id of a stored event', { param: 'starting_after' });
    }
    const page = await events.list({ state: query.state, type: query.type, limit: query.limit, startingAfter: query.starting_after });
    res.json({ object: 'list', data: page.data.map(serializeWebhookEvent), has_more: page.hasMore });
  });

  router.get('/:id', async (req, res) => {
    const event = await events.findById(String(req.params.id));
    if (!event) throw notFound();
    res.json(serializeWebhookEvent(event));
  });

  router.post('/:id/replay', async (req, res) => {
    const id = String(req.params.id);
    if (!(await events.findById(id))) throw notFound();
    const requeued = await events.requeue(id);
    if (!requeued) throw new AppError('webhook_event_not_replayable', 'The event is being processed right now; retry shortly');
    await worker.drain();
    res.json(serializeWebhookEvent((await events.findById(id))!));
  });

  return router;
}
