import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { logger } from '../../../src/shared/logger';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { deliver, paymentIntentEvent, type StripeEvent } from '../../helpers/stripe-events';
import { buildTestApp, withFakeStripe, type TestApp } from '../../helpers/test-app';
import { createPayment, historyOf, outboxTypes, paymentRow, storedEvent, type CreatedPayment } from '../../helpers/webhook-payments';

const succeededEvent = (payment: CreatedPayment, envelope: { livemode?: boolean; account?: string } = {}): StripeEvent => {
  const event = paymentIntentEvent('payment_intent.succeeded', {
    paymentId: payment.id,
    intentId: payment.provider_payment_id,
    status: 'succeeded',
    livemode: envelope.livemode,
  });
  event.data.object.livemode = envelope.livemode ?? false;
  if (envelope.account) event.account = envelope.account;
  return event;
};

/** The warn lines logged while `fn` runs. */
async function warnings(fn: () => Promise<void>): Promise<Array<[string, Record<string, unknown>]>> {
  const seen: Array<[string, Record<string, unknown>]> = [];
  const original = logger.warn;
  logger.warn = ((message: string, meta: Record<string, unknown>) => {
    seen.push([message, meta]);
    return logger;
  }) as typeof logger.warn;
  try {
    await fn();
  } finally {
    logger.warn = original;
  }
  return seen;
}

describe('events of another mode or account are stored and ignored (real Stripe SDK against a fake Stripe)', () => {
  let stripe: FakeStripe;
  let testMode: TestApp;
  let token: string;

  before(async () => {
    stripe = await withFakeStripe();
    testMode = buildTestApp({ fakeStripe: stripe });
  });
  after(() => stripe.stop());
  beforeEach(() => {
    token = tokenFor(newUserId());
  });

  async function deliverAndDrain(target: { app: Express; container: Container }, event: StripeEvent) {
    const res = await deliver(target.app, event);
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.equal({ received: true, id: event.id, duplicate: false });
    await target.container.webhooks.worker.drain();
  }

  async function expectUntouched(payment: CreatedPayment, app: Express) {
    expect(await paymentRow(payment.id)).to.include({ status: 'pending', last_event_id: null });
    expect((await historyOf(payment.id)).map((m) => m.to_status)).to.deep.equal(['pending']);
    expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created']);
    const res = await request(app).get(`/v1/payments/${payment.id}`).set(bearer(token));
    expect(res.body.status).to.equal('pending');
  }

  it('when a livemode: true event arrives for a payment made with a test key, then 200, it is stored as ignored (livemode_mismatch) with one log line, and the payment is untouched', async () => {
    const payment = await createPayment(testMode.app, token);
    const event = succeededEvent(payment, { livemode: true });

    const logged = await warnings(() => deliverAndDrain(testMode, event));

    expect(await storedEvent(event.id)).to.include({ state: 'ignored', outcome: 'livemode_mismatch', livemode: true, attempts: 0 });
    await expectUntouched(payment, testMode.app);
    const lines = logged.filter(([, meta]) => meta?.event_id === event.id);
    expect(lines).to.have.length(1);
    expect(lines[0][1]).to.include({ outcome: 'livemode_mismatch', livemode: true, type: 'payment_intent.succeeded' });
  });

  it('when an event carries an account (a Connect event) and STRIPE_ACCOUNT_ID is unset, then it is stored as ignored (account_mismatch) and the payment is untouched', async () => {
    const payment = await createPayment(testMode.app, token);
    const event = succeededEvent(payment, { account: 'acct_1OtherAccount' });

    const logged = await warnings(() => deliverAndDrain(testMode, event));

    expect(await storedEvent(event.id)).to.include({ state: 'ignored', outcome: 'account_mismatch', account: 'acct_1OtherAccount' });
    await expectUntouched(payment, testMode.app);
    expect(logged.filter(([, meta]) => meta?.event_id === event.id)).to.have.length(1);
  });

  describe('with STRIPE_ACCOUNT_ID=acct_1OurAccount', () => {
    let ours: TestApp;

    before(() => {
      ours = buildTestApp({ fakeStripe: stripe, env: { STRIPE_ACCOUNT_ID: 'acct_1OurAccount' } });
    });

    it('when events come from our account or carry none, then they are applied; from another account, ignored', async () => {
      const fromOurs = await createPayment(ours.app, token);
      const withoutAccount = await createPayment(ours.app, token);
      const fromOther = await createPayment(ours.app, token);
      const events = [
        succeededEvent(fromOurs, { account: 'acct_1OurAccount' }),
        succeededEvent(withoutAccount),
        succeededEvent(fromOther, { account: 'acct_1OtherAccount' }),
      ];

      for (const event of events) await deliverAndDrain(ours, event);

      expect(await storedEvent(events[0].id)).to.include({ state: 'processed', outcome: 'moved' });
      expect(await storedEvent(events[1].id)).to.include({ state: 'processed', outcome: 'moved' });
      expect(await storedEvent(events[2].id)).to.include({ state: 'ignored', outcome: 'account_mismatch' });
      expect(await paymentRow(fromOurs.id)).to.include({ status: 'succeeded' });
      expect(await paymentRow(withoutAccount.id)).to.include({ status: 'succeeded' });
      await expectUntouched(fromOther, ours.app);
    });

    it('when an event was stored by an instance with another account setting, then the applying instance checks it again and ignores it', async () => {
      const payment = await createPayment(ours.app, token);
      const event = succeededEvent(payment, { account: 'acct_1OurAccount' });
      const res = await deliver(ours.app, event);
      expect(res.status).to.equal(200);
      expect(await storedEvent(event.id)).to.include({ state: 'pending' });

      // An instance without STRIPE_ACCOUNT_ID (e.g. after the setting was removed) claims it.
      await testMode.container.webhooks.worker.drain();

      expect(await storedEvent(event.id)).to.include({ state: 'ignored', outcome: 'account_mismatch', attempts: 1 });
      await expectUntouched(payment, ours.app);
    });
  });

  describe('with a live key (STRIPE_SECRET_KEY=sk_live_...)', () => {
    let live: TestApp;

    before(() => {
      live = buildTestApp({ fakeStripe: stripe, env: { STRIPE_SECRET_KEY: 'sk_live_fake' } });
    });

    it('when a test-mode event arrives, then it is ignored (livemode_mismatch); the live-mode one is applied', async () => {
      const payment = await createPayment(live.app, token);
      const testEvent = succeededEvent(payment, { livemode: false });
      const liveEvent = succeededEvent(payment, { livemode: true });

      await deliverAndDrain(live, testEvent);
      expect(await storedEvent(testEvent.id)).to.include({ state: 'ignored', outcome: 'livemode_mismatch', livemode: false });
      await expectUntouched(payment, live.app);

      await deliverAndDrain(live, liveEvent);
      expect(await storedEvent(liveEvent.id)).to.include({ state: 'processed', outcome: 'moved', livemode: true });
      expect(await paymentRow(payment.id)).to.include({ status: 'succeeded' });
    });
  });
});
