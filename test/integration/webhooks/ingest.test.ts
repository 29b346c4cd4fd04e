import { expect } from 'chai';
import type { Express } from 'express';
import type { Sequelize } from 'sequelize';
import { createApp } from '../../../src/app';
import { buildContainer, type Container } from '../../../src/container';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import { createSequelize } from '../../../src/shared/db/database';
import { expectApiError } from '../../helpers/api-error';
import { newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { deliver, paymentIntentEvent, postWebhook, serialize, signed, stripeEvent, stripeId, TEST_API_VERSION } from '../../helpers/stripe-events';
import { buildTestApp, testConfig, withFakeStripe } from '../../helpers/test-app';
import { createPayment, historyOf, outboxTypes, storedEvent } from '../../helpers/webhook-payments';
import customerFixture from '../../fixtures/stripe/objects/customer.json';

describe('POST /v1/webhooks/stripe ingest (payments through the real Stripe SDK against a fake Stripe)', () => {
  let stripe: FakeStripe;
  let app: Express;
  let container: Container;
  let token: string;

  before(async () => {
    stripe = await withFakeStripe();
    ({ app, container } = buildTestApp({ fakeStripe: stripe }));
  });
  after(() => stripe.stop());
  beforeEach(() => {
    token = tokenFor(newUserId());
  });

  const succeededEventFor = (payment: { id: string; provider_payment_id: string }) =>
    paymentIntentEvent('payment_intent.succeeded', { paymentId: payment.id, intentId: payment.provider_payment_id, status: 'succeeded' });

  it('when a good event arrives, then 200 {received: true} and it is stored once with its columns and the raw body byte for byte', async () => {
    const payment = await createPayment(app, token, { description: 'Café crème ☕' });
    const event = succeededEventFor(payment);
    event.created = 1_760_000_000;
    event.data.object.description = 'Café crème ☕';
    const body = serialize(event);

    const res = await postWebhook(app, body, signed(body));

    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.equal({ received: true, id: event.id, duplicate: false });
    const row = await storedEvent(event.id);
    expect(row).to.include({
      id: event.id,
      type: 'payment_intent.succeeded',
      api_version: TEST_API_VERSION,
      livemode: false,
      signature_verified: true,
      state: 'pending',
      source: 'webhook',
      payment_id: payment.id,
      object_id: payment.provider_payment_id,
      attempts: 0,
    });
    expect(Number(row!.provider_created)).to.equal(1_760_000_000);
    expect(row!.payload).to.equal(body);
    expect(Buffer.from(row!.payload as string, 'utf8').equals(Buffer.from(body, 'utf8'))).to.equal(true);
    // Stored, not yet applied: the worker does that.
    expect((await rows('SELECT status FROM payments WHERE id = :id', { id: payment.id }))[0]).to.deep.equal({ status: 'pending' });

    expect(await container.webhooks.worker.drain()).to.be.greaterThan(0);
    expect(await storedEvent(event.id)).to.include({ state: 'processed', attempts: 1 });
  });

  it('when the same event is delivered twice in a row, then the second answer says duplicate and it has one effect', async () => {
    const payment = await createPayment(app, token);
    const event = succeededEventFor(payment);

    const first = await deliver(app, event);
    await container.webhooks.worker.drain();
    const second = await deliver(app, event);
    await container.webhooks.worker.drain();

    expect(first.status).to.equal(200);
    expect(first.body).to.deep.equal({ received: true, id: event.id, duplicate: false });
    expect(second.status).to.equal(200);
    expect(second.body).to.deep.equal({ received: true, id: event.id, duplicate: true });
    expect(await rows('SELECT id FROM webhook_events WHERE id = :id', { id: event.id })).to.have.length(1);
    expect(await storedEvent(event.id)).to.include({ state: 'processed', attempts: 1 });
    const moves = (await historyOf(payment.id)).filter((m) => m.to_status === 'succeeded');
    expect(moves).to.deep.equal([{ from_status: 'pending', to_status: 'succeeded', source: 'webhook', event_id: event.id }]);
    expect((await outboxTypes(payment.id)).filter((t) => t === 'payment.succeeded')).to.have.length(1);
  });

  it('when 10 deliveries of the same event race, then all answer 200, one row is stored, and it has one effect', async () => {
    const payment = await createPayment(app, token);
    const event = succeededEventFor(payment);
    const body = serialize(event);
    const header = signed(body);

    const answers = await Promise.all(Array.from({ length: 10 }, () => postWebhook(app, body, header)));
    await container.webhooks.worker.drain();

    expect(answers.map((a) => a.status)).to.deep.equal(Array(10).fill(200));
    expect(answers.filter((a) => a.body.duplicate === false)).to.have.length(1);
    expect(answers.filter((a) => a.body.duplicate === true)).to.have.length(9);
    expect(await rows('SELECT id FROM webhook_events WHERE id = :id', { id: event.id })).to.have.length(1);
    expect((await historyOf(payment.id)).filter((m) => m.to_status === 'succeeded')).to.have.length(1);
    expect((await outboxTypes(payment.id)).filter((t) => t === 'payment.succeeded')).to.have.length(1);
    expect(await rows('SELECT status FROM payments WHERE id = :id', { id: payment.id })).to.deep.equal([{ status: 'succeeded' }]);
  });

  it('when the event type is not one we handle, then 200 and it is stored as ignored (unhandled_type), never queued', async () => {
    const customer = { ...structuredClone(customerFixture), id: stripeId('cus') } as never;
    const event = stripeEvent('customer.created', customer);

    const res = await deliver(app, event);

    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.equal({ received: true, id: event.id, duplicate: false });
    const row = await storedEvent(event.id);
    expect(row).to.include({ type: 'customer.created', state: 'ignored', outcome: 'unhandled_type', signature_verified: true });
    expect(row!.processed_at).to.not.equal(null);
    await container.webhooks.worker.drain();
    expect(await storedEvent(event.id)).to.include({ state: 'ignored', attempts: 0 });
  });

  it("when the type is the name of an Object property ('constructor', 'toString'), then it is an unknown type like any other", async () => {
    for (const type of ['constructor', 'toString', '__proto__']) {
      const event = stripeEvent(type, { ...structuredClone(customerFixture), id: stripeId('cus') } as never);
      const res = await deliver(app, event);
      expect(res.status, `${type}: ${res.text}`).to.equal(200);
      expect(await storedEvent(event.id)).to.include({ type, state: 'ignored', outcome: 'unhandled_type' });
    }
  });

  it('when a payment_intent event carries no metadata.payment_id (not made by this service), then 200 and stored as ignored (not_ours)', async () => {
    const event = paymentIntentEvent('payment_intent.succeeded', { paymentId: null, intentId: stripeId('pi'), status: 'succeeded' });

    const res = await deliver(app, event);

    expect(res.status, res.text).to.equal(200);
    expect(await storedEvent(event.id)).to.include({ state: 'ignored', outcome: 'not_ours', payment_id: null });
  });

  it('when a correctly signed body is valid JSON but not an event, then 400 and nothing is stored', async () => {
    for (const body of ['null', '[]', '"evt"', '{"id": "evt_no_type"}']) {
      const res = await postWebhook(app, body, signed(body));
      expect(res.status, `${body}: ${res.text}`).to.equal(400);
      expect(res.body.error.type).to.equal('invalid_request_error');
    }
    expect(await storedEvent('evt_no_type')).to.equal(undefined);
  });

  describe('when the database is down', () => {
    let down: Sequelize;
    let downApp: Express;

    before(() => {
      down = createSequelize('postgres://postgres@127.0.0.1:1/none', { poolMax: 1 });
      const config = testConfig({ STRIPE_SECRET_KEY: 'sk_test_fake', STRIPE_API_URL: stripe.url });
      downApp = createApp(buildContainer({ config, sequelize: down, provider: new MockProvider({ latencyMs: 0, successRate: 1 }) }));
    });
    after(() => down.close());

    it('then the delivery answers 503 and nothing is stored; the same delivery to a healthy instance is stored and applied', async () => {
      const payment = await createPayment(app, token);
      const event = succeededEventFor(payment);
      const body = serialize(event);
      const header = signed(body);

      const failed = await postWebhook(downApp, body, header);

      expectApiError(failed, { status: 503, type: 'api_error', code: 'database_unavailable' });
      expect(failed.headers['retry-after']).to.equal('1');
      expect(await storedEvent(event.id)).to.equal(undefined);

      const retried = await postWebhook(app, body, header);
      await container.webhooks.worker.drain();

      expect(retried.status, retried.text).to.equal(200);
      expect(retried.body).to.deep.equal({ received: true, id: event.id, duplicate: false });
      expect(await storedEvent(event.id)).to.include({ state: 'processed', outcome: 'moved' });
      expect(await rows('SELECT status FROM payments WHERE id = :id', { id: payment.id })).to.deep.equal([{ status: 'succeeded' }]);
    });
  });
});
