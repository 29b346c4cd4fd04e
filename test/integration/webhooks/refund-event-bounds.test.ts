import { expect } from 'chai';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { chargeRefundedEvent, refundEvent, refundObject } from '../../helpers/stripe-events';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { paymentRow, storedEvent, deliverAndDrain, succeededPayment } from '../../helpers/webhook-payments';

/**
 * A refund Stripe cannot have made for a payment (more than was charged, or in another currency) is
 * never stored as one of its refunds: it would overstate what was refunded to the customer.
 */
describe('refund events that cannot belong to the payment (real Stripe SDK against a fake Stripe)', () => {
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

  const refundRows = (paymentId: string) => rows<{ amount: string }>('SELECT amount FROM refunds WHERE payment_id = :id', { id: paymentId });

  it('when a signed refund.created for the payment’s own intent is larger than the payment, then it is stored as ignored (invalid_amount) and no refund row is written', async () => {
    const payment = await succeededPayment(app, token, stripe);
    const event = refundEvent('refund.created', { intentId: payment.provider_payment_id, chargeId: payment.chargeId, amount: 999_999, paymentId: payment.id });

    await deliverAndDrain({ app, container }, event);

    expect(await storedEvent(event.id)).to.include({ state: 'ignored', outcome: 'invalid_amount', payment_id: payment.id });
    expect(await refundRows(payment.id)).to.deep.equal([]);
    expect(await paymentRow(payment.id)).to.include({ status: 'succeeded', amount_refunded: '0' });
  });

  it('when a signed refund.created for the payment’s own intent is in another currency, then it is stored as ignored (currency_mismatch) and no refund row is written', async () => {
    const payment = await succeededPayment(app, token, stripe);
    const event = refundEvent('refund.created', {
      intentId: payment.provider_payment_id,
      chargeId: payment.chargeId,
      amount: 500,
      currency: 'eur',
      paymentId: payment.id,
    });

    await deliverAndDrain({ app, container }, event);

    expect(await storedEvent(event.id)).to.include({ state: 'ignored', outcome: 'currency_mismatch', payment_id: payment.id });
    expect(await refundRows(payment.id)).to.deep.equal([]);
    expect(await paymentRow(payment.id)).to.include({ status: 'succeeded', amount_refunded: '0' });
  });

  it('when charge.refunded lists a refund larger than the charge, then that refund is not stored and the refunds add up to amount_refunded', async () => {
    const payment = await succeededPayment(app, token, stripe);
    const huge = refundObject({ intentId: payment.provider_payment_id, chargeId: payment.chargeId, amount: 999_999 });
    const event = chargeRefundedEvent({
      intentId: payment.provider_payment_id,
      chargeId: payment.chargeId,
      amount: payment.amount,
      amountRefunded: payment.amount,
      refunds: [huge],
      paymentId: payment.id,
    });

    await deliverAndDrain({ app, container }, event);

    expect(await storedEvent(event.id)).to.include({ state: 'processed', outcome: 'refund_recorded' });
    expect((await refundRows(payment.id)).map((r) => Number(r.amount))).to.deep.equal([payment.amount]);
    expect(await rows('SELECT id FROM refunds WHERE provider_refund_id = :id', { id: huge.id })).to.deep.equal([]);
    expect(await paymentRow(payment.id)).to.include({ status: 'refunded', amount_refunded: String(payment.amount) });
  });

  it('when a refund.created of the payment’s own intent fits the payment, then it is still recorded (the bound refuses only the impossible)', async () => {
    const payment = await succeededPayment(app, token, stripe);
    const event = refundEvent('refund.created', { intentId: payment.provider_payment_id, chargeId: payment.chargeId, amount: payment.amount, paymentId: payment.id });

    await deliverAndDrain({ app, container }, event);

    expect(await storedEvent(event.id)).to.include({ state: 'processed', outcome: 'refund_recorded' });
    expect((await refundRows(payment.id)).map((r) => Number(r.amount))).to.deep.equal([payment.amount]);
  });
});
