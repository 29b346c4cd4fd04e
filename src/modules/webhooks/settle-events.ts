import { FINAL_WEBHOOK_EVENT_STATES, type WebhookEvent } from './webhook-event.model';
import type { WebhookEventRepository } from './webhook-event.repository';
import type { WebhookWorker } from './webhook-worker';

/** How often to look again while another worker (or replica) holds one of the events, in ms. */
const POLL_MS = 25;

export interface Settlement {
  /** True when every event reached a final state (processed, ignored or dead) within the wait. */
  settled: boolean;
  /** The events as stored at the end of the wait, in the order asked for. */
  events: WebhookEvent[];
}

/**
 * Applies the given stored events through the worker (the same claim as every replica, so their
 * order per payment holds) and waits, at most `timeoutMs`, until all are final: an event another
 * replica is applying, or one queued behind an older event of its payment, is waited for, not skipped.
 */
export async function settleEvents(events: WebhookEventRepository, worker: WebhookWorker, ids: string[], timeoutMs: number): Promise<Settlement> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await worker.drain();
    const found = new Map((await events.findByIds(ids)).map((e) => [e.id, e]));
    const ordered = ids.map((id) => found.get(id)).filter((e): e is WebhookEvent => e !== undefined);
    const settled = ordered.length === ids.length && ordered.every((e) => FINAL_WEBHOOK_EVENT_STATES.includes(e.state));
    if (settled || Date.now() >= deadline) return { settled, events: ordered };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
