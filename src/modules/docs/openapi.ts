import { z } from 'zod';
import type { Config } from '../../shared/config';
import { createSetupIntentSchema } from '../payment-methods';
import { paymentSchemas, PAYMENT_STATUSES } from '../payments';
import { createRefundSchema } from '../refunds';
import { simulateSchema } from '../simulate/simulate.routes';
import { listOf } from './openapi.helpers';
import { paths } from './openapi.paths';

const toSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' });

/** The machine-readable contract served at /openapi.json (and rendered at /docs). */
export function buildOpenApiDocument(config: Pick<Config, 'publicUrl' | 'port'> & Partial<Pick<Config, 'orderServiceUrl'>>) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'payments-service',
      version: '1.0.0',
      description:
        'Stripe behind a small, safe HTTP API. Money is an integer in the minor unit; errors always have the shape {"error": {type, code, message, param?, request_id}}.',
    },
    servers: [{ url: config.publicUrl ?? `http://localhost:${config.port}` }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        // The schema this instance validates with: amount and currency optional when the order decides them.
        CreatePayment: toSchema(config.orderServiceUrl ? paymentSchemas.orderPricedPaymentSchema : paymentSchemas.createPaymentSchema),
        ConfirmPayment: toSchema(paymentSchemas.confirmPaymentSchema),
        CancelPayment: toSchema(paymentSchemas.cancelPaymentSchema),
        Payment: paymentObjectSchema,
        PaymentList: listOf('Payment'),
        StatusMove: {
          type: 'object',
          properties: {
            from: { type: 'string', nullable: true, enum: [...PAYMENT_STATUSES, null] },
            to: { type: 'string', enum: [...PAYMENT_STATUSES] },
            source: { type: 'string', enum: ['api', 'webhook', 'reconcile', 'admin', 'simulate'] },
            event_id: { type: 'string', nullable: true },
            at: { type: 'string', format: 'date-time' },
          },
        },
        Simulate: toSchema(simulateSchema),
        WebhookEvent: webhookEventSchema,
        Refund: refundSchema,
        EventDelivery: eventDeliverySchema,
        CreateRefund: toSchema(createRefundSchema),
        PaymentMethod: paymentMethodSchema,
        SetupIntent: setupIntentSchema,
        CreateSetupIntent: toSchema(createSetupIntentSchema),
        Error: errorSchema,
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

const webhookEventSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: "Stripe's event id" },
    object: { type: 'string', enum: ['webhook_event'] },
    type: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'processing', 'retrying', 'processed', 'ignored', 'dead'] },
    outcome: { type: 'string', nullable: true, description: 'e.g. moved, unchanged, stale, not_ours, unhandled_type, refund_recorded' },
    attempts: { type: 'integer' },
    last_error: { type: 'string', nullable: true },
    payment_id: { type: 'string', nullable: true },
    object_id: { type: 'string', nullable: true },
    source: { type: 'string', enum: ['webhook', 'simulate'] },
    provider_created: { type: 'string', format: 'date-time' },
    api_version: { type: 'string', nullable: true },
    livemode: { type: 'boolean' },
    account: { type: 'string', nullable: true },
    signature_verified: { type: 'boolean', description: 'true: a signed delivery; false: fetched from the events API by the catch-up job' },
    received_at: { type: 'string', format: 'date-time' },
    processed_at: { type: 'string', format: 'date-time', nullable: true },
    next_attempt_at: { type: 'string', format: 'date-time', nullable: true },
    payload: { type: 'object', description: 'The raw event as Stripe sent it' },
  },
};

const eventDeliverySchema = {
  type: 'object',
  properties: {
    id: { type: 'string', example: 'dlv_42' },
    object: { type: 'string', enum: ['event_delivery'] },
    target: { type: 'string', description: 'stream, order_service or webhook:<url>' },
    state: { type: 'string', enum: ['pending', 'delivered', 'dead'] },
    attempts: { type: 'integer' },
    last_error: { type: 'string', nullable: true },
    next_attempt_at: { type: 'string', format: 'date-time', nullable: true },
    delivered_at: { type: 'string', format: 'date-time', nullable: true },
    created_at: { type: 'string', format: 'date-time' },
    event: {
      type: 'object',
      description: 'The event as sent: {id, object: "event", type, created_at, data: {payment, ...}}',
      properties: { id: { type: 'string' }, type: { type: 'string' }, created_at: { type: 'string' }, data: { type: 'object' } },
    },
  },
};

const refundSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', example: 'ref_...' },
    object: { type: 'string', enum: ['refund'] },
    payment_id: { type: 'string' },
    amount: { type: 'integer' },
    currency: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'] },
    reason: { type: 'string', nullable: true },
    provider_refund_id: { type: 'string', nullable: true, description: "Stripe's re_... (null until Stripe names it)" },
    failure_reason: { type: 'string', nullable: true },
    source: { type: 'string', enum: ['api', 'webhook', 'simulate', 'reconcile', 'admin'] },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
};

const paymentMethodSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', example: 'pm_1Pgc75B7WZ01zgkW', description: "The provider's PaymentMethod id" },
    object: { type: 'string', enum: ['payment_method'] },
    brand: { type: 'string', example: 'visa' },
    last4: { type: 'string', example: '4242' },
    exp_month: { type: 'integer', example: 12 },
    exp_year: { type: 'integer', example: 2030 },
    created_at: { type: 'string', format: 'date-time' },
  },
};

const setupIntentSchema = {
  type: 'object',
  properties: {
    object: { type: 'string', enum: ['setup_intent'] },
    id: { type: 'string', example: 'seti_...' },
    client_secret: { type: 'string', example: 'seti_..._secret_...', description: 'For Stripe.js confirmCardSetup' },
    status: {
      type: 'string',
      enum: ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'canceled', 'succeeded'],
    },
    publishable_key: { type: 'string', nullable: true, description: 'STRIPE_PUBLISHABLE_KEY with Stripe; null with the mock' },
  },
};

const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['type', 'code', 'message'],
      properties: {
        type: {
          type: 'string',
          enum: [
            'invalid_request_error', 'authentication_error', 'permission_error', 'not_found', 'idempotency_error',
            'conflict', 'card_error', 'rate_limit_error', 'provider_error', 'api_error',
          ],
        },
        code: { type: 'string' },
        message: { type: 'string' },
        param: { type: 'string' },
        decline_code: { type: 'string', description: 'card_error only' },
        request_id: { type: 'string' },
      },
    },
  },
};

const paymentObjectSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', example: 'pay_3kTqZ...' },
    object: { type: 'string', enum: ['payment'] },
    status: { type: 'string', enum: [...PAYMENT_STATUSES] },
    amount: { type: 'integer', description: 'minor units' },
    currency: { type: 'string', example: 'usd' },
    amount_refunded: { type: 'integer' },
    order_id: { type: 'string', nullable: true },
    user_id: { type: 'string' },
    description: { type: 'string', nullable: true },
    metadata: { type: 'object', additionalProperties: { type: 'string' } },
    provider: { type: 'string', enum: ['stripe', 'mock'] },
    provider_payment_id: { type: 'string', nullable: true },
    client_secret: { type: 'string', nullable: true, description: "Only for the payment's owner while it is open" },
    payment_method: { type: 'string', nullable: true },
    next_action: { type: 'object', nullable: true, description: 'Stripe next_action while requires_action' },
    failure_code: { type: 'string', nullable: true },
    failure_message: { type: 'string', nullable: true },
    order_check: {
      type: 'object',
      nullable: true,
      description: 'Admins only: what the order service said the order cost (minor units) and when; null when the client amount was used',
      properties: { amount: { type: 'integer' }, currency: { type: 'string' }, checked_at: { type: 'string', format: 'date-time' } },
    },
    dispute: {
      type: 'object',
      nullable: true,
      properties: { id: { type: 'string' }, status: { type: 'string' }, reason: { type: 'string' }, amount: { type: 'integer' } },
    },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
};
