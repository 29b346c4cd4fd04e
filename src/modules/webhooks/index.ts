export { createWebhooksModule, type WebhooksModule } from './webhooks.module';
export { listWebhookEventsQuerySchema } from './webhook-events.admin';
export { IngestWebhookUseCase } from './ingest-webhook.use-case';
export { deliverSignedEvent } from './deliver-signed-event';
export type { Settlement } from './settle-events';
export type { WebhookEventState } from './webhook-event.model';
