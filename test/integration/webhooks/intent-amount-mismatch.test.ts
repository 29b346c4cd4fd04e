import { expect } from 'chai';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { newUserId, tokenFor } from '../../helpers/auth';
import { deliver, paymentIntentEvent } from '../../helpers/stripe-events';
import { buildTestApp } from '../../helpers/test-app';
import { createPayment, historyOf, paymentRow, storedEvent } from '../../helpers/webhook-payments';

describe('payment_intent events must charge the payment’s own amount and currency', () => {
  let app: Express;
  let container: Container;

  before(() => {
    ({ app, container } = buildTestApp());
  });

  for (const [what, change] of [
    ['amount', { amount: 1 }],
    ['currency', { currency: 'eur' }],
  ] as const) {
    it(`when a signed payment_intent.succeeded for our intent carries another ${what}, then it is stored as ignored (amount_mismatch) and the payment does not move`, async () => {
      const payment = await createPayment(app, tokenFor(newUserId()));
      await container.webhooks.worker.drain();
      const event = paymentIntentEvent('payment_intent.succeeded', {
        paymentId: payment.id,
        intentId: payment.provider_payment_id,
        status: 'succeeded',
        ...change,
      });
      expect((await deliver(app, event)).status).to.equal(200);
      await container.webhooks.worker.drain();

      expect(await storedEvent(event.id)).to.include({ state: 'ignored', outcome: 'amount_mismatch' });
      expect(await paymentRow(payment.id)).to.include({ status: 'pending' });
      expect((await historyOf(payment.id)).map((m) => m.to_status)).to.deep.equal(['pending']);
    });
  }

  it('when the same event carries the payment’s own amount and currency, then the payment succeeds', async () => {
    const payment = await createPayment(app, tokenFor(newUserId()));
    await container.webhooks.worker.drain();
    const event = paymentIntentEvent('payment_intent.succeeded', { paymentId: payment.id, intentId: payment.provider_payment_id, status: 'succeeded' });
    expect((await deliver(app, event)).status).to.equal(200);
    await container.webhooks.worker.drain();
    expect(await paymentRow(payment.id)).to.include({ status: 'succeeded' });
  });
});
