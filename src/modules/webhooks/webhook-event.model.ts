/**
 * A stored provider event and where it is in processing:
 * pending -> processing -> processed | ignored, or -> retrying -> ... -> dead after the last attempt.
 */
export type WebhookEventState = 'pending' | 'processing' | 'retrying' | 'processed' | 'ignored' | 'dead';

/** States an event leaves no more on its own (dead ones only by an admin replay). */
export const FINAL_WEBHOOK_EVENT_STATES: readonly WebhookEventState[] = ['processed', 'ignored', 'dead'];

export const WEBHOOK_EVENT_STATES: readonly WebhookEventState[] = ['pending', 'processing', 'retrying', 'processed', 'ignored', 'dead'];

export interface WebhookEvent {
  id: string;
  type: string;
  providerCreated: number;
  apiVersion: string | null;
  livemode: boolean;
  account: string | null;
  objectId: string | null;
  paymentId: string | null;
  /**
   * The provider PaymentIntent the event is about (the intent itself, or a charge's, refund's or
   * dispute's `payment_intent`); null when it names none. One key's events are applied one at a time.
   */
  orderingKey: string | null;
  payload: string;
  signatureVerified: boolean;
  /** 'webhook' for Stripe's deliveries, 'simulate' for the development simulator's. */
  source: 'webhook' | 'simulate';
  state: WebhookEventState;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  outcome: string | null;
  receivedAt: Date;
  processedAt: Date | null;
}

export interface WebhookEventRow {
  id: string;
  type: string;
  provider_created: string | number;
  api_version: string | null;
  livemode: boolean;
  account: string | null;
  object_id: string | null;
  payment_id: string | null;
  ordering_key: string | null;
  payload: string;
  signature_verified: boolean;
  source: 'webhook' | 'simulate';
  state: WebhookEventState;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  outcome: string | null;
  received_at: Date;
  processed_at: Date | null;
}

export function toWebhookEvent(row: WebhookEventRow): WebhookEvent {
  return {
    id: row.id,
    type: row.type,
    providerCreated: Number(row.provider_created),
    apiVersion: row.api_version,
    livemode: row.livemode,
    account: row.account,
    objectId: row.object_id,
    paymentId: row.payment_id,
    orderingKey: row.ordering_key,
    payload: row.payload,
    signatureVerified: row.signature_verified,
    source: row.source,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: new Date(row.next_attempt_at),
    lastError: row.last_error,
    outcome: row.outcome,
    receivedAt: new Date(row.received_at),
    processedAt: row.processed_at ? new Date(row.processed_at) : null,
  };
}

/** The admin API's view: everything but the raw payload is flat; the payload is parsed back to JSON. */
export function serializeWebhookEvent(e: WebhookEvent) {
  return {
    id: e.id,
    object: 'webhook_event' as const,
    type: e.type,
    state: e.state,
    outcome: e.outcome,
    attempts: e.attempts,
    last_error: e.lastError,
    payment_id: e.paymentId,
    object_id: e.objectId,
    provider_created: new Date(e.providerCreated * 1000).toISOString(),
    api_version: e.apiVersion,
    livemode: e.livemode,
    account: e.account,
    signature_verified: e.signatureVerified,
    source: e.source,
    received_at: e.receivedAt.toISOString(),
    processed_at: e.processedAt?.toISOString() ?? null,
    next_attempt_at: e.state === 'pending' || e.state === 'retrying' ? e.nextAttemptAt.toISOString() : null,
    payload: JSON.parse(e.payload) as unknown,
  };
}
