/** Path items of /openapi.json. Keep in step with the routers and ../shared/API.md. */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json(ref('Error')) });

const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', maxLength: 255 },
  description:
    'Scope (user, key), kept 24 h. Same key + same body replays the original answer with Idempotent-Replayed: true; another body answers 422; a key still running answers 409.',
};
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

export const paths: Record<string, unknown> = {
  '/v1/payments': {
    post: {
      summary: 'Create a payment (and its PaymentIntent)',
      description:
        'Answers 201 with the client_secret for Stripe.js. With payment_method the intent is confirmed at once. Without Idempotency-Key, an open payment for the same (user, order_id, amount) is returned with 200.',
      parameters: [idempotencyKey],
      requestBody: { required: true, ...json(ref('CreatePayment')) },
      responses: {
        201: { description: 'Created', ...json(ref('Payment')) },
        200: { description: 'The open payment for this order (no Idempotency-Key)', ...json(ref('Payment')) },
        ...moneyMovingErrors,
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
      parameters: [paymentId, idempotencyKey],
      requestBody: { required: true, ...json(ref('ConfirmPayment')) },
      responses: { 200: { description: 'The payment after confirmation', ...json(ref('Payment')) }, ...moneyMovingErrors },
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
  '/health': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'Alive' } } } },
  '/ready': {
    get: {
      summary: 'Readiness: database (and Redis if configured)',
      security: [],
      responses: { 200: { description: 'Ready' }, 503: error('Names what is down') },
    },
  },
  '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'Prometheus text' } } } },
};
