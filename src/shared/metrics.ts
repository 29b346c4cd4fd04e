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
  };
}
