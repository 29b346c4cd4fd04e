import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows, testDatabaseUrl } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { createPayment, eventually, historyOf, outboxTypes, paymentRow, storedEvent } from '../../helpers/webhook-payments';

interface Simulation {
  object: string;
  scenario: string;
  events: Array<{ id: string; type: string }>;
  payment: { id: string; status: string; amount_refunded: number; failure_code: string | null; dispute: unknown };
}

describe('POST /v1/test/simulate (mock provider)', () => {
  let app: Express;
  let container: Container;
  let token: string;

  before(() => {
    ({ app, container } = buildTestApp());
  });
  beforeEach(() => {
    token = tokenFor(newUserId());
  });

  const simulate = (paymentId: string, scenario: string, as = token) =>
    request(app).post('/v1/test/simulate').set(bearer(as)).send({ payment_id: paymentId, scenario });

  async function simulated(paymentId: string, scenario: string): Promise<Simulation> {
    const res = await simulate(paymentId, scenario);
    expect(res.status, res.text).to.equal(200);
    return res.body as Simulation;
  }

  /** Every event of a simulation is stored signed, from the simulator, and applied. */
  async function expectStoredFromSimulator(sim: Simulation, paymentId: string) {
    for (const { id, type } of sim.events) {
      const row = await storedEvent(id);
      expect(row, `${type} ${id}`).to.include({ type, source: 'simulate', signature_verified: true, state: 'processed', payment_id: paymentId });
      expect(JSON.parse(row!.payload as string)).to.include({ id, type, object: 'event' });
    }
  }

  const scenarios: Array<{ scenario: string; from?: string; status: string; events: string[]; extra?: Record<string, unknown> }> = [
    { scenario: 'succeed', status: 'succeeded', events: ['payment_intent.succeeded'] },
    { scenario: 'fail', status: 'failed', events: ['payment_intent.payment_failed'], extra: { failure_code: 'generic_decline' } },
    { scenario: 'require_action', status: 'requires_action', events: ['payment_intent.requires_action'] },
    { scenario: 'process', status: 'processing', events: ['payment_intent.processing'] },
    { scenario: 'cancel', status: 'canceled', events: ['payment_intent.canceled'] },
    { scenario: 'refund', from: 'succeed', status: 'refunded', events: ['refund.created', 'charge.refunded'], extra: { amount_refunded: 2000 } },
  ];

  for (const s of scenarios) {
    it(`when the owner simulates '${s.scenario}', then the answer shows ${s.status}, the signed events are stored from the simulator and the move is recorded as simulate`, async () => {
      const payment = await createPayment(app, token);
      if (s.from) await simulated(payment.id, s.from);

      const sim = await simulated(payment.id, s.scenario);

      expect(sim).to.include({ object: 'simulation', scenario: s.scenario });
      expect(sim.events.map((e) => e.type)).to.deep.equal(s.events);
      expect(sim.payment).to.include({ id: payment.id, status: s.status, ...s.extra });
      expect(await paymentRow(payment.id)).to.include({ status: s.status });
      await expectStoredFromSimulator(sim, payment.id);
      const last = (await historyOf(payment.id)).at(-1);
      expect(last).to.include({ to_status: s.status, source: 'simulate' });
      expect(sim.events.map((e) => e.id)).to.include(last!.event_id);
    });
  }

  it('when the owner simulates a refund, then one refund row from the simulator holds the whole amount', async () => {
    const payment = await createPayment(app, token);
    await simulated(payment.id, 'succeed');
    await simulated(payment.id, 'refund');
    const refunds = await rows('SELECT amount, status, source FROM refunds WHERE payment_id = :id', { id: payment.id });
    expect(refunds).to.have.length(1);
    expect(refunds[0]).to.include({ amount: '2000', status: 'succeeded', source: 'simulate' });
    expect((await outboxTypes(payment.id)).filter((t) => t === 'payment.refunded')).to.have.length(1);
  });

  it("when the owner simulates 'dispute' on a succeeded payment, then the payment shows the dispute and payment.disputed is emitted", async () => {
    const payment = await createPayment(app, token);
    await simulated(payment.id, 'succeed');

    const sim = await simulated(payment.id, 'dispute');

    expect(sim.events.map((e) => e.type)).to.deep.equal(['charge.dispute.created']);
    expect(sim.payment).to.include({ status: 'succeeded' });
    expect(sim.payment.dispute).to.include({ status: 'needs_response', reason: 'fraudulent', amount: 2000 });
    await expectStoredFromSimulator(sim, payment.id);
    expect((await outboxTypes(payment.id)).filter((t) => t === 'payment.disputed')).to.have.length(1);
  });

  it("when a customer simulates on another user's payment, then 404 and nothing is emitted", async () => {
    const payment = await createPayment(app, token);
    const before = await rows("SELECT id FROM webhook_events WHERE payment_id = :id AND source = 'simulate'", { id: payment.id });

    const res = await simulate(payment.id, 'succeed', tokenFor(newUserId()));

    expectApiError(res, { status: 404, type: 'not_found', code: 'resource_missing' });
    expect(await paymentRow(payment.id)).to.include({ status: 'pending' });
    expect(await rows("SELECT id FROM webhook_events WHERE payment_id = :id AND source = 'simulate'", { id: payment.id })).to.deep.equal(before);
  });

  it('when the scenario is unknown, then 400 naming scenario and nothing changes', async () => {
    const payment = await createPayment(app, token);
    const res = await simulate(payment.id, 'explode');
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'scenario' });
    expect(await paymentRow(payment.id)).to.include({ status: 'pending' });
  });

  it('when a scenario is impossible in the current state (refund a pending payment), then 409 and nothing changes', async () => {
    const payment = await createPayment(app, token);
    const res = await simulate(payment.id, 'refund');
    expectApiError(res, { status: 409, type: 'conflict', code: 'payment_unexpected_state' });
    expect(await paymentRow(payment.id)).to.include({ status: 'pending', amount_refunded: '0' });
  });

  it('when a dispute is simulated on a payment that never succeeded, then 409 and no dispute appears', async () => {
    const payment = await createPayment(app, token);
    const res = await simulate(payment.id, 'dispute');
    expectApiError(res, { status: 409, type: 'conflict', code: 'payment_unexpected_state' });
    expect(await paymentRow(payment.id)).to.include({ status: 'pending', dispute_id: null });
  });

  it('when a mock payment is confirmed through the API, then the mock emits a signed payment_intent.succeeded into the pipeline, applied as unchanged', async () => {
    const payment = await createPayment(app, token);
    const confirmed = await request(app).post(`/v1/payments/${payment.id}/confirm`).set(bearer(token)).send({ payment_method: 'pm_card_visa' });
    expect(confirmed.status, confirmed.text).to.equal(200);
    expect(confirmed.body.status).to.equal('succeeded');

    const event = await eventually(async () => {
      const [row] = await rows<{ id: string }>(
        "SELECT id FROM webhook_events WHERE payment_id = :id AND type = 'payment_intent.succeeded'",
        { id: payment.id },
      );
      return row;
    }, 'the mock provider event');
    expect(await storedEvent(event.id)).to.include({ source: 'webhook', signature_verified: true });
    await container.webhooks.worker.drain();

    expect(await storedEvent(event.id)).to.include({ state: 'processed', outcome: 'unchanged' });
    expect((await historyOf(payment.id)).map((m) => [m.to_status, m.source])).to.deep.equal([
      ['pending', 'api'],
      ['succeeded', 'api'],
    ]);
    expect((await outboxTypes(payment.id)).filter((t) => t === 'payment.succeeded')).to.have.length(1);
  });
});

