import { randomBytes } from 'node:crypto';
import { Router, type Response } from 'express';
import customerFixture from '../fixtures/stripe/objects/customer.json';
import paymentMethodFixture from '../fixtures/stripe/objects/payment_method.json';
import { testCardFor } from '../../src/providers/mock/mock-outcomes';

export type StripeObject = Record<string, unknown> & { id: string };

const stripeId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

/**
 * Customers, SetupIntents and card PaymentMethods for the fake Stripe: the state behind
 * POST /v1/customers, POST /v1/setup_intents, GET /v1/payment_methods(/:id) and
 * POST /v1/payment_methods/:id/detach. Idempotency-Key is honoured by the fake's own middleware.
 */
export class FakeStripeWallet {
  readonly customers = new Map<string, StripeObject>();
  readonly setupIntents = new Map<string, StripeObject>();
  // Insertion order is creation order; lists read it backwards, newest first, as Stripe's do.
  readonly paymentMethods = new Map<string, StripeObject>();

  routes(): Router {
    const router = Router();

    router.post('/v1/customers', (req, res) => {
      const customer: StripeObject = {
        ...structuredClone(customerFixture),
        id: stripeId('cus'),
        created: now(),
        discount: null,
        metadata: req.body.metadata ?? {},
      };
      this.customers.set(customer.id, customer);
      res.json(customer);
    });

    router.post('/v1/setup_intents', (req, res) => {
      const body = req.body as Record<string, unknown>;
      const customer = String(body.customer ?? '');
      // A missing object named in the body is a 400 at Stripe (404 is for the one in the path).
      if (!this.customers.has(customer)) return missing(res, 'customer', customer, 'customer', 400);
      const id = stripeId('seti');
      const si: StripeObject = {
        id,
        object: 'setup_intent',
        allowed_payment_method_types: body.allowed_payment_method_types ?? ['card'],
        cancellation_reason: null,
        client_secret: `${id}_secret_${randomBytes(12).toString('hex')}`,
        created: now(),
        customer,
        last_setup_error: null,
        livemode: false,
        metadata: body.metadata ?? {},
        next_action: null,
        payment_method: null,
        payment_method_types: ['card'],
        status: 'requires_payment_method',
        usage: body.usage ?? 'off_session',
      };
      this.setupIntents.set(id, si);
      res.json(si);
    });

    router.get('/v1/payment_methods', (req, res) => {
      const { customer, type, starting_after: startingAfter } = req.query as Record<string, string | undefined>;
      const limit = Number(req.query.limit ?? 10);
      const all = [...this.paymentMethods.values()].filter((pm) => pm.customer === customer && (!type || pm.type === type)).reverse();
      const start = startingAfter ? all.findIndex((pm) => pm.id === startingAfter) + 1 : 0;
      if (startingAfter && start === 0) return missing(res, 'PaymentMethod', startingAfter, 'starting_after');
      res.json({ object: 'list', data: all.slice(start, start + limit), has_more: start + limit < all.length, url: '/v1/payment_methods' });
    });

    router.get('/v1/payment_methods/:id', (req, res) => {
      const pm = this.paymentMethods.get(req.params.id);
      if (!pm) return missing(res, 'PaymentMethod', req.params.id, 'payment_method');
      res.json(pm);
    });

    router.post('/v1/payment_methods/:id/detach', (req, res) => {
      const pm = this.paymentMethods.get(req.params.id);
      if (!pm) return missing(res, 'PaymentMethod', req.params.id, 'payment_method');
      if (!pm.customer) {
        return res.status(400).json({
          error: {
            type: 'invalid_request_error',
            code: 'payment_method_unexpected_state',
            message: 'The payment method you provided is not attached to a customer so detachment is impossible.',
          },
        });
      }
      pm.customer = null;
      res.json(pm);
    });

    return router;
  }

  /**
   * What Stripe.js confirming a SetupIntent does: a new card PaymentMethod (its own `pm_` id, the
   * card `testPaymentMethod` stands for) attached to the customer, and the customer's open
   * SetupIntent, if any, succeeded with it.
   */
  attachCard(customerId: string, testPaymentMethod = 'pm_card_visa'): StripeObject {
    if (!this.customers.has(customerId)) throw new Error(`fake Stripe has no customer ${customerId}`);
    const card = testCardFor(testPaymentMethod);
    if (!card) throw new Error(`${testPaymentMethod} is not a test card`);
    const pm: StripeObject = {
      ...structuredClone(paymentMethodFixture),
      id: stripeId('pm'),
      created: now(),
      customer: customerId,
      metadata: {},
      card: {
        ...structuredClone(paymentMethodFixture.card),
        brand: card.brand,
        display_brand: card.brand,
        exp_month: card.expMonth,
        exp_year: card.expYear,
        funding: card.funding,
        last4: card.last4,
        fingerprint: randomBytes(8).toString('hex'),
        networks: { available: [card.brand], preferred: null },
        wallet: null,
      },
    };
    this.paymentMethods.set(pm.id, pm);
    const open = [...this.setupIntents.values()].reverse().find((si) => si.customer === customerId && si.status === 'requires_payment_method');
    if (open) Object.assign(open, { status: 'succeeded', payment_method: pm.id });
    return pm;
  }
}

function missing(res: Response, what: string, id: string, param: string, status = 404): void {
  res.status(status).json({ error: { type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${what}: '${id}'` } });
}
