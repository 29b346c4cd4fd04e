import type { IngestResult, IngestWebhookUseCase } from './ingest-webhook.use-case';

/**
 * Serialises, signs and ingests one Stripe-shaped event exactly as a delivery from Stripe would be
 * (same verification, same inbox): how the mock provider and the simulator feed the webhook pipeline.
 * The provider signs it (`IngestWebhookUseCase.deliver`).
 */
export function deliverSignedEvent(
  ingest: IngestWebhookUseCase,
  event: object,
  secret: string,
  source: 'webhook' | 'simulate' = 'webhook',
): Promise<IngestResult> {
  return ingest.deliver(event, secret, source);
}
