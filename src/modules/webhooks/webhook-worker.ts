import { PollingWorker } from '../../shared/polling-worker';
import type { ApplyWebhookEventUseCase } from './apply-webhook-event.use-case';
import type { WebhookEvent } from './webhook-event.model';
import type { WebhookEventRepository } from './webhook-event.repository';

/**
 * Events applied per transaction. Larger batches mean fewer claims and commits per event; the
 * payments a batch touches stay locked until it commits (about a millisecond per event).
 */
const LANE_SIZE = 25;
/**
 * Transactions a pass may run side by side, each on its own pooled connection, when a claim brings
 * more than one lane's worth (a backlog) and no requests are poking: applying is round trips, so
 * lanes drain a backlog faster; while requests come in, one lane, so they keep the pool.
 */
const LANES = 3;
const CLAIM_SIZE = LANE_SIZE * LANES;
/** While ingests keep poking, a pause between passes: requests first, the backlog after (see PollingWorker). */
const BUSY_PAUSE_MS = 50;

/**
 * Applies stored events off the request path, oldest first, a batch per transaction: `poke()` after
 * an ingest, a timer for retries coming due and for events a crashed instance had claimed. A short
 * batch ends the drain unless later events of its payments wait behind it (no empty claim to find out).
 */
export class WebhookWorker extends PollingWorker {
  constructor(events: WebhookEventRepository, apply: ApplyWebhookEventUseCase, intervalMs: number) {
    super('webhooks', intervalMs, async (stopping, busy) => {
      const limit = busy ? LANE_SIZE : CLAIM_SIZE;
      const batch = await events.claimDue(limit);
      if (batch.length > 0 && !stopping.aborted) {
        // Settled, not all: one lane's failure (the database, say) must not abandon the others mid-flight.
        const results = await Promise.allSettled(lanes(batch).map((lane) => apply.executeBatch(lane, stopping)));
        const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failure) throw failure.reason;
      }
      return { handled: batch.length, more: batch.length === limit || batch.some((e) => e.followers) };
    }, BUSY_PAUSE_MS);
  }
}

/**
 * Splits a claimed batch into up to LANES lanes of about LANE_SIZE events, every payment's events in
 * one lane (in claim order), so no two lanes apply events of one payment.
 */
function lanes(batch: WebhookEvent[]): WebhookEvent[][] {
  const count = Math.min(LANES, Math.ceil(batch.length / LANE_SIZE));
  if (count <= 1) return [batch];
  const byPayment = new Map<string, WebhookEvent[]>();
  for (const e of batch) {
    const key = e.paymentId ?? e.orderingKey ?? e.id;
    byPayment.set(key, [...(byPayment.get(key) ?? []), e]);
  }
  const out: WebhookEvent[][] = Array.from({ length: count }, () => []);
  [...byPayment.values()].forEach((events, i) => out[i % count].push(...events));
  return out.filter((lane) => lane.length > 0);
}
