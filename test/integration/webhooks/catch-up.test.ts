import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { jobDefinitions } from '../../../src/jobs/jobs.registry';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import type { CatchUpResult } from '../../../src/modules/webhooks/catch-up-events.use-case';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { deliver, nowSeconds, paymentIntentEvent, stripeEvent, stripeId } from '../../helpers/stripe-events';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { createPayment, historyOf, outboxTypes, paymentRow, storedEvent, type CreatedPayment } from '../../helpers/webhook-payments';

/** Runs the job as the scheduler and `npm run job -- catch-up-events` do (its registry entry), then applies what it stored. */
async function runCatchUpJob(container: Container): Promise<void> {
  const job = jobDefinitions(container).find((j) => j.name === 'catch-up-events');
  expect(job, 'catch-up-events is registered').to.not.equal(undefined);
  await job!.run();
  await container.webhooks.worker.drain();
}

/** A payment confirmed with a bank debit: `processing` until the provider says it settled. */
async function processingPayment(app: Express, token: string): Promise<CreatedPayment> {
  const payment = await createPayment(app, token);
  const res = await request(app).post(`/v1/payments/${payment.id}/confirm`).set(bearer(token)).send({ payment_method: 'pm_usBankAccount_success' });
  expect(res.status, res.text).to.equal(200);
  expect(res.body.status).to.equal('processing');
  return res.body as CreatedPayment;
}

const countOf = async (id: string) => (await rows('SELECT id FROM webhook_events WHERE id = :id', { id })).length;

describe('catch-up of provider events the webhook never received (mock provider)', () => {
  let app: Express;
  let container: Container;
  let provider: MockProvider;
  let token: string;

  beforeEach(() => {
    // A mock of its own (in memory), so only this test's events are listed.
    provider = new MockProvider({ latencyMs: 0, successRate: 1 });
    ({ app, container } = buildTestApp({ provider, env: { CATCH_UP_REQUESTS_PER_SECOND: '0' } }));
    // The webhook outage: the mock records its events but none reaches the endpoint.
    provider.events.removeAllListeners('event');
    token = tokenFor(newUserId());
  });

  it('when a bank debit settled during a webhook outage, then after the job every missed event is in the inbox, marked as fetched, and the payment moved once', async () => {
    const payment = await processingPayment(app, token);
    const [succeeded] = await provider.simulate(payment.provider_payment_id, 'succeed');
    const missed = (await provider.listEvents({ limit: 100, deliverySuccess: false })).data.map((e) => String(e.id));
    expect(missed).to.include(succeeded.id);
    for (const id of missed) expect(await countOf(id), id).to.equal(0);

    await runCatchUpJob(container);

    for (const id of missed) expect(await storedEvent(id), id).to.include({ source: 'webhook', signature_verified: false });
    expect(await storedEvent(succeeded.id)).to.include({ type: 'payment_intent.succeeded', state: 'processed', outcome: 'moved', payment_id: payment.id });
    expect(JSON.parse(String((await storedEvent(succeeded.id))!.payload))).to.include({ id: succeeded.id, type: 'payment_intent.succeeded' });
    expect(await paymentRow(payment.id)).to.include({ status: 'succeeded' });
    const moves = (await historyOf(payment.id)).filter((m) => m.to_status === 'succeeded');
    expect(moves).to.deep.equal([{ from_status: 'processing', to_status: 'succeeded', source: 'webhook', event_id: succeeded.id }]);
    expect((await outboxTypes(payment.id)).filter((t) => t === 'payment.succeeded')).to.have.length(1);

    // A second run finds nothing new to store.
    const again = await container.webhooks.catchUp.execute();
    expect(again).to.include({ stored: 0, complete: true });
    expect(again.duplicates).to.be.at.least(missed.length);
  });

  it('when the webhook delivers an event late, after the catch-up stored it, then 200 duplicate and no second effect', async () => {
    const payment = await processingPayment(app, token);
    const [succeeded] = await provider.simulate(payment.provider_payment_id, 'succeed');
    await runCatchUpJob(container);
    const before = await historyOf(payment.id);

    const late = await deliver(app, succeeded);
    expect(late.status, late.text).to.equal(200);
    expect(late.body).to.deep.equal({ received: true, id: succeeded.id, duplicate: true });
    await container.webhooks.worker.drain();

    expect(await countOf(succeeded.id)).to.equal(1);
    expect(await storedEvent(succeeded.id)).to.include({ signature_verified: false, state: 'processed' });
    expect(await historyOf(payment.id)).to.deep.equal(before);
    expect((await outboxTypes(payment.id)).filter((t) => t === 'payment.succeeded')).to.have.length(1);
  });

  it('when the webhook delivered an event the provider still lists as undelivered, then the catch-up does not store it again', async () => {
    const payment = await processingPayment(app, token);
    const [succeeded] = await provider.simulate(payment.provider_payment_id, 'succeed');
    const delivered = await deliver(app, succeeded);
    expect(delivered.body).to.include({ duplicate: false });
    await container.webhooks.worker.drain();
    expect((await provider.listEvents({ limit: 100, deliverySuccess: false })).data.map((e) => e.id)).to.include(succeeded.id);

    const result = await container.webhooks.catchUp.execute();
    await container.webhooks.worker.drain();

    expect(result.duplicates).to.be.at.least(1);
    expect(await countOf(succeeded.id)).to.equal(1);
    expect(await storedEvent(succeeded.id)).to.include({ signature_verified: true, state: 'processed', outcome: 'moved' });
    expect((await historyOf(payment.id)).filter((m) => m.to_status === 'succeeded')).to.have.length(1);
  });
});

