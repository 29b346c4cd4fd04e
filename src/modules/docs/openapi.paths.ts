import { error, idempotencyKey, json, listOf, ref } from './openapi.helpers';
import { checkoutPaths } from './openapi.checkout';
import { paymentMethodPaths } from './openapi.payment-methods';

// Path items of /openapi.json. Keep in step with the routers and ../shared/API.md.

const paymentId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const commonErrors = {
  400: error('Invalid input (unknown field, bad amount, currency or metadata)'),
  401: error('Missing, invalid or expired token'),
  404: error('No such payment (or not yours)'),
  429: error('Rate limited'),
};
const moneyMovingErrors = {
  ...commonErrors,
  402: error('Card declined (final; stored and replayed under the Idempotency-Key)'),
  409: error('Idempotency key in progress, or the payment is in a state that forbids the move'),
  413: error('Body too large'),
  415: error('Body is not application/json'),
  422: error('Idempotency-Key reused with a different request'),
  503: error('Provider or database unavailable: retry with the same Idempotency-Key'),
  504: error('Provider timed out: retry with the same Idempotency-Key'),
};

/** Issue #9: with ORDER_SERVICE_URL the order, not the browser, decides the amount. */
const ORDER_SERVICE_CONTRACT =
  'Amount from the order: with ORDER_SERVICE_URL configured, a payment with an order_id takes its amount and currency from the order service: ' +
  'GET {ORDER_SERVICE_URL}/v1/orders/{order_id} with Authorization: Bearer {ORDER_SERVICE_TOKEN} and X-User-Id: <the caller\'s sub>, answering ' +
  '200 {"id": "ord_42", "user_id": "u_1", "amount": 2000, "currency": "usd", "status": "pending" | "paid" | "canceled"} or 404. ' +
  'amount and currency may then be left out; when sent they must equal the order\'s (422 amount_mismatch). ' +
  'The order must be the caller\'s (admins too: the order\'s owner is the payment\'s user), else 404 order_not_found, and pending, else 409 order_not_payable. ' +
  'The order service down, timing out or its circuit open: 503 order_service_unavailable with Retry-After; an answer that is not an order (or a redirect): 502 order_service_invalid_response. ' +
  'In both cases nothing is created and the Idempotency-Key is released, so a retry with the same key works. ' +
  'Without ORDER_SERVICE_URL (development), amount and currency are required and used as sent.';

const orderErrors = {
  404: error('No such payment (or not yours); order_not_found: the order service has no such order for the caller'),
  409: error(
    'Idempotency key in progress, a state that forbids the move, order_not_payable: the order is not pending, ' +
      'order_payment_conflict: the order has an open payment for another amount (payment_id), or order_already_paid: ' +
      'the order has a succeeded, partially_refunded or refunded payment (payment_id, payment_status); nothing is created',
  ),
  422: error('Idempotency-Key reused with a different request, or amount_mismatch: amount/currency differ from the order'),
  502: error('order_service_invalid_response: the order service answered something that is not an order; nothing created'),
  503: error('Provider, database or order service unavailable (order_service_unavailable, with Retry-After): retry with the same Idempotency-Key'),
  504: error('Provider timed out: retry with the same Idempotency-Key'),
};

/** POST /v1/test/simulate's answer, 200 (applied) or 202 (queued). */
const simulation = {
  type: 'object',
  properties: {
    object: { type: 'string', enum: ['simulation'] },
    scenario: { type: 'string' },
    applied: { type: 'boolean', description: 'true when every event below was applied (or settled as ignored) before the answer' },
    events: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          type: { type: 'string' },
          state: { type: 'string', enum: ['pending', 'processing', 'retrying', 'processed', 'ignored', 'dead'] },
          outcome: { type: 'string', nullable: true },
        },
      },
    },
    payment: ref('Payment'),
  },
};

