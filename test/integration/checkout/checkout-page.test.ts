import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { createPayment, eventually, historyOf, paymentRow } from '../../helpers/webhook-payments';

const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://unused.invalid/db',
  JWT_SECRET: 'a-production-secret-that-is-long-enough-0123456789',
  STRIPE_WEBHOOK_SECRET: 'whsec_production_secret_for_the_test',
};

/** The CSP header as a map of directive -> sources. */
function cspOf(header: string | undefined): Record<string, string[]> {
  expect(header, 'Content-Security-Policy').to.be.a('string');
  return Object.fromEntries(
    header!
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name, values]),
  );
}

describe('the checkout page (GET /checkout)', () => {
  describe('outside production, with the mock provider', () => {
    let app: Express;

    before(() => {
      ({ app } = buildTestApp());
    });

    it('when the page is asked for, then it answers the HTML with a Pay button, a labelled card field and a status region, under a self-only CSP', async () => {
      const res = await request(app).get('/checkout');
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.match(/^text\/html/);
      expect(res.text).to.match(/<button[^>]*>Pay<\/button>/);
      expect(res.text).to.contain('<label for="card-number">Card number</label>');
      expect(res.text).to.match(/id="card-number"/);
      expect(res.text).to.match(/role="status"/);
      expect(res.headers['cache-control']).to.equal('no-store');

      const csp = cspOf(res.headers['content-security-policy']);
      expect(csp['default-src']).to.deep.equal(["'self'"]);
      expect(csp['script-src']).to.deep.equal(["'self'"]);
      expect(csp['connect-src']).to.deep.equal(["'self'"]);
      expect(csp['frame-src']).to.deep.equal(["'self'"]);
      expect(csp['frame-ancestors']).to.deep.equal(["'none'"]);
      expect(res.headers['content-security-policy']).not.to.contain('stripe.com');
    });

    it('when its script, styles and config are asked for, then they are served under the same CSP; the config names the mock and the demo token route', async () => {
      const js = await request(app).get('/checkout/assets/checkout.js');
      expect(js.status).to.equal(200);
      expect(js.headers['content-type']).to.match(/javascript/);
      expect(js.text).to.contain('/v1/payments');
      expect((await request(app).get('/checkout/assets/checkout.css')).status).to.equal(200);
      expect((await request(app).get('/checkout/assets/nope.js')).status).to.equal(404);

      const config = await request(app).get('/checkout/config.json');
      expect(config.status).to.equal(200);
      expect(config.headers['content-security-policy']).to.contain("script-src 'self'");
      expect(config.body).to.include({ provider: 'mock', publishable_key: null, demo_token_url: '/v1/test/checkout-token' });
      expect(config.body.currency_exponents).to.include({ usd: 2, jpy: 0 });
    });

    it('when the page asks for a demo token, then it gets a customer token for a new demo user that the API accepts', async () => {
      const first = await request(app).post('/v1/test/checkout-token');
      expect(first.status, first.text).to.equal(201);
      expect(first.body.user_id).to.match(/^demo_/);
      const second = await request(app).post('/v1/test/checkout-token');
      expect(second.body.user_id).not.to.equal(first.body.user_id);

      const payment = await createPayment(app, first.body.token, {});
      const row = await paymentRow(payment.id);
      expect(row).to.include({ user_id: first.body.user_id });
      const list = await request(app).get('/v1/payments').set(bearer(first.body.token));
      expect(list.status).to.equal(200);
      expect(list.body.data.map((p: { id: string }) => p.id)).to.deep.equal([payment.id]);
    });
  });

  describe('the mock 3-D Secure page', () => {
    let app: Express;
    let container: Container;
    let token: string;

    before(() => {
      ({ app, container } = buildTestApp());
    });
    beforeEach(() => {
      token = tokenFor(newUserId());
    });

    /** A payment confirmed with the 4000 0025 0000 3155 card: requires_action, with the mock's page in next_action. */
    async function needingAuthentication() {
      const res = await request(app)
        .post('/v1/payments')
        .set(bearer(token))
        .send({ amount: 2000, currency: 'usd', payment_method: 'pm_card_authenticationRequiredOnSetup' });
      expect(res.status, res.text).to.equal(201);
      expect(res.body.status).to.equal('requires_action');
      const page = res.body.next_action.use_stripe_sdk.stripe_js as string;
      expect(page).to.equal(`/mock/3ds/${res.body.provider_payment_id}`);
      return res.body as { id: string; provider_payment_id: string; client_secret: string; next_action: unknown };
    }

    // The mock's events reach the webhook inbox just after the answer; the worker (not running in tests) applies them.
    const settled = (id: string, status: string) =>
      eventually(
        async () => {
          await container.webhooks.worker.drain();
          const row = await paymentRow(id);
          return row?.status === status ? row : undefined;
        },
        `payment ${status}`,
        500,
      );

    it('when the person opens it with the client secret and completes, then the payment ends succeeded through the webhook pipeline', async () => {
      const payment = await needingAuthentication();
      const page = await request(app).get(`/mock/3ds/${payment.provider_payment_id}`).query({ client_secret: payment.client_secret });
      expect(page.status).to.equal(200);
      expect(page.text).to.match(/<button[^>]*value="complete"[^>]*>Complete<\/button>/);
      expect(page.text).to.match(/<button[^>]*value="fail"[^>]*>Fail<\/button>/);
      expect(page.text).to.contain('20.00 USD');
      expect(cspOf(page.headers['content-security-policy'])['frame-ancestors']).to.deep.equal(["'self'"]);

      const answer = await request(app)
        .post(`/mock/3ds/${payment.provider_payment_id}`)
        .type('form')
        .send({ client_secret: payment.client_secret, outcome: 'complete' });
      expect(answer.status).to.equal(200);
      expect(answer.text).to.contain('Authentication complete');

      await settled(payment.id, 'succeeded');
      const moves = await historyOf(payment.id);
      expect(moves.at(-1)).to.include({ from_status: 'requires_action', to_status: 'succeeded', source: 'webhook' });
      expect(moves.at(-1)!.event_id).to.match(/^evt_/);
    });

    it('when the person fails it, then the payment ends failed with Stripe’s authentication error, and may be paid again with another card', async () => {
      const payment = await needingAuthentication();
      const answer = await request(app)
        .post(`/mock/3ds/${payment.provider_payment_id}`)
        .type('form')
        .send({ client_secret: payment.client_secret, outcome: 'fail' });
      expect(answer.status).to.equal(200);
      const row = await settled(payment.id, 'failed');
      expect(row).to.include({ failure_code: 'payment_intent_authentication_failure' });
      expect((await historyOf(payment.id)).at(-1)).to.include({ to_status: 'failed', source: 'webhook' });

      const retry = await request(app).post(`/v1/payments/${payment.id}/confirm`).set(bearer(token)).send({ payment_method: 'pm_card_visa' });
      expect(retry.status, retry.text).to.equal(200);
      expect(retry.body.status).to.equal('succeeded');
    });

    it('when the client secret is wrong or missing, then 404 and the payment does not move', async () => {
      const payment = await needingAuthentication();
      const url = `/mock/3ds/${payment.provider_payment_id}`;
      expect((await request(app).get(url).query({ client_secret: `${payment.client_secret}x` })).status).to.equal(404);
      expect((await request(app).get(url)).status).to.equal(404);
      const post = await request(app).post(url).type('form').send({ client_secret: 'pi_nope_secret_nope', outcome: 'complete' });
      expect(post.status).to.equal(404);
      expect((await request(app).get('/mock/3ds/pi_unknown').query({ client_secret: payment.client_secret })).status).to.equal(404);
      expect((await paymentRow(payment.id))!.status).to.equal('requires_action');
      expect((await historyOf(payment.id)).map((m) => m.to_status)).to.deep.equal(['pending', 'requires_action']);
    });
  });

  describe('with Stripe (publishable key set)', () => {
    let stripe: FakeStripe;

    before(async () => {
      stripe = await withFakeStripe();
    });
    after(() => stripe.stop());

    it('when the page is asked for, then the CSP also allows Stripe.js, its API and its frames, the config carries the publishable key, and there is no mock 3-D Secure page', async () => {
      const { app } = buildTestApp({ fakeStripe: stripe, env: { STRIPE_PUBLISHABLE_KEY: 'pk_test_checkout' } });
      const res = await request(app).get('/checkout');
      expect(res.status).to.equal(200);
      const csp = cspOf(res.headers['content-security-policy']);
      expect(csp['script-src']).to.include.members(["'self'", 'https://js.stripe.com']);
      expect(csp['connect-src']).to.include.members(["'self'", 'https://api.stripe.com']);
      expect(csp['frame-src']).to.include.members(["'self'", 'https://js.stripe.com', 'https://*.stripe.com']);
      const config = await request(app).get('/checkout/config.json');
      expect(config.body).to.include({ provider: 'stripe', publishable_key: 'pk_test_checkout' });
      expect((await request(app).get('/mock/3ds/pi_x').query({ client_secret: 'x' })).status).to.equal(404);
    });

    it('when NODE_ENV=production, then the page and the demo token route do not exist; CHECKOUT_PAGE_ENABLED turns the page on, never the token route', async () => {
      const off = buildTestApp({ fakeStripe: stripe, env: PRODUCTION_ENV }).app;
      expect((await request(off).get('/checkout')).status).to.equal(404);
      expect((await request(off).get('/checkout/config.json')).status).to.equal(404);
      const token = await request(off).post('/v1/test/checkout-token');
      expect(token.status).to.equal(404);
      expect(token.body).not.to.have.property('token');

      const on = buildTestApp({ fakeStripe: stripe, env: { ...PRODUCTION_ENV, CHECKOUT_PAGE_ENABLED: 'true', STRIPE_PUBLISHABLE_KEY: 'pk_live_x' } }).app;
      expect((await request(on).get('/checkout')).status).to.equal(200);
      const config = await request(on).get('/checkout/config.json');
      expect(config.body).to.include({ provider: 'stripe', publishable_key: 'pk_live_x', demo_token_url: null });
      expect((await request(on).post('/v1/test/checkout-token')).status).to.equal(404);
    });
  });

  it('when the OpenAPI document is read, then it lists the checkout routes', async () => {
    const { app } = buildTestApp({ provider: new MockProvider({ latencyMs: 0, successRate: 1 }) });
    const doc = (await request(app).get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/checkout']).to.have.property('get');
    expect(doc.paths['/checkout/config.json']).to.have.property('get');
    expect(doc.paths['/v1/test/checkout-token']).to.have.property('post');
    expect(doc.paths['/mock/3ds/{payment_intent}']).to.include.keys('get', 'post');
  });
});
