import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import type { PaymentProvider } from '../../../src/providers/payment-provider';
import { newId } from '../../../src/shared/ids';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { deliver, paymentIntentEvent, stripeId } from '../../helpers/stripe-events';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { createPayment, historyOf, outboxTypes, paymentRow, storedEvent } from '../../helpers/webhook-payments';

describe('applying payment_intent events (real Stripe SDK against a fake Stripe)', () => {
  let stripe: FakeStripe;
  let app: Express;
  let container: Container;
  let user: string;
  let token: string;

  before(async () => {
    stripe = await withFakeStripe();
    ({ app, container } = buildTestApp({ fakeStripe: stripe }));
  });
  after(() => stripe.stop());
  beforeEach(() => {
    user = newUserId();
    token = tokenFor(user);
  });

  /** Delivers each event (200 expected), then lets the worker apply them. */
  async function deliverAndDrain(target: { app: Express; container: Container }, ...events: object[]) {
    for (const event of events) {
      const res = await deliver(target.app, event);
      expect(res.status, res.text).to.equal(200);
    }
    await target.container.webhooks.worker.drain();
  }
  const intentEvent = (type: string, payment: { id: string; provider_payment_id: string }, status: string, extra: object = {}) =>
    paymentIntentEvent(type, { paymentId: payment.id, intentId: payment.provider_payment_id, status, ...extra });
  const retrieves = () => stripe.callsTo('GET', /^\/v1\/payment_intents\/pi_/);

  it('when payment_intent.succeeded arrives for a pending payment, then it moves to succeeded with a webhook history row, one outbox event and the intent kept', async () => {
    const payment = await createPayment(app, token);
    stripe.reset();
    const event = intentEvent('payment_intent.succeeded', payment, 'succeeded');

    await deliverAndDrain({ app, container }, event);

    const res = await request(app).get(`/v1/payments/${payment.id}`).set(bearer(token));
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ status: 'succeeded', client_secret: null, payment_method: 'pm_card_visa' });
    expect(await storedEvent(event.id)).to.include({ state: 'processed', outcome: 'moved', payment_id: payment.id, attempts: 1, last_error: null });
    expect(await historyOf(payment.id)).to.deep.equal([
      { from_status: null, to_status: 'pending', source: 'api', event_id: null },
      { from_status: 'pending', to_status: 'succeeded', source: 'webhook', event_id: event.id },
    ]);
    expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created', 'payment.succeeded']);
    expect((await paymentRow(payment.id)).provider_object).to.deep.equal(event.data.object);
    expect(stripe.calls, 'an event that agrees with the state machine needs no provider call').to.have.length(0);
  });

  it('when processing arrives after succeeded, then the payment stays succeeded and the late event is recorded as stale', async () => {
    const payment = await createPayment(app, token);
    const succeeded = intentEvent('payment_intent.succeeded', payment, 'succeeded');
    const processing = intentEvent('payment_intent.processing', payment, 'processing', { created: succeeded.created - 5 });

    await deliverAndDrain({ app, container }, succeeded);
    await deliverAndDrain({ app, container }, processing);

    expect(await paymentRow(payment.id)).to.include({ status: 'succeeded' });
    expect(await storedEvent(processing.id)).to.include({ state: 'processed', outcome: 'stale', payment_id: payment.id });
    expect((await historyOf(payment.id)).map((m) => m.to_status)).to.deep.equal(['pending', 'succeeded']);
    expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created', 'payment.succeeded']);
  });

  it('when payment_intent.payment_failed arrives, then the payment is failed with the decline code and message', async () => {
    const payment = await createPayment(app, token);
    const event = intentEvent('payment_intent.payment_failed', payment, 'requires_payment_method', {
      lastPaymentError: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
    });

    await deliverAndDrain({ app, container }, event);

    expect(await paymentRow(payment.id)).to.include({
      status: 'failed',
      failure_code: 'insufficient_funds',
      failure_message: 'Your card has insufficient funds.',
    });
    expect((await historyOf(payment.id)).at(-1)).to.deep.equal({ from_status: 'pending', to_status: 'failed', source: 'webhook', event_id: event.id });
    expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created', 'payment.failed']);
  });

  it('when payment_intent.requires_action arrives, then the payment requires action and shows the next action to its owner', async () => {
    const payment = await createPayment(app, token);
    const event = intentEvent('payment_intent.requires_action', payment, 'requires_action');

    await deliverAndDrain({ app, container }, event);

    const res = await request(app).get(`/v1/payments/${payment.id}`).set(bearer(token));
    expect(res.body.status).to.equal('requires_action');
    expect(res.body.next_action).to.deep.equal(event.data.object.next_action);
    expect(res.body.client_secret).to.match(/_secret_/);
    expect((await historyOf(payment.id)).at(-1)).to.include({ to_status: 'requires_action', source: 'webhook', event_id: event.id });
    expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created', 'payment.requires_action']);
  });

  it('when payment_intent.canceled arrives for an open payment, then it is canceled', async () => {
    const payment = await createPayment(app, token);
    const event = intentEvent('payment_intent.canceled', payment, 'canceled');

    await deliverAndDrain({ app, container }, event);

    expect(await paymentRow(payment.id)).to.include({ status: 'canceled' });
    expect((await historyOf(payment.id)).at(-1)).to.include({ from_status: 'pending', to_status: 'canceled', source: 'webhook', event_id: event.id });
    expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created', 'payment.canceled']);
  });

  it('when succeeded arrives before our create call has committed the intent id, then it ends succeeded and the create answer does not move it back', async () => {
    const delivered: Array<{ id: string }> = [];
    let racing: { app: Express; container: Container } | undefined;
    const inner = buildTestApp({ fakeStripe: stripe }).container.provider;
    // Stripe answers the create, but its webhook reaches us (and is applied) before our phase 3 commits.
    const provider = Object.create(inner) as PaymentProvider;
    provider.createPaymentIntent = async (input, options) => {
      const intent = await inner.createPaymentIntent(input, options);
      const event = paymentIntentEvent('payment_intent.succeeded', { paymentId: input.paymentId, intentId: intent.id, status: 'succeeded' });
      delivered.push(event);
      expect(await paymentRow(input.paymentId)).to.include({ provider_payment_id: null });
      await deliverAndDrain(racing!, event);
      return intent;
    };
    racing = buildTestApp({ fakeStripe: stripe, provider });

    const res = await request(racing.app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });

    expect(res.status, res.text).to.equal(201);
    expect(res.body.status).to.equal('succeeded');
    expect(delivered).to.have.length(1);
    const row = await paymentRow(res.body.id);
    expect(row).to.include({ status: 'succeeded', provider_payment_id: res.body.provider_payment_id });
    expect(await storedEvent(delivered[0].id)).to.include({ state: 'processed', outcome: 'moved' });
    expect(await historyOf(res.body.id)).to.deep.equal([
      { from_status: null, to_status: 'pending', source: 'api', event_id: null },
      { from_status: 'pending', to_status: 'succeeded', source: 'webhook', event_id: delivered[0].id },
    ]);
    expect(await outboxTypes(res.body.id)).to.deep.equal(['payment.created', 'payment.succeeded']);
  });

  it('when an event names a payment we do not have yet, then it waits as retrying, and is applied once the payment exists and the retry is due', async () => {
    const paymentId = newId('pay');
    const intentId = stripeId('pi');
    const event = paymentIntentEvent('payment_intent.succeeded', { paymentId, intentId, status: 'succeeded' });

    await deliverAndDrain({ app, container }, event);

    const waiting = await storedEvent(event.id);
    expect(waiting).to.include({ state: 'retrying', attempts: 1, payment_id: paymentId });
    expect(waiting!.last_error).to.match(/not known yet/);
    expect(new Date(waiting!.next_attempt_at as string).getTime()).to.be.greaterThan(new Date(waiting!.received_at as string).getTime());

    // What phase 1 of a create commits: our row, no intent id yet.
    await rows(
      `INSERT INTO payments (id, user_id, amount, currency, status, provider) VALUES (:paymentId, :user, 2000, 'usd', 'pending', 'stripe')`,
      { paymentId, user },
    );
    await rows(`UPDATE webhook_events SET next_attempt_at = now() WHERE id = :id`, { id: event.id });
    await container.webhooks.worker.drain();

    expect(await storedEvent(event.id)).to.include({ state: 'processed', outcome: 'moved', attempts: 2, last_error: null });
    expect(await paymentRow(paymentId)).to.include({ status: 'succeeded', provider_payment_id: intentId });
    expect(await historyOf(paymentId)).to.deep.equal([{ from_status: 'pending', to_status: 'succeeded', source: 'webhook', event_id: event.id }]);
    expect(await outboxTypes(paymentId)).to.deep.equal(['payment.created', 'payment.succeeded']);
  });

  it('when an event contradicts our state (canceled for a succeeded payment), then the intent is fetched from Stripe and Stripe wins', async () => {
    const payment = await createPayment(app, token, { payment_method: 'pm_card_visa' });
    expect(payment.status).to.equal('succeeded');
    stripe.reset();
    const event = intentEvent('payment_intent.canceled', payment, 'canceled');

    await deliverAndDrain({ app, container }, event);

    expect(retrieves().map((c) => c.path)).to.deep.equal([`/v1/payment_intents/${payment.provider_payment_id}`]);
    expect(await storedEvent(event.id)).to.include({ state: 'processed', outcome: 'synced_from_provider', payment_id: payment.id });
    expect(await paymentRow(payment.id)).to.include({ status: 'succeeded' });
    expect((await historyOf(payment.id)).map((m) => m.to_status)).to.deep.equal(['pending', 'succeeded']);
    expect(await outboxTypes(payment.id)).to.not.include('payment.canceled');
  });

  it('when succeeded arrives for a payment canceled here, then Stripe is asked, says canceled, and the payment stays canceled', async () => {
    const payment = await createPayment(app, token);
    const canceled = await request(app).post(`/v1/payments/${payment.id}/cancel`).set(bearer(token)).send({});
    expect(canceled.body.status).to.equal('canceled');
    stripe.reset();
    const event = intentEvent('payment_intent.succeeded', payment, 'succeeded');

    await deliverAndDrain({ app, container }, event);

    expect(retrieves()).to.have.length(1);
    expect(await storedEvent(event.id)).to.include({ state: 'processed', outcome: 'synced_from_provider' });
    expect(await paymentRow(payment.id)).to.include({ status: 'canceled' });
    expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created', 'payment.canceled']);
  });

  it('when a bank debit that was processing fails (payment_failed after processing), then Stripe is asked and the payment is failed', async () => {
    const payment = await createPayment(app, token, { payment_method: 'pm_usBankAccount_success' });
    expect(payment.status).to.equal('processing');
    const lastPaymentError = { code: 'payment_method_provider_decline', decline_code: 'insufficient_funds', message: 'The bank declined the debit.' };
    Object.assign(stripe.intents.get(payment.provider_payment_id)!, {
      status: 'requires_payment_method',
      last_payment_error: { type: 'card_error', ...lastPaymentError },
    });
    stripe.reset();
    const event = intentEvent('payment_intent.payment_failed', payment, 'requires_payment_method', { lastPaymentError });

    await deliverAndDrain({ app, container }, event);

    expect(retrieves()).to.have.length(1);
    expect(await storedEvent(event.id)).to.include({ state: 'processed', outcome: 'synced_from_provider' });
    expect(await paymentRow(payment.id)).to.include({ status: 'failed', failure_code: 'insufficient_funds' });
    expect((await historyOf(payment.id)).at(-1)).to.deep.equal({ from_status: 'processing', to_status: 'failed', source: 'webhook', event_id: event.id });
    expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created', 'payment.processing', 'payment.failed']);
  });

  it('when a failure of an earlier attempt arrives while the new attempt is processing, then Stripe is asked and the payment stays processing', async () => {
    const payment = await createPayment(app, token, { payment_method: 'pm_usBankAccount_success' });
    stripe.reset();
    const late = intentEvent('payment_intent.payment_failed', payment, 'requires_payment_method', {
      lastPaymentError: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
    });

    await deliverAndDrain({ app, container }, late);

    expect(retrieves()).to.have.length(1);
    expect(await storedEvent(late.id)).to.include({ state: 'processed', outcome: 'synced_from_provider' });
    expect(await paymentRow(payment.id)).to.include({ status: 'processing', failure_code: null });
    expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created', 'payment.processing']);
  });

  describe('when applying fails', () => {
    let failing: { app: Express; container: Container };
    const adminToken = tokenFor(newUserId(), 'admin');

    before(() => {
      failing = buildTestApp({ fakeStripe: stripe, env: { WEBHOOK_MAX_ATTEMPTS: '2' } });
    });
    afterEach(() => {
      delete (failing.container.payments.payments as { update?: unknown }).update;
    });

    it('then the event retries with its error, is dead after WEBHOOK_MAX_ATTEMPTS, and an admin replay applies it once the cause is gone', async () => {
      const payment = await createPayment(failing.app, token);
      const event = intentEvent('payment_intent.succeeded', payment, 'succeeded');
      failing.container.payments.payments.update = async () => {
        throw new Error('simulated write failure');
      };

      await deliverAndDrain(failing, event);

      expect(await storedEvent(event.id)).to.include({ state: 'retrying', attempts: 1, last_error: 'simulated write failure' });
      expect(await paymentRow(payment.id)).to.include({ status: 'pending' });

      await rows(`UPDATE webhook_events SET next_attempt_at = now() WHERE id = :id`, { id: event.id });
      await failing.container.webhooks.worker.drain();

      const dead = await storedEvent(event.id);
      expect(dead).to.include({ state: 'dead', attempts: 2, last_error: 'simulated write failure' });
      await failing.container.webhooks.worker.drain();
      expect(await storedEvent(event.id), 'a dead event is not retried on its own').to.include({ state: 'dead', attempts: 2 });
      expect((await historyOf(payment.id)).map((m) => m.to_status)).to.deep.equal(['pending']);

      delete (failing.container.payments.payments as { update?: unknown }).update;
      const replay = await request(failing.app).post(`/v1/admin/webhook-events/${event.id}/replay`).set(bearer(adminToken)).send({});

      expect(replay.status, replay.text).to.equal(200);
      expect(replay.body).to.include({ id: event.id, object: 'webhook_event', state: 'processed', outcome: 'moved', attempts: 1, last_error: null });
      expect(await paymentRow(payment.id)).to.include({ status: 'succeeded' });
      expect(await historyOf(payment.id)).to.deep.equal([
        { from_status: null, to_status: 'pending', source: 'api', event_id: null },
        { from_status: 'pending', to_status: 'succeeded', source: 'webhook', event_id: event.id },
      ]);
      expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created', 'payment.succeeded']);
    });
  });
});
