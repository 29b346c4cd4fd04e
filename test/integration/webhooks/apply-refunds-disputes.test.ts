import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { chargeRefundedEvent, deliver, disputeEvent, refundEvent, refundObject, stripeId, type StripeEvent } from '../../helpers/stripe-events';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { createPayment, historyOf, outboxTypes, paymentRow, storedEvent, type CreatedPayment } from '../../helpers/webhook-payments';

describe('applying refund and dispute events (real Stripe SDK against a fake Stripe)', () => {
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

  /** A payment that succeeded at the fake Stripe, and its charge id. */
  async function succeededPayment(amount = 2000): Promise<CreatedPayment & { chargeId: string }> {
    const payment = await createPayment(app, token, { amount, payment_method: 'pm_card_visa' });
    expect(payment.status).to.equal('succeeded');
    return { ...payment, chargeId: String(stripe.intents.get(payment.provider_payment_id)!.latest_charge) };
  }

  async function apply(...events: StripeEvent[]) {
    for (const event of events) {
      const res = await deliver(app, event);
      expect(res.status, res.text).to.equal(200);
      await container.webhooks.worker.drain();
      expect(await storedEvent(event.id), `${event.type} ${event.id}`).to.include({ state: 'processed' });
    }
  }

  const refundRows = (paymentId: string) =>
    rows<{ provider_refund_id: string | null; amount: string; status: string; source: string }>(
      'SELECT provider_refund_id, amount, status, source FROM refunds WHERE payment_id = :paymentId ORDER BY amount',
      { paymentId },
    );

  /** A dashboard refund: the Refund and the charge.refunded Stripe sends for it (charge refunds not expanded). */
  function dashboardRefund(p: { provider_payment_id: string; chargeId: string; amount: number }, amount: number, totalRefunded: number) {
    const refund = refundObject({ intentId: p.provider_payment_id, chargeId: p.chargeId, amount });
    return {
      refund,
      created: refundEvent('refund.created', { refundId: refund.id, intentId: p.provider_payment_id, chargeId: p.chargeId, amount }),
      chargeRefunded: chargeRefundedEvent({ intentId: p.provider_payment_id, chargeId: p.chargeId, amount: p.amount, amountRefunded: totalRefunded }),
    };
  }

  it('when a partial then a full dashboard refund arrive (refund.created first, then charge.refunded), then partially_refunded 500, then refunded 2000 with two refunds', async () => {
    const payment = await succeededPayment();
    const first = dashboardRefund(payment, 500, 500);

    await apply(first.created, first.chargeRefunded);

    expect(await paymentRow(payment.id)).to.include({ status: 'partially_refunded', amount_refunded: '500' });
    expect(await refundRows(payment.id)).to.deep.equal([{ provider_refund_id: first.refund.id, amount: '500', status: 'succeeded', source: 'webhook' }]);

    const second = dashboardRefund(payment, 1500, 2000);
    await apply(second.chargeRefunded, second.created);

    expect(await paymentRow(payment.id)).to.include({ status: 'refunded', amount_refunded: '2000' });
    expect(await refundRows(payment.id)).to.deep.equal([
      { provider_refund_id: first.refund.id, amount: '500', status: 'succeeded', source: 'webhook' },
      { provider_refund_id: second.refund.id, amount: '1500', status: 'succeeded', source: 'webhook' },
    ]);
    expect((await historyOf(payment.id)).slice(-2)).to.deep.equal([
      { from_status: 'succeeded', to_status: 'partially_refunded', source: 'webhook', event_id: first.created.id },
      { from_status: 'partially_refunded', to_status: 'refunded', source: 'webhook', event_id: second.chargeRefunded.id },
    ]);
    expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created', 'payment.succeeded', 'payment.partially_refunded', 'payment.refunded']);
    const res = await request(app).get(`/v1/payments/${payment.id}`).set(bearer(token));
    expect(res.body).to.include({ status: 'refunded', amount_refunded: 2000 });

    const listed = await request(app).get(`/v1/payments/${payment.id}/refunds`).set(bearer(token));
    expect(listed.status).to.equal(200);
    expect(listed.body).to.include({ object: 'list', has_more: false });
    expect(listed.body.data.map((r: Record<string, unknown>) => [r.object, r.amount, r.status, r.provider_refund_id, r.source])).to.deep.equal([
      ['refund', 500, 'succeeded', first.refund.id, 'webhook'],
      ['refund', 1500, 'succeeded', second.refund.id, 'webhook'],
    ]);
    expect(listed.body.data[0].id).to.match(/^ref_/);
    const stranger = await request(app).get(`/v1/payments/${payment.id}/refunds`).set(bearer(tokenFor(newUserId())));
    expect(stranger.status).to.equal(404);
  });

  it('when charge.refunded arrives before its refund.created, then the amount is counted once and the refund adopts it', async () => {
    const payment = await succeededPayment();
    const first = dashboardRefund(payment, 500, 500);

    await apply(first.chargeRefunded);
    expect(await paymentRow(payment.id)).to.include({ status: 'partially_refunded', amount_refunded: '500' });
    await apply(first.created);

    expect(await paymentRow(payment.id)).to.include({ status: 'partially_refunded', amount_refunded: '500' });
    expect(await refundRows(payment.id)).to.deep.equal([{ provider_refund_id: first.refund.id, amount: '500', status: 'succeeded', source: 'webhook' }]);

    const second = dashboardRefund(payment, 1500, 2000);
    await apply(second.created, second.chargeRefunded);

    expect(await paymentRow(payment.id)).to.include({ status: 'refunded', amount_refunded: '2000' });
    expect((await refundRows(payment.id)).map((r) => [r.provider_refund_id, r.amount])).to.deep.equal([
      [first.refund.id, '500'],
      [second.refund.id, '1500'],
    ]);
    expect((await outboxTypes(payment.id)).filter((t) => t.startsWith('payment.') && t.endsWith('refunded'))).to.deep.equal([
      'payment.partially_refunded',
      'payment.refunded',
    ]);
  });

  it('when charge.refunded lists its refunds, then each is recorded once by its id, whatever comes after', async () => {
    const payment = await succeededPayment();
    const first = dashboardRefund(payment, 500, 500);
    const second = dashboardRefund(payment, 1500, 2000);
    const listed = chargeRefundedEvent({
      intentId: payment.provider_payment_id,
      chargeId: payment.chargeId,
      amount: 2000,
      amountRefunded: 2000,
      refunds: [second.refund, first.refund],
    });

    await apply(listed, first.created, second.created, first.chargeRefunded);

    expect(await paymentRow(payment.id)).to.include({ status: 'refunded', amount_refunded: '2000' });
    expect((await refundRows(payment.id)).map((r) => [r.provider_refund_id, r.amount])).to.deep.equal([
      [first.refund.id, '500'],
      [second.refund.id, '1500'],
    ]);
  });

  it('when the charge total of two refunds arrives before either refund, then neither refund is counted twice', async () => {
    const payment = await succeededPayment(3000);
    const first = dashboardRefund(payment, 500, 500);
    const second = dashboardRefund(payment, 1500, 2000);

    await apply(second.chargeRefunded);
    expect(await paymentRow(payment.id)).to.include({ status: 'partially_refunded', amount_refunded: '2000' });
    await apply(first.created);
    expect(await paymentRow(payment.id)).to.include({ status: 'partially_refunded', amount_refunded: '2000' });
    await apply(second.created, first.chargeRefunded);

    expect(await paymentRow(payment.id)).to.include({ status: 'partially_refunded', amount_refunded: '2000' });
    expect((await refundRows(payment.id)).map((r) => [r.provider_refund_id, r.amount])).to.deep.equal([
      [first.refund.id, '500'],
      [second.refund.id, '1500'],
    ]);
  });

  it('when a counted refund fails, then it stops counting and refund.failed is emitted once', async () => {
    const payment = await succeededPayment();
    const first = dashboardRefund(payment, 500, 500);
    await apply(first.created);
    const failed = refundEvent('refund.failed', {
      refundId: first.refund.id,
      intentId: payment.provider_payment_id,
      chargeId: payment.chargeId,
      amount: 500,
      status: 'failed',
    });
    (failed.data.object as Record<string, unknown>).failure_reason = 'expired_or_canceled_card';

    await apply(failed);

    expect(await paymentRow(payment.id)).to.include({ amount_refunded: '0' });
    expect(await refundRows(payment.id)).to.deep.equal([{ provider_refund_id: first.refund.id, amount: '500', status: 'failed', source: 'webhook' }]);
    expect((await outboxTypes(payment.id)).filter((t) => t === 'refund.failed')).to.have.length(1);
  });

  it('when a dispute is opened, then funds withdrawn, then closed, then the payment shows the dispute and payment.disputed is emitted once', async () => {
    const payment = await succeededPayment();
    const disputeId = stripeId('dp');
    const dispute = (type: string, status: string) =>
      disputeEvent(type, { disputeId, intentId: payment.provider_payment_id, chargeId: payment.chargeId, amount: 2000, status, reason: 'fraudulent' });
    const opened = dispute('charge.dispute.created', 'needs_response');

    await apply(opened);

    let res = await request(app).get(`/v1/payments/${payment.id}`).set(bearer(token));
    expect(res.body.dispute).to.deep.equal({ id: disputeId, status: 'needs_response', reason: 'fraudulent', amount: 2000 });
    expect(await storedEvent(opened.id)).to.include({ outcome: 'dispute_opened', payment_id: payment.id });

    await apply(dispute('charge.dispute.funds_withdrawn', 'needs_response'), dispute('charge.dispute.closed', 'lost'));

    res = await request(app).get(`/v1/payments/${payment.id}`).set(bearer(token));
    expect(res.body).to.include({ status: 'succeeded', amount_refunded: 0 });
    expect(res.body.dispute).to.deep.equal({ id: disputeId, status: 'lost', reason: 'fraudulent', amount: 2000 });
    expect((await outboxTypes(payment.id)).filter((t) => t === 'payment.disputed')).to.have.length(1);
    expect((await historyOf(payment.id)).map((m) => m.to_status)).to.deep.equal(['pending', 'succeeded']);
  });

  it('when charge.dispute.closed arrives before charge.dispute.created, then the dispute stays closed and payment.disputed is emitted once', async () => {
    const payment = await succeededPayment();
    const disputeId = stripeId('dp');
    const dispute = (type: string, status: string) =>
      disputeEvent(type, { disputeId, intentId: payment.provider_payment_id, chargeId: payment.chargeId, amount: 2000, status });
    const created = dispute('charge.dispute.created', 'needs_response');
    const closed = dispute('charge.dispute.closed', 'won');

    await apply(closed, created);

    const res = await request(app).get(`/v1/payments/${payment.id}`).set(bearer(token));
    expect(res.body.dispute).to.include({ id: disputeId, status: 'won' });
    expect(await storedEvent(created.id)).to.include({ state: 'processed', outcome: 'stale' });
    expect((await outboxTypes(payment.id)).filter((t) => t === 'payment.disputed')).to.have.length(1);
  });

  it('when a dispute event is for a charge that is not ours, then it is stored as ignored (not_ours)', async () => {
    const event = disputeEvent('charge.dispute.created', {
      disputeId: stripeId('dp'),
      intentId: stripeId('pi'),
      chargeId: stripeId('ch'),
      amount: 1000,
      status: 'needs_response',
    });
    await deliver(app, event);
    await container.webhooks.worker.drain();
    expect(await storedEvent(event.id)).to.include({ state: 'ignored', outcome: 'not_ours' });
  });
});
