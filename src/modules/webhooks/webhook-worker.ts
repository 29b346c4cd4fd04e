import { PollingWorker } from '../../shared/polling-worker';
import type { ApplyWebhookEventUseCase } from './apply-webhook-event.use-case';
import type { WebhookEventRepository } from './webhook-event.repository';

const BATCH_SIZE = 20;

/**
 * Applies stored events off the request path, oldest first: `poke()` after an ingest, a timer for
 * retries coming due and for events a crashed instance had claimed.
 */
export class WebhookWorker extends PollingWorker {
  constructor(events: WebhookEventRepository, apply: ApplyWebhookEventUseCase, intervalMs: number) {
    super('webhooks', intervalMs, async (stopping) => {
      const batch = await events.claimDue(BATCH_SIZE);
      for (const event of batch) {
        if (stopping.aborted) break;
        await apply.execute(event);
      }
      return batch.length;
    });
  }
}
