import { expect } from 'chai';
import { newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import { deliver, nowSeconds, paymentIntentEvent } from '../../helpers/stripe-events';
import { buildTestApp, type TestApp } from '../../helpers/test-app';
import { createPayment, historyOf, storedEvent, type CreatedPayment } from '../../helpers/webhook-payments';

describe('a poisoned event in a webhook batch (its handler fails in the database)', () => {
  let t: TestApp;
  before(() => {
    t = buildTestApp({ env: { WEBHOOK_MAX_ATTEMPTS: '2' } });
  });

  it('when one event of a batch makes its statement fail (a NUL byte PostgreSQL refuses), then the others apply once, the payment’s later event waits behind it, and applies once it is dead', async () => {
    const token = tokenFor(newUserId());
    const payments: CreatedPayment[] = [];
    for (let i = 0; i < 3; i += 1) payments.push(await createPayment(t.app, token));
    await t.container.webhooks.worker.drain();
    const [poisoned, ...others] = payments;
    const bad = paymentIntentEvent('payment_intent.payment_failed', {
      paymentId: poisoned.id,
      intentId: poisoned.provider_payment_id,
      status: 'requires_payment_method',
      lastPaymentError: { code: 'card_declined', message: 'bad\u0000byte' },
      created: nowSeconds() + 5,
    });
    const later = paymentIntentEvent('payment_intent.requires_action', { paymentId: poisoned.id, intentId: poisoned.provider_payment_id, status: 'requires_action', created: nowSeconds() + 10 });
    const good = others.map((p) => paymentIntentEvent('payment_intent.requires_action', { paymentId: p.id, intentId: p.provider_payment_id, status: 'requires_action', created: nowSeconds() }));
    for (const e of [good[0], bad, later, good[1]]) expect((await deliver(t.app, e)).status).to.equal(200);

    await t.container.webhooks.worker.drain();

    for (const g of good) expect(await storedEvent(g.id)).to.include({ state: 'processed', attempts: 1 });
    expect(await storedEvent(bad.id)).to.include({ state: 'retrying', attempts: 1 });
    expect(await storedEvent(later.id), 'the later event of the poisoned payment waits').to.include({ state: 'pending' });

    await rows(`UPDATE webhook_events SET next_attempt_at = now() WHERE id = :id`, { id: bad.id });
    await t.container.webhooks.worker.drain();

    expect(await storedEvent(bad.id)).to.include({ state: 'dead', attempts: 2 });
    expect(await storedEvent(later.id)).to.include({ state: 'processed', attempts: 1 });
    expect((await historyOf(poisoned.id)).map((m) => [m.to_status, m.event_id])).to.deep.equal([
      ['pending', null],
      ['requires_action', later.id],
    ]);
  });
});
