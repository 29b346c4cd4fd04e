import { error, idempotencyKey, json, listOf, ref } from './openapi.helpers';

const providerErrors = {
  502: error('The provider refused the request'),
  503: error('Provider unavailable: retry the request'),
  504: error('Provider timed out: retry the request'),
};

/** /v1/payment-methods: customer endpoints; everyone, admins included, acts on their own saved cards. */
export const paymentMethodPaths: Record<string, unknown> = {
  '/v1/payment-methods': {
    get: {
      summary: "The caller's saved cards, newest first",
      description: "Listed from the provider on the caller's customer; empty until a card was saved.",
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
        { name: 'starting_after', in: 'query', schema: { type: 'string', example: 'pm_...' } },
      ],
      responses: {
        200: { description: 'A page', ...json(listOf('PaymentMethod')) },
        400: error('Unknown parameter, bad limit, or starting_after not a card in this list'),
        401: error('Missing, invalid or expired token'),
        ...providerErrors,
      },
    },
  },
  '/v1/payment-methods/setup-intents': {
    post: {
      summary: 'A SetupIntent for saving a card with Stripe.js (stripe.confirmCardSetup with its client_secret)',
      description:
        "For the caller's provider customer, created on first need; cards only, usage off_session. The body is empty ({} or none). publishable_key is STRIPE_PUBLISHABLE_KEY with Stripe, null with the mock (whose SetupIntents no browser can confirm).",
      parameters: [idempotencyKey],
      requestBody: { required: false, ...json(ref('CreateSetupIntent')) },
      responses: {
        201: { description: 'The SetupIntent', ...json(ref('SetupIntent')) },
        400: error('Unknown body field'),
        401: error('Missing, invalid or expired token'),
        409: error('Idempotency key in progress'),
        422: error('Idempotency-Key reused with a different request'),
        ...providerErrors,
      },
    },
  },
  '/v1/payment-methods/{id}': {
    delete: {
      summary: 'Detach one of the caller’s saved cards',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^pm_[A-Za-z0-9_]+$' } }],
      responses: {
        200: {
          description: 'Detached',
          ...json({
            type: 'object',
            properties: { id: { type: 'string' }, object: { type: 'string', enum: ['payment_method'] }, deleted: { type: 'boolean', enum: [true] } },
          }),
        },
        401: error('Missing, invalid or expired token'),
        404: error('No such card on the caller’s customer (someone else’s card answers 404 too)'),
        ...providerErrors,
      },
    },
  },
};
