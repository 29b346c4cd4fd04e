import { error, json } from './openapi.helpers';

const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });

/** The demo checkout page, its demo token (development only) and the mock provider's 3-D Secure page. */
export const checkoutPaths: Record<string, unknown> = {
  '/checkout': {
    get: {
      summary: 'The demo checkout page (outside production, or with CHECKOUT_PAGE_ENABLED=true)',
      description:
        'Order summary, a labelled card field (Stripe test card numbers with the mock; the Payment Element with STRIPE_PUBLISHABLE_KEY), a Pay button, the final status in role="status". Served with its own Content-Security-Policy: self, plus Stripe.js, api.stripe.com and Stripe frames when Stripe is on. Its script and styles are under /checkout/assets/.',
      security: [],
      responses: { 200: html('The page'), 404: error('The page is off (production without CHECKOUT_PAGE_ENABLED)') },
    },
  },
  '/checkout/config.json': {
    get: {
      summary: "What the checkout page needs: the provider, Stripe's publishable key, where a demo token comes from",
      security: [],
      responses: {
        200: {
          description: 'The page configuration',
          ...json({
            type: 'object',
            properties: {
              provider: { type: 'string', enum: ['stripe', 'mock'] },
              publishable_key: { type: 'string', nullable: true },
              demo_token_url: { type: 'string', nullable: true, description: 'null in production' },
              currency_exponents: { type: 'object', additionalProperties: { type: 'integer' } },
            },
          }),
        },
        404: error('The page is off'),
      },
    },
  },
  '/v1/test/checkout-token': {
    post: {
      summary: 'Development only (404 when NODE_ENV=production): a customer token for a new demo user, for the checkout page',
      security: [],
      responses: {
        201: {
          description: 'A customer token (HS256, 12 h) for a new user demo_...',
          ...json({
            type: 'object',
            properties: {
              object: { type: 'string', enum: ['checkout_token'] },
              token: { type: 'string' },
              user_id: { type: 'string' },
              expires_at: { type: 'string', format: 'date-time' },
            },
          }),
        },
        404: error('Production'),
      },
    },
  },
  '/mock/3ds/{payment_intent}': {
    parameters: [{ name: 'payment_intent', in: 'path', required: true, schema: { type: 'string', example: 'pi_...' } }],
    get: {
      summary: "Mock provider only (never in production): its 3-D Secure page, like Stripe's test page",
      description:
        "The page a mock payment's next_action.use_stripe_sdk.stripe_js names; the browser adds ?client_secret=<the payment's client_secret>. Shows the amount and Complete / Fail.",
      security: [],
      parameters: [{ name: 'client_secret', in: 'query', required: true, schema: { type: 'string' } }],
      responses: { 200: html('The authentication page'), 404: html('Unknown intent or wrong client secret'), 409: html('Nothing to authenticate') },
    },
    post: {
      summary: 'Mock provider only: the answer on the 3-D Secure page',
      description:
        'Form fields client_secret and outcome = complete | fail. The mock emits the signed events Stripe would (payment_intent.succeeded, or payment_intent.payment_failed with payment_intent_authentication_failure) through the webhook pipeline, which settles the payment.',
      security: [],
      requestBody: {
        required: true,
        content: {
          'application/x-www-form-urlencoded': {
            schema: {
              type: 'object',
              required: ['client_secret', 'outcome'],
              properties: { client_secret: { type: 'string' }, outcome: { type: 'string', enum: ['complete', 'fail'] } },
            },
          },
        },
      },
      responses: { 200: html('Answered'), 400: html('Bad outcome'), 404: html('Unknown intent or wrong client secret'), 409: html('Nothing to authenticate') },
    },
  },
};
