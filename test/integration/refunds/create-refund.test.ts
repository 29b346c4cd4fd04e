import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { chargeRefundedEvent, deliver, stripeEvent, type StripeObject } from '../../helpers/stripe-events';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { createPayment, historyOf, outboxTypes, paymentRow } from '../../helpers/webhook-payments';

describe('POST /v1/payments/:id/refunds (real Stripe SDK against a fake Stripe)', () => {
  let stripe: FakeStripe;
  let app: Express;
  let container: Container;
  let owner: string;
  const admin = tokenFor('admin_refunds', 'admin');

  before(async () => {
    stripe = await withFakeStripe();
    ({ app, container } = buildTestApp({ fakeStripe: stripe }));
  });
  after(() => stripe.stop());
  beforeEach(() => {
    owner = tokenFor(newUserId());
    stripe.reset();
  });

  const succeeded = () => createPayment(app, owner, { amount: 2000, payment_method: 'pm_card_visa' });
  const refund = (paymentId: string, body: object = {}, key?: string) => {
    const req = request(app).post(`/v1/payments/${paymentId}/refunds`).set(bearer(admin));
    return key ? req.set('Idempotency-Key', key).send(body) : req.send(body);
  };
  const stripeRefunds = () => stripe.callsTo('POST', /^\/v1\/refunds$/);
  const refundRows = (paymentId: string) =>
    rows<{ amount: string; status: string; source: string; provider_refund_id: string | null }>(
      'SELECT amount, status, source, provider_refund_id FROM refunds WHERE payment_id = :paymentId ORDER BY created_at',
      { paymentId },
    );

  it('when an admin refunds without an amount, then the whole payment is refunded at Stripe once and the payment is refunded', async () => {
    const payment = await succeeded();
    const res = await refund(payment.id, { reason: 'requested_by_customer' });
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ object: 'refund', payment_id: payment.id, amount: 2000, currency: 'usd', status: 'succeeded', source: 'api' });
    expect(res.body.id).to.match(/^ref_/);
    expect(res.body.provider_refund_id).to.match(/^re_/);

    const [call] = stripeRefunds();
    expect(call.idempotencyKey).to.equal(`${res.body.id}:create`);
    expect(call.body).to.deep.include({ payment_intent: payment.provider_payment_id, amount: '2000', reason: 'requested_by_customer' });
    expect(call.body.metadata).to.deep.equal({ refund_id: res.body.id, payment_id: payment.id });

    expect(await paymentRow(payment.id)).to.include({ status: 'refunded', amount_refunded: '2000' });
    expect((await historyOf(payment.id)).at(-1)).to.include({ from_status: 'succeeded', to_status: 'refunded', source: 'api' });
    expect((await outboxTypes(payment.id)).at(-1)).to.equal('payment.refunded');
  });

  it('when partial refunds add up, then partially_refunded, then refunded, and one more is 422 amount_exceeds_refundable with no Stripe call', async () => {
    const payment = await succeeded();
    expect((await refund(payment.id, { amount: 500 })).status).to.equal(201);
    expect(await paymentRow(payment.id)).to.include({ status: 'partially_refunded', amount_refunded: '500' });
    expect((await refund(payment.id, { amount: 1500 })).status).to.equal(201);
    expect(await paymentRow(payment.id)).to.include({ status: 'refunded', amount_refunded: '2000' });

    const more = await refund(payment.id, { amount: 1 });
    expectApiError(more, { status: 422, type: 'invalid_request_error', code: 'amount_exceeds_refundable', param: 'amount', extra: ['refundable'] });
    expect(stripeRefunds()).to.have.length(2);
    expect(await refundRows(payment.id)).to.have.length(2);
  });

  it('when the amount is more than was paid, then 422, nothing recorded and Stripe not called', async () => {
    const payment = await succeeded();
    const res = await refund(payment.id, { amount: 2001 });
    expectApiError(res, { status: 422, type: 'invalid_request_error', code: 'amount_exceeds_refundable', param: 'amount', extra: ['refundable'] });
    expect(res.body.error.refundable).to.equal(2000);
    expect(stripeRefunds()).to.have.length(0);
    expect(await refundRows(payment.id)).to.deep.equal([]);
  });

  it('when 10 refunds of 500 race on a 2000 payment, then exactly four succeed and the rest are 422: never more than was paid', async () => {
    const payment = await succeeded();
    const answers = await Promise.all(Array.from({ length: 10 }, () => refund(payment.id, { amount: 500 })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).to.deep.equal([201, 201, 201, 201, 422, 422, 422, 422, 422, 422]);
    expect(stripeRefunds()).to.have.length(4);
    expect(await paymentRow(payment.id)).to.include({ status: 'refunded', amount_refunded: '2000' });
  });

  it('when the body is wrong or the caller is not an admin or the payment is not refundable, then a clear 4xx and nothing happens', async () => {
    const payment = await succeeded();
    expectApiError(await refund(payment.id, { amount: 10.5 }), { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'amount' });
    expectApiError(await refund(payment.id, { reason: 'because' }), { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'reason' });
    expectApiError(await refund(payment.id, { amount: 100, extra: 1 }), { status: 400, type: 'invalid_request_error', code: 'parameter_unknown', param: 'extra' });
    const asOwner = await request(app).post(`/v1/payments/${payment.id}/refunds`).set(bearer(owner)).send({});
    expectApiError(asOwner, { status: 403, type: 'permission_error', code: 'permission_denied' });
    const open = await createPayment(app, owner);
    expectApiError(await refund(open.id), { status: 409, type: 'conflict', code: 'payment_unexpected_state', extra: ['payment_status'] });
    expectApiError(await refund('pay_doesnotexist'), { status: 404, type: 'not_found', code: 'resource_missing' });
    expect(stripeRefunds()).to.have.length(0);
    expect(await refundRows(payment.id)).to.deep.equal([]);
  });

  it('when Stripe fails with 500, then 503, the refund stays pending and counted, and a retry with the key finishes it with one Stripe refund', async () => {
    const payment = await succeeded();
    stripe.failNext(1, 500);
    const first = await refund(payment.id, { amount: 2000 }, 'refund-key');
    expectApiError(first, { status: 503, type: 'provider_error', code: 'provider_unavailable' });
    expect(await refundRows(payment.id)).to.deep.equal([{ amount: '2000', status: 'pending', source: 'api', provider_refund_id: null }]);
    // The pending refund counts: nothing else can be refunded meanwhile.
    expect((await refund(payment.id, { amount: 1 })).status).to.equal(422);

    const retry = await refund(payment.id, { amount: 2000 }, 'refund-key');
    expect(retry.status, retry.text).to.equal(201);
    const replay = await refund(payment.id, { amount: 2000 }, 'refund-key');
    expect(replay.headers['idempotent-replayed']).to.equal('true');
    expect(replay.text).to.equal(retry.text);
    expect(stripe.refunds.size).to.be.greaterThan(0);
    expect([...stripe.refunds.values()].filter((r) => r.payment_intent === payment.provider_payment_id)).to.have.length(1);
    expect(await refundRows(payment.id)).to.have.length(1);
    expect(await paymentRow(payment.id)).to.include({ status: 'refunded', amount_refunded: '2000' });
  });

  it("when Stripe's webhooks for our own refund arrive, then they update its row: never a second refund", async () => {
    const payment = await succeeded();
    const made = await refund(payment.id, { amount: 500 });
    const stripeRefund = stripe.refunds.get(made.body.provider_refund_id) as StripeObject;
    const chargeId = String(stripe.intents.get(payment.provider_payment_id)!.latest_charge);
    for (const event of [
      chargeRefundedEvent({ intentId: payment.provider_payment_id, chargeId, amount: 2000, amountRefunded: 500 }),
      stripeEvent('refund.created', stripeRefund),
    ]) {
      expect((await deliver(app, event)).status).to.equal(200);
      await container.webhooks.worker.drain();
    }
    expect(await refundRows(payment.id)).to.deep.equal([
      { amount: '500', status: 'succeeded', source: 'api', provider_refund_id: made.body.provider_refund_id },
    ]);
    expect(await paymentRow(payment.id)).to.include({ status: 'partially_refunded', amount_refunded: '500' });
    const listed = await request(app).get(`/v1/payments/${payment.id}/refunds`).set(bearer(owner));
    expect(listed.body.data.map((r: { id: string }) => r.id)).to.deep.equal([made.body.id]);
  });
});

describe('POST /v1/payments/:id/refunds (mock provider)', () => {
  it('when a mock payment is refunded, then the mock emits refund events through the pipeline and they change nothing more', async () => {
    const { app, container } = buildTestApp();
    const owner = tokenFor(newUserId());
    const payment = await createPayment(app, owner, { amount: 2000, payment_method: 'pm_card_visa' });
    const res = await request(app).post(`/v1/payments/${payment.id}/refunds`).set(bearer(tokenFor('admin_1', 'admin'))).send({ amount: 700 });
    expect(res.status, res.text).to.equal(201);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await container.webhooks.worker.drain();
    const events = await rows<{ type: string; state: string }>(
      `SELECT type, state FROM webhook_events WHERE payload LIKE :ref ORDER BY received_at`,
      { ref: `%${res.body.id}%` },
    );
    expect(events.map((e) => e.type)).to.include('refund.created');
    expect(events.every((e) => e.state === 'processed')).to.equal(true);
    expect(await rows('SELECT amount FROM refunds WHERE payment_id = :id', { id: payment.id })).to.deep.equal([{ amount: '700' }]);
    expect(await paymentRow(payment.id)).to.include({ status: 'partially_refunded', amount_refunded: '700' });
  });
});