export const paths: Record<string, unknown> = {
  '/v1/payments': {
    post: {
      summary: 'Create a payment (and its PaymentIntent)',
      description:
        'Answers 201 with the client_secret for Stripe.js. With payment_method the intent is confirmed at once; a saved card (pm_ from GET /v1/payment-methods) must be the caller\'s own (anyone else\'s answers 404, param payment_method) and is charged with the caller\'s customer attached. setup_future_usage saves the card paid with on the caller\'s customer. One order, one charge, with or without Idempotency-Key (a new key per attempt included): an open payment for the same (user, order_id, amount, currency) is returned with 200 (and stored under the new key); a paid order is 409 order_already_paid; canceled payments, and failed ones without a PaymentIntent, do not hold the order.\n\n' +
        ORDER_SERVICE_CONTRACT,
      parameters: [idempotencyKey],
      requestBody: { required: true, ...json(ref('CreatePayment')) },
      responses: {
        201: { description: 'Created', ...json(ref('Payment')) },
        200: { description: 'The open payment for this order (with or without Idempotency-Key)', ...json(ref('Payment')) },
        ...moneyMovingErrors,
        ...orderErrors,
      },
    },
    get: {
      summary: 'List payments (customers: their own; admins: all)',
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
        { name: 'starting_after', in: 'query', schema: { type: 'string' } },
        { name: 'status', in: 'query', schema: { type: 'string' } },
        { name: 'order_id', in: 'query', schema: { type: 'string' } },
        { name: 'created_gte', in: 'query', schema: { type: 'string', format: 'date-time' } },
        { name: 'created_lte', in: 'query', schema: { type: 'string', format: 'date-time' } },
        { name: 'user_id', in: 'query', schema: { type: 'string' }, description: 'admins only' },
        { name: 'q', in: 'query', schema: { type: 'string' }, description: 'payment, order or PaymentIntent id' },
        { name: 'sort', in: 'query', schema: { type: 'string', enum: ['created_at', '-created_at', 'amount', '-amount'], default: '-created_at' } },
      ],
      responses: { 200: { description: 'A page', ...json(ref('PaymentList')) }, ...commonErrors, 403: error('user_id is for admins') },
    },
  },
  '/v1/payments/{id}': {
    get: { summary: 'One payment', parameters: [paymentId], responses: { 200: { description: 'The payment', ...json(ref('Payment')) }, ...commonErrors } },
  },
  '/v1/payments/{id}/confirm': {
    post: {
      summary: 'Confirm server-side with a PaymentMethod',
      description:
        "A saved card must be the payment owner's (anyone else's answers 404, param payment_method) and can pay only a payment created for their customer (with that payment_method or setup_future_usage); otherwise 400. " +
        'A payment whose order has another payment processing, succeeded, partially_refunded or refunded is 409 order_already_paid (payment_id names it); the provider is not called.',
      parameters: [paymentId, idempotencyKey],
      requestBody: { required: true, ...json(ref('ConfirmPayment')) },
      responses: {
        200: { description: 'The payment after confirmation', ...json(ref('Payment')) },
        ...moneyMovingErrors,
        409: error('Idempotency key in progress, a state that forbids the move, or order_already_paid: another payment of the order took the money'),
      },
    },
  },
  '/v1/payments/{id}/cancel': {
    post: {
      summary: 'Cancel an open payment',
      parameters: [paymentId, idempotencyKey],
      requestBody: { required: false, ...json(ref('CancelPayment')) },
      responses: { 200: { description: 'The canceled payment', ...json(ref('Payment')) }, ...moneyMovingErrors },
    },
  },
  '/v1/payments/{id}/history': {
    get: {
      summary: 'Status moves, oldest first',
      parameters: [paymentId],
      responses: { 200: { description: 'Moves', ...json({ type: 'object', properties: { object: { type: 'string' }, data: { type: 'array', items: ref('StatusMove') }, has_more: { type: 'boolean' } } }) }, ...commonErrors },
    },
  },
  '/v1/payments/{id}/refunds': {
    post: {
      summary: 'Refund a payment (admins): full by default, partial and repeated allowed',
      description:
        'Never more than what remains (422 amount_exceeds_refundable), also under concurrent requests: the refund is recorded as pending under the payment lock before Stripe is called, with an idempotency key derived from the refund id. The amount follows the payment currency\'s rules as a create does (three-decimal currencies end in 0: 400 parameter_invalid).',
      parameters: [paymentId, idempotencyKey],
      requestBody: { required: false, ...json(ref('CreateRefund')) },
      responses: {
        201: { description: 'The refund', ...json(ref('Refund')) },
        ...moneyMovingErrors,
        403: error('Not an admin'),
        409: error('The payment has not succeeded (nothing to refund yet), or the key is in progress'),
        422: error('amount_exceeds_refundable (with `refundable`), or the Idempotency-Key reused with another body'),
      },
    },
    get: {
      summary: "The payment's refunds, oldest first (Dashboard refunds included, recorded from webhooks)",
      parameters: [paymentId],
      responses: { 200: { description: 'Refunds', ...json(listOf('Refund')) }, ...commonErrors },
    },
  },
  ...paymentMethodPaths,
  ...checkoutPaths,
  '/v1/webhooks/stripe': {
    post: {
      summary: 'Stripe webhook endpoint (no JWT; Stripe-Signature verified over the raw body)',
      description:
        'Verified with STRIPE_WEBHOOK_SECRET (a comma-separated list while rolling a secret), 300 s tolerance, future timestamps refused. A verified event is stored once by its id before the 200; it is applied off the request path by a worker. Duplicates answer 200 with duplicate: true and have no second effect. Unknown types, thin events (v2.core.event, no snapshot), events of the other mode (livemode against the key) or of another account (STRIPE_ACCOUNT_ID), and objects that are not ours are stored as ignored and answered 200.',
      security: [],
      parameters: [{ name: 'Stripe-Signature', in: 'header', required: true, schema: { type: 'string', example: 't=1700000000,v1=5257a869...' } }],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', description: 'A Stripe event' } } } },
      responses: {
        200: {
          description: 'Stored (or already stored)',
          ...json({ type: 'object', properties: { received: { type: 'boolean' }, id: { type: 'string' }, duplicate: { type: 'boolean' } } }),
        },
        400: error(
          'Nothing stored. signature_invalid: bad, missing or stale signature (only then); invalid_json: signed but not JSON; event_invalid: signed JSON that is not a Stripe event (no id or type, or no data.object and not a thin event)',
        ),
        413: error('Body over 1 MB (refused before any HMAC work)'),
        503: error('Database unavailable: not stored, so Stripe retries'),
      },
    },
  },
  '/v1/admin/webhook-events': {
    get: {
      summary: 'Stored webhook events with their processing state (admins)',
      parameters: [
        { name: 'state', in: 'query', schema: { type: 'string', enum: ['pending', 'processing', 'retrying', 'processed', 'ignored', 'dead'] } },
        { name: 'type', in: 'query', schema: { type: 'string', example: 'payment_intent.succeeded' } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
        { name: 'starting_after', in: 'query', schema: { type: 'string' } },
      ],
      responses: { 200: { description: 'A page, newest first', ...json(listOf('WebhookEvent')) }, 401: error('No token'), 403: error('Not an admin') },
    },
  },
  '/v1/admin/webhook-events/{id}': {
    get: {
      summary: 'One stored webhook event (admins)',
      parameters: [paymentId],
      responses: { 200: { description: 'The event', ...json(ref('WebhookEvent')) }, 403: error('Not an admin'), 404: error('No such event') },
    },
  },
  '/v1/admin/webhook-events/{id}/replay': {
    post: {
      summary: 'Re-apply one stored event now, with a fresh set of attempts (admins)',
      parameters: [paymentId],
      responses: {
        200: { description: 'The event after the replay', ...json(ref('WebhookEvent')) },
        403: error('Not an admin'),
        404: error('No such event'),
        409: error('The event is being processed right now'),
      },
    },
  },
  '/v1/admin/analytics': {
    get: {
      summary: 'Payment totals per currency and per provider in each currency (admins)',
      description:
        'Money is in the minor unit and never summed across currencies. gross: amount of payments that succeeded (succeeded, partially_refunded, refunded); refunded: sum of amount_refunded; net: gross - refunded; disputed: sum of amount_disputed, shown apart. Payments count by their current status; success_rate = succeeded-ish / (succeeded-ish + failed + canceled), 4 decimals, null when that is 0. Only groups with payments are listed, sorted by currency (then provider).',
      parameters: [
        { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'created_at >= from (inclusive)' },
        { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'created_at < to (exclusive); from after to is 400' },
        { name: 'currency', in: 'query', schema: { type: 'string', pattern: '^[a-z]{3}$', example: 'usd' } },
        { name: 'provider', in: 'query', schema: { type: 'string', enum: ['stripe', 'mock'] } },
      ],
      responses: {
        200: {
          description: 'The totals for the window',
          ...json(
            (() => {
              const totals = {
                currency: { type: 'string', example: 'usd' },
                gross: { type: 'integer' },
                refunded: { type: 'integer' },
                net: { type: 'integer' },
                disputed: { type: 'integer' },
                count: { type: 'integer' },
                counts: { type: 'object', description: 'Payments per status, every status present', additionalProperties: { type: 'integer' } },
                success_rate: { type: 'number', nullable: true, example: 0.9375 },
              };
              return {
                type: 'object',
                properties: {
                  object: { type: 'string', enum: ['analytics'] },
                  from: { type: 'string', format: 'date-time', nullable: true },
                  to: { type: 'string', format: 'date-time', nullable: true },
                  currencies: { type: 'array', items: { type: 'object', properties: totals } },
                  providers: {
                    type: 'array',
                    items: { type: 'object', properties: { provider: { type: 'string', enum: ['stripe', 'mock'] }, ...totals } },
                  },
                },
              };
            })(),
          ),
        },
        400: error('Unknown parameter, bad from/to or from after to, unsupported currency, unknown provider'),
        401: error('No token'),
        403: error('Not an admin'),
      },
    },
  },
  '/v1/admin/event-deliveries': {
    get: {
      summary: 'Emitted events, one row per target (Redis stream, order service, each event webhook URL), with delivery state (admins)',
      parameters: [
        { name: 'state', in: 'query', schema: { type: 'string', enum: ['pending', 'delivered', 'dead'] } },
        { name: 'target', in: 'query', schema: { type: 'string', example: 'order_service' } },
        { name: 'payment_id', in: 'query', schema: { type: 'string' } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
        { name: 'starting_after', in: 'query', schema: { type: 'string', example: 'dlv_42' } },
      ],
      responses: { 200: { description: 'A page, newest first', ...json(listOf('EventDelivery')) }, 401: error('No token'), 403: error('Not an admin') },
    },
  },
  '/v1/admin/event-deliveries/{id}/resend': {
    post: {
      summary: 'Send one delivery again now, with a fresh set of attempts (admins)',
      parameters: [paymentId],
      responses: {
        200: { description: 'The delivery after the attempt', ...json(ref('EventDelivery')) },
        403: error('Not an admin'),
        404: error('No such delivery'),
        409: error('Being attempted right now'),
      },
    },
  },
  '/v1/test/simulate': {
    post: {
      summary: 'Development only (404 when NODE_ENV=production): make a provider scenario happen',
      description:
        "Emits the signed Stripe-shaped event(s) a scenario produces through the real webhook pipeline, applies them (in order with the payment's other events, on whichever replica holds them) and waits for them, at most 10 s, before answering; history rows carry source 'simulate'. Customers may simulate only on their own payments.",
      requestBody: { required: true, ...json(ref('Simulate')) },
      responses: {
        200: { description: 'Every event was applied (applied: true); the payment afterwards', ...json(simulation) },
        202: { description: 'The events are stored and queued but were not all applied within the wait (applied: false); the payment as it stood', ...json(simulation) },
        400: error('Invalid body or scenario'),
        404: error('No such payment, or production'),
        409: error('The scenario is not possible in the payment’s state'),
      },
    },
  },
  '/health': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'Alive' } } } },
  '/ready': {
    get: {
      summary: 'Readiness: database (and Redis if configured); 503 from SIGTERM on, while the process drains',
      security: [],
      responses: { 200: { description: 'Ready' }, 503: error('Names what is down, or `status: draining` once shutting down') },
    },
  },
  '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'Prometheus text' } } } },
  '/openapi.json': { get: { summary: 'This contract (OpenAPI 3)', security: [], responses: { 200: { description: 'The OpenAPI document' } } } },
  '/docs': { get: { summary: 'A page to read this contract (Swagger UI)', security: [], responses: { 200: { description: 'HTML' } } } },
};
