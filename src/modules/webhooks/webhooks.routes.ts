import { Router } from 'express';
import { rawBody } from '../../shared/http/body-parsing';
import type { IngestWebhookUseCase } from './ingest-webhook.use-case';

/** Mounted at /v1/webhooks before any JSON parser: the signature covers the raw bytes. */
export function webhooksRouter(ingest: IngestWebhookUseCase): Router {
  const router = Router();
  router.post('/stripe', rawBody, async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const result = await ingest.execute(body, req.get('Stripe-Signature'));
    res.status(200).json({ received: true, id: result.id, duplicate: result.duplicate });
  });
  return router;
}
