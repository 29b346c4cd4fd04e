import { expect } from 'chai';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { chargeRefundedEvent, disputeEvent, refundEvent, stripeId, type StripeEvent } from '../../helpers/stripe-events';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { historyOf, outboxTypes, paymentRow, storedEvent, deliverAndDrain, succeededPayment, type SucceededPayment } from '../../helpers/webhook-payments';

type Succeeded = SucceededPayment;

/**
 * Every charge, refund and dispute event type we handle, made for `payment`'s id but about `intentId`
 * (the metadata says ours; the PaymentIntent says otherwise).
 */
const EVENTS: Array<[string, (p: Succeeded, intentId: string, chargeId: string) => StripeEvent]> = [
  ['charge.refunded', (p, intentId, chargeId) => chargeRefundedEvent({ intentId, chargeId, amount: p.amount, amountRefunded: p.amount, paymentId: p.id })],
  ...(['refund.created', 'refund.updated', 'refund.failed'] as const).map(
    (type): [string, (p: Succeeded, intentId: string, chargeId: string) => StripeEvent] => [
      type,
      (p, intentId, chargeId) => refundEvent(type, { intentId, chargeId, amount: p.amount, paymentId: p.id, status: type === 'refund.failed' ? 'failed' : 'succeeded' }),
    ],
  ),
  ...['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_withdrawn', 'charge.dispute.funds_reinstated'].map(
    (type): [string, (p: Succeeded, intentId: string, chargeId: string) => StripeEvent] => [
      type,
      (p, intentId, chargeId) => {
        const event = disputeEvent(type, { disputeId: stripeId('dp'), intentId, chargeId, amount: p.amount, status: 'needs_response' });
        event.data.object.metadata = { payment_id: p.id };
        return event;
      },
    ],
  ),
];

describe('charge, refund and dispute events must be about the payment they name (real Stripe SDK against a fake Stripe)', () => {
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

  for (const [type, make] of EVENTS) {
    it(`when a signed ${type} names our payment in metadata.payment_id but its PaymentIntent is another (e.g. a connected account's), then it is stored as ignored (other_intent) and the payment is untouched`, async () => {
      const payment = await succeededPayment(app, token, stripe);
      const before = await paymentRow(payment.id);
      const event = make(payment, stripeId('pi'), stripeId('ch'));

      await deliverAndDrain({ app, container }, event);

      expect(await storedEvent(event.id)).to.include({ state: 'ignored', outcome: 'other_intent', payment_id: payment.id });
      expect(await paymentRow(payment.id)).to.include({
        status: 'succeeded',
        amount_refunded: '0',
        dispute_id: null,
        amount_disputed: before.amount_disputed,
      });
      expect(String((await paymentRow(payment.id)).updated_at)).to.equal(String(before.updated_at));
      expect(await rows('SELECT id FROM refunds WHERE payment_id = :id', { id: payment.id })).to.deep.equal([]);
      expect((await historyOf(payment.id)).map((m) => m.to_status)).to.deep.equal(['pending', 'succeeded']);
      expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created', 'payment.succeeded']);
    });
  }

  it('when the same events carry the payment’s own PaymentIntent, then they are applied (the check refuses only what is not ours)', async () => {
    const payment = await succeededPayment(app, token, stripe);
    const refund = refundEvent('refund.created', { intentId: payment.provider_payment_id, chargeId: payment.chargeId, amount: 500, paymentId: payment.id });
    const dispute = disputeEvent('charge.dispute.created', {
      disputeId: stripeId('dp'),
      intentId: payment.provider_payment_id,
      chargeId: payment.chargeId,
      amount: payment.amount,
      status: 'needs_response',
    });
    dispute.data.object.metadata = { payment_id: payment.id };

    await deliverAndDrain({ app, container }, refund);
    await deliverAndDrain({ app, container }, dispute);

    expect(await storedEvent(refund.id)).to.include({ state: 'processed', outcome: 'refund_recorded' });
    expect(await storedEvent(dispute.id)).to.include({ state: 'processed', outcome: 'dispute_opened' });
    expect(await paymentRow(payment.id)).to.include({ status: 'partially_refunded', amount_refunded: '500', dispute_id: dispute.data.object.id });
  });

  it('when a refund event names a payment whose intent id is not committed yet, then it waits (retrying) instead of being matched on metadata alone', async () => {
    const payment = await succeededPayment(app, token, stripe);
    await rows(`UPDATE payments SET provider_payment_id = NULL WHERE id = :id`, { id: payment.id });
    const event = refundEvent('refund.created', { intentId: payment.provider_payment_id, chargeId: payment.chargeId, amount: 500, paymentId: payment.id });

    await deliverAndDrain({ app, container }, event);

    expect(await storedEvent(event.id)).to.include({ state: 'retrying', attempts: 1 });
    expect(await rows('SELECT id FROM refunds WHERE payment_id = :id', { id: payment.id })).to.deep.equal([]);

    await rows(`UPDATE payments SET provider_payment_id = :pi WHERE id = :id`, { id: payment.id, pi: payment.provider_payment_id });
    await rows(`UPDATE webhook_events SET next_attempt_at = now() WHERE id = :id`, { id: event.id });
    await container.webhooks.worker.drain();

    expect(await storedEvent(event.id)).to.include({ state: 'processed', outcome: 'refund_recorded' });
    expect(await paymentRow(payment.id)).to.include({ status: 'partially_refunded', amount_refunded: '500' });
  });
});