describe('POST /v1/test/simulate with the Stripe provider', () => {
  let stripe: FakeStripe;

  before(async () => {
    stripe = await withFakeStripe();
  });
  after(() => stripe.stop());

  it('when outside production, then the events are made locally from the last known intent and Stripe is not called', async () => {
    const { app } = buildTestApp({ fakeStripe: stripe });
    const token = tokenFor(newUserId());
    const payment = await createPayment(app, token);
    stripe.reset();

    const res = await request(app).post('/v1/test/simulate').set(bearer(token)).send({ payment_id: payment.id, scenario: 'succeed' });

    expect(res.status, res.text).to.equal(200);
    expect(res.body.payment.status).to.equal('succeeded');
    expect(await storedEvent(res.body.events[0].id)).to.include({ source: 'simulate', state: 'processed' });
    expect(stripe.calls).to.have.length(0);
  });

  it('when a refunded payment is refunded again by simulation, then 409 and the refund is not recorded twice', async () => {
    const { app } = buildTestApp({ fakeStripe: stripe });
    const token = tokenFor(newUserId());
    const payment = await createPayment(app, token);
    const send = (scenario: string) => request(app).post('/v1/test/simulate').set(bearer(token)).send({ payment_id: payment.id, scenario });
    expect((await send('succeed')).status).to.equal(200);
    const refunded = await send('refund');
    expect(refunded.status, refunded.text).to.equal(200);
    expect(refunded.body.payment).to.include({ status: 'refunded', amount_refunded: 2000 });

    const again = await send('refund');

    expectApiError(again, { status: 409, type: 'conflict', code: 'payment_unexpected_state' });
    expect(await rows('SELECT amount FROM refunds WHERE payment_id = :id', { id: payment.id })).to.deep.equal([{ amount: '2000' }]);
    expect(await paymentRow(payment.id)).to.include({ status: 'refunded', amount_refunded: '2000' });
  });

  it('when NODE_ENV=production, then the route does not exist (404) and nothing is emitted', async () => {
    const { app, config } = buildTestApp({ fakeStripe: stripe, env: { NODE_ENV: 'production', DATABASE_URL: testDatabaseUrl() } });
    expect(config.isProduction).to.equal(true);
    const token = tokenFor(newUserId());
    const payment = await createPayment(app, token);

    const res = await request(app).post('/v1/test/simulate').set(bearer(token)).send({ payment_id: payment.id, scenario: 'succeed' });

    expectApiError(res, { status: 404, type: 'not_found', code: 'route_not_found' });
    expect(await paymentRow(payment.id)).to.include({ status: 'pending' });
    expect(await rows('SELECT id FROM webhook_events WHERE payment_id = :id', { id: payment.id })).to.deep.equal([]);
  });
});
