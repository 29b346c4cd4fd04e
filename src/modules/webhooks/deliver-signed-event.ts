import { signStripePayload } from '../../providers/stripe/stripe-webhook-signature';
import type { IngestResult, IngestWebhookUseCase } from './ingest-webhook.use-case';

/**
 * Serialises, signs and ingests one Stripe-shaped event exactly as a delivery from Stripe would be
 * (same verification, same inbox): how the mock provider and the simulator feed the webhook pipeline.
 */
export function deliverSignedEvent(
  ingest: IngestWebhookUseCase,
  event: object,
  secret: string,
  source: 'webhook' | 'simulate' = 'webhook',
): Promise<IngestResult> {
  const payload = JSON.stringify(event);
  return ingest.execute(Buffer.from(payload, 'utf8'), signStripePayload(payload, secret), source);
}
