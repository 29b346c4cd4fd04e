import { PollingWorker } from '../../shared/polling-worker';
import type { ApplyWebhookEventUseCase } from './apply-webhook-event.use-case';
import type { WebhookEventRepository } from './webhook-event.repository';

/**
 * Events claimed and applied per pass, in one transaction. Larger batches mean fewer claims and
 * commits per event; the payments a batch touches stay locked until it commits, a few ms per event.
 */
const BATCH_SIZE = 50;

/**
 * Applies stored events off the request path, oldest first, a batch per transaction: `poke()` after
 * an ingest, a timer for retries coming due and for events a crashed instance had claimed. A short
 * batch ends the drain unless later events of its payments wait behind it (no empty claim to find out).
 */
export class WebhookWorker extends PollingWorker {
  constructor(events: WebhookEventRepository, apply: ApplyWebhookEventUseCase, intervalMs: number) {
    super('webhooks', intervalMs, async (stopping) => {
      const batch = await events.claimDue(BATCH_SIZE);
      if (batch.length > 0 && !stopping.aborted) await apply.executeBatch(batch, stopping);
      return { handled: batch.length, more: batch.length === BATCH_SIZE || batch.some((e) => e.followers) };
    });
  }
}