describe('catch-up of Stripe events the webhook never received (Stripe provider, fake Stripe)', () => {
  let stripe: FakeStripe;
  let app: Express;
  let container: Container;
  let token: string;

  before(async () => {
    stripe = await withFakeStripe();
  });
  after(async () => {
    await stripe.stop();
  });
  beforeEach(() => {
    stripe.reset();
    stripe.events.length = 0;
    ({ app, container } = buildTestApp({ fakeStripe: stripe, env: { CATCH_UP_REQUESTS_PER_SECOND: '0', CATCH_UP_MAX_EVENTS: '100' } }));
    token = tokenFor(newUserId());
  });

  /** Stripe settles the debit and emits payment_intent.succeeded, which never reaches the endpoint. */
  function settledWithoutDelivery(payment: CreatedPayment, created = nowSeconds()) {
    stripe.setStatus(payment.provider_payment_id, 'succeeded');
    const event = paymentIntentEvent('payment_intent.succeeded', { paymentId: payment.id, intentId: payment.provider_payment_id, status: 'succeeded', created });
    stripe.addEvent(event);
    return event;
  }

  it('when Stripe could not deliver payment_intent.succeeded, then the job lists undelivered events, stores it and the payment moves once; a late delivery is a duplicate', async () => {
    const payment = await processingPayment(app, token);
    const event = settledWithoutDelivery(payment);
    const delivered = stripeEvent('customer.created', { id: stripeId('cus'), object: 'customer' });
    stripe.addEvent(delivered, { delivered: true });

    await runCatchUpJob(container);

    const [call] = stripe.callsTo('GET', /^\/v1\/events$/);
    expect(call.query).to.include({ delivery_success: 'false', limit: '100' });
    expect(Number(call.query['created[gte]'])).to.be.within(nowSeconds() - 30 * 24 * 3600, nowSeconds());
    expect(await storedEvent(event.id)).to.include({ source: 'webhook', signature_verified: false, state: 'processed', outcome: 'moved' });
    expect(await countOf(delivered.id), 'a delivered event is not listed').to.equal(0);
    expect(await paymentRow(payment.id)).to.include({ status: 'succeeded' });
    expect((await historyOf(payment.id)).filter((m) => m.to_status === 'succeeded')).to.deep.equal([
      { from_status: 'processing', to_status: 'succeeded', source: 'webhook', event_id: event.id },
    ]);

    const late = await deliver(app, event);
    expect(late.status).to.equal(200);
    expect(late.body).to.include({ duplicate: true });
    await container.webhooks.worker.drain();
    expect((await historyOf(payment.id)).filter((m) => m.to_status === 'succeeded')).to.have.length(1);
    expect((await outboxTypes(payment.id)).filter((t) => t === 'payment.succeeded')).to.have.length(1);
  });

  it('when the webhook delivered the event first, then the catch-up lists it and stores nothing twice', async () => {
    const payment = await processingPayment(app, token);
    const event = settledWithoutDelivery(payment);
    expect((await deliver(app, event)).body).to.include({ duplicate: false });
    await container.webhooks.worker.drain();

    const result = await container.webhooks.catchUp.execute();
    await container.webhooks.worker.drain();

    expect(result).to.include({ stored: 0, duplicates: 1, complete: true });
    expect(await storedEvent(event.id)).to.include({ signature_verified: true });
    expect((await historyOf(payment.id)).filter((m) => m.to_status === 'succeeded')).to.have.length(1);
  });

  it('when webhooks flow again after an outage that outlived the last pass, then the events the outage left behind are still caught up', async () => {
    const now = nowSeconds();
    // The last finished pass was two hours ago (the service was down since).
    await rows("INSERT INTO provider_event_scans (provider, scanned_through) VALUES ('stripe', :t) ON CONFLICT (provider) DO UPDATE SET scanned_through = :t", {
      t: now - 7200,
    });
    const payment = await processingPayment(app, token);
    const missed = settledWithoutDelivery(payment, now - 3600);
    // Back up: a newer event arrives by webhook before the job runs.
    const newer = stripeEvent('customer.created', { id: stripeId('cus'), object: 'customer' }, { created: now });
    expect((await deliver(app, newer)).status).to.equal(200);

    await runCatchUpJob(container);

    expect(await storedEvent(missed.id)).to.include({ state: 'processed', outcome: 'moved' });
    expect(await paymentRow(payment.id)).to.include({ status: 'succeeded' });
    const [call] = stripe.callsTo('GET', /^\/v1\/events$/);
    expect(Number(call.query['created[gte]'])).to.equal(now - 7200 - 600);
    const [mark] = await rows<{ scanned_through: string }>("SELECT scanned_through FROM provider_event_scans WHERE provider = 'stripe'");
    expect(Number(mark.scanned_through)).to.be.at.least(now);
  });

  it('when more events are missing than one run may store, then each run stores a capped share, pages with starting_after, and the last one finishes the pass', async function () {
    this.timeout(180_000); // 210 events stored one by one: slow on the embedded database of a loaded machine
    const ids: string[] = [];
    for (let i = 0; i < 210; i += 1) {
      const event = stripeEvent('customer.created', { id: stripeId('cus'), object: 'customer' });
      stripe.addEvent(event);
      ids.push(event.id);
    }
    const runs: CatchUpResult[] = [];
    for (let i = 0; i < 3; i += 1) runs.push(await container.webhooks.catchUp.execute());

    expect(runs.map((r) => [r.stored, r.complete])).to.deep.equal([
      [100, false],
      [100, false],
      [10, true],
    ]);
    const stored = await rows<{ id: string }>('SELECT id FROM webhook_events WHERE id IN (:ids)', { ids });
    expect(stored).to.have.length(210);
    const calls = stripe.callsTo('GET', /^\/v1\/events$/);
    expect(calls.every((c) => c.query.limit === '100')).to.equal(true);
    expect(calls.filter((c) => c.query.starting_after !== undefined).length).to.be.at.least(3);
    expect(await container.webhooks.catchUp.execute()).to.include({ stored: 0, complete: true });
  });
});
