import client, { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per app instance, so tests can build several apps in one process. */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  providerCalls: Counter<'operation' | 'outcome'>;
  webhookEvents: Counter<'type' | 'result'>;
  webhookApplied: Counter<'outcome'>;
  eventDeliveries: Counter<'target' | 'outcome'>;
  orderLookups: Counter<'result'>;
  orderLookupDuration: Histogram<'result'>;
  orderServiceCircuit: Gauge<'state'>;
  jobRuns: Counter<'job' | 'result'>;
  jobDuration: Histogram<'job'>;
  paymentsCreated: Counter<'currency'>;
  paymentsFailed: Counter<'code'>;
  paymentAmount: Counter<'currency' | 'status'>;
  refunds: Counter<'currency'>;
  refundedAmount: Counter<'currency'>;
  webhookLag: Histogram<'type'>;
  reconcileDrift: Counter<'kind'>;
  webhookCaughtUp: Counter<'type'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    providerCalls: new Counter({
      name: 'payment_provider_calls_total',
      help: 'Calls to the payment provider by operation and outcome (ok, declined, rejected, unknown)',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    }),
    webhookEvents: new Counter({
      name: 'webhook_events_received_total',
      help: 'Webhook deliveries by event type and result (stored, duplicate, rejected)',
      labelNames: ['type', 'result'],
      registers: [registry],
    }),
    webhookApplied: new Counter({
      name: 'webhook_events_processed_total',
      help: 'Stored webhook events processed by outcome (processed, ignored, retrying, dead)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    eventDeliveries: new Counter({
      name: 'outbox_deliveries_total',
      help: 'Deliveries of emitted events by target kind (stream, order_service, webhook) and outcome (delivered, retrying, dead)',
      labelNames: ['target', 'outcome'],
      registers: [registry],
    }),
    orderLookups: new Counter({
      name: 'order_lookups_total',
      help: 'Order service lookups for a payment amount by result (found, not_found, unavailable, invalid_response, short_circuited)',
      labelNames: ['result'],
      registers: [registry],
    }),
    orderLookupDuration: new Histogram({
      name: 'order_lookup_duration_seconds',
      help: 'Order service lookup latency, retries and backoff included, by result',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    orderServiceCircuit: new Gauge({
      name: 'order_service_circuit_state',
      help: "The order service circuit breaker: 1 for its current state (closed, open, half_open), 0 for the others",
      labelNames: ['state'],
      registers: [registry],
    }),
    jobRuns: new Counter({
      name: 'job_runs_total',
      help: 'Cron job runs by job and result (succeeded, failed, skipped_locked: another replica holds the lock or ran this tick)',
      labelNames: ['job', 'result'],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'job_duration_seconds',
      help: 'Duration of the cron job runs that ran (succeeded or failed), seconds',
      labelNames: ['job'],
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    paymentsCreated: new Counter({
      name: 'payments_created_total',
      help: 'Payments created (committed), by currency',
      labelNames: ['currency'],
      registers: [registry],
    }),
    paymentsFailed: new Counter({
      name: 'payments_failed_total',
      help: "Payments that moved to failed, by the payment's failure_code (Stripe's decline_code when there is one, e.g. insufficient_funds; else the error code)",
      labelNames: ['code'],
      registers: [registry],
    }),
    paymentAmount: new Counter({
      name: 'payment_amount_total',
      help: 'Amount of the payments that reached a status (pending at creation, succeeded, failed, canceled), in minor units of the currency',
      labelNames: ['currency', 'status'],
      registers: [registry],
    }),
    refunds: new Counter({
      name: 'refunds_total',
      help: 'Refunds applied to payments (each raise of amount_refunded), by currency',
      labelNames: ['currency'],
      registers: [registry],
    }),
    refundedAmount: new Counter({
      name: 'refunded_amount_total',
      help: 'Amount refunded, in minor units of the currency',
      labelNames: ['currency'],
      registers: [registry],
    }),
    webhookLag: new Histogram({
      name: 'webhook_event_lag_seconds',
      help: "Stripe webhook lag: time stored minus the event's created, seconds (new events only, not duplicates)",
      labelNames: ['type'],
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400],
      registers: [registry],
    }),
    reconcileDrift: new Counter({
      name: 'reconcile_drift_total',
      help: 'Differences between our rows and the provider found (and corrected) by reconcile, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    webhookCaughtUp: new Counter({
      name: 'webhook_events_caught_up_total',
      help: 'Provider events the webhook never delivered, stored by the catch-up job (GET /v1/events), by type',
      labelNames: ['type'],
      registers: [registry],
    }),
  };
}
