import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Sequelize } from 'sequelize';
import { buildContainer, type Container } from '../../../src/container';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import { createSequelize } from '../../../src/shared/db/database';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows, testDatabase, testDatabaseUrl, usesEmbeddedDatabase } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { deliver, nowSeconds, paymentIntentEvent, type StripeEvent } from '../../helpers/stripe-events';
import { buildTestApp, testConfig, withFakeStripe } from '../../helpers/test-app';
import { createPayment, historyOf, outboxTypes, paymentRow, storedEvent, type CreatedPayment } from '../../helpers/webhook-payments';

const DECLINE = { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' };

/** A payment_intent.* event for `payment` in `status`, created at `created` (unix seconds). */
function intentEvent(type: string, payment: CreatedPayment, status: string, created: number): StripeEvent {
  return paymentIntentEvent(type, {
    paymentId: payment.id,
    intentId: payment.provider_payment_id,
    status,
    created,
    ...(type === 'payment_intent.payment_failed' ? { lastPaymentError: DECLINE } : {}),
  });
}

describe('one payment’s events in provider order (one instance, real Stripe SDK against a fake Stripe)', () => {
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

  async function deliverAndDrain(...events: StripeEvent[]) {
    for (const event of events) {
      const res = await deliver(app, event);
      expect(res.status, res.text).to.equal(200);
      await container.webhooks.worker.drain();
    }
  }
  const retrieves = () => stripe.callsTo('GET', /^\/v1\/payment_intents\/pi_/);

  it('when payment_failed is applied and a processing event created earlier arrives late, then the payment stays failed and the late event is recorded as stale', async () => {
    const payment = await createPayment(app, token);
    const t = nowSeconds();
    const failed = intentEvent('payment_intent.payment_failed', payment, 'requires_payment_method', t);
    const lateProcessing = intentEvent('payment_intent.processing', payment, 'processing', t - 5);
    stripe.reset();

    await deliverAndDrain(failed, lateProcessing);

    expect(await paymentRow(payment.id)).to.include({ status: 'failed', failure_code: 'generic_decline', last_event_id: failed.id });
    expect(Number((await paymentRow(payment.id)).last_event_created)).to.equal(t);
    expect(await storedEvent(failed.id)).to.include({ state: 'processed', outcome: 'moved' });
    expect(await storedEvent(lateProcessing.id)).to.include({ state: 'processed', outcome: 'stale', payment_id: payment.id });
    expect(await historyOf(payment.id)).to.deep.equal([
      { from_status: null, to_status: 'pending', source: 'api', event_id: null },
      { from_status: 'pending', to_status: 'failed', source: 'webhook', event_id: failed.id },
    ]);
    expect(await outboxTypes(payment.id)).to.deep.equal(['payment.created', 'payment.failed']);
    expect(retrieves(), 'an event older than the last applied needs no provider call').to.have.length(0);
  });

  it('when a 3-D Secure payment fails and its older requires_action event arrives after, then it stays failed (failed -> requires_action is refused to older news)', async () => {
    const payment = await createPayment(app, token);
    const t = nowSeconds();
    const requiresAction = intentEvent('payment_intent.requires_action', payment, 'requires_action', t - 2);
    const failed = intentEvent('payment_intent.payment_failed', payment, 'requires_payment_method', t);

    await deliverAndDrain(failed, requiresAction);

    expect(await paymentRow(payment.id)).to.include({ status: 'failed', next_action: null });
    expect(await storedEvent(requiresAction.id)).to.include({ state: 'processed', outcome: 'stale' });
    expect((await historyOf(payment.id)).map((m) => m.to_status)).to.deep.equal(['pending', 'failed']);
    expect(await outboxTypes(payment.id)).to.not.include('payment.requires_action');
  });

  it('when the same events arrive in provider order, then each one moves the payment: requires_action, failed, and a newer retry reopens it', async () => {
    const payment = await createPayment(app, token);
    const t = nowSeconds();
    const first = intentEvent('payment_intent.requires_action', payment, 'requires_action', t - 2);
    const failed = intentEvent('payment_intent.payment_failed', payment, 'requires_payment_method', t - 1);
    const retry = intentEvent('payment_intent.requires_action', payment, 'requires_action', t);
    stripe.reset();

    await deliverAndDrain(first, failed, retry);

    expect(await paymentRow(payment.id)).to.include({ status: 'requires_action', last_event_id: retry.id });
    expect(await historyOf(payment.id)).to.deep.equal([
      { from_status: null, to_status: 'pending', source: 'api', event_id: null },
      { from_status: 'pending', to_status: 'requires_action', source: 'webhook', event_id: first.id },
      { from_status: 'requires_action', to_status: 'failed', source: 'webhook', event_id: failed.id },
      { from_status: 'failed', to_status: 'requires_action', source: 'webhook', event_id: retry.id },
    ]);
    expect(retrieves(), 'events strictly newer than the last applied are applied as they are').to.have.length(0);
  });

  it('when an event of the same second as the last applied would reopen a failed payment, then Stripe is asked and its answer (failed) wins', async () => {
    const payment = await createPayment(app, token);
    Object.assign(stripe.intents.get(payment.provider_payment_id)!, {
      status: 'requires_payment_method',
      last_payment_error: { type: 'card_error', ...DECLINE },
    });
    const t = nowSeconds();
    const failed = intentEvent('payment_intent.payment_failed', payment, 'requires_payment_method', t);
    const sameSecond = intentEvent('payment_intent.processing', payment, 'processing', t);
    await deliverAndDrain(failed);
    stripe.reset();

    await deliverAndDrain(sameSecond);

    expect(retrieves().map((c) => c.path)).to.deep.equal([`/v1/payment_intents/${payment.provider_payment_id}`]);
    expect(await storedEvent(sameSecond.id)).to.include({ state: 'processed', outcome: 'synced_from_provider' });
    expect(await paymentRow(payment.id)).to.include({ status: 'failed' });
    expect((await historyOf(payment.id)).map((m) => m.to_status)).to.deep.equal(['pending', 'failed']);
  });

  it('when the API moved a failed payment to requires_action (a retry) and the old payment_failed event arrives, then Stripe is asked and the payment stays requires_action', async () => {
    const payment = await createPayment(app, token);
    const declined = await request(app).post(`/v1/payments/${payment.id}/confirm`).set(bearer(token)).send({ payment_method: 'pm_card_chargeDeclined' });
    expect(declined.status, declined.text).to.equal(402);
    const retried = await request(app).post(`/v1/payments/${payment.id}/confirm`).set(bearer(token)).send({ payment_method: 'pm_card_threeDSecure2Required' });
    expect(retried.body.status, retried.text).to.equal('requires_action');
    stripe.reset();
    const oldFailure = intentEvent('payment_intent.payment_failed', payment, 'requires_payment_method', nowSeconds() - 3);

    await deliverAndDrain(oldFailure);

    expect(retrieves()).to.have.length(1);
    expect(await storedEvent(oldFailure.id)).to.include({ state: 'processed', outcome: 'synced_from_provider' });
    expect(await paymentRow(payment.id)).to.include({ status: 'requires_action', last_event_id: oldFailure.id });
    expect((await historyOf(payment.id)).map((m) => [m.to_status, m.source])).to.deep.equal([
      ['pending', 'api'],
      ['failed', 'api'],
      ['requires_action', 'api'],
    ]);
  });
});

describe('one payment’s events in provider order across two worker instances on one database', () => {
  let app: Express;
  let first: Container;
  let second: Container;
  let secondDatabase: Sequelize | undefined;
  const provider = new MockProvider({ latencyMs: 0, successRate: 1 });

  before(() => {
    ({ app, container: first } = buildTestApp({ provider }));
    // Its own connection pool on a real server, as a second replica would have (PGlite serves one connection).
    secondDatabase = usesEmbeddedDatabase() ? undefined : createSequelize(testDatabaseUrl(), { poolMax: 5 });
    second = buildContainer({ config: testConfig(), sequelize: secondDatabase ?? testDatabase(), provider });
  });
  after(() => secondDatabase?.close());

  /**
   * Watches both instances' claims: records, per ordering key, the events claimed and not yet
   * finished, and every time one key had two events in flight at once.
   */
  function watchClaims(instances: Container[]) {
    const inFlight = new Map<string, string>();
    const keyOf = new Map<string, string>();
    const overlaps: string[] = [];
    for (const c of instances) {
      const events = c.webhooks.events;
      const claimDue = events.claimDue.bind(events);
      const finish = events.finish.bind(events);
      const fail = events.fail.bind(events);
      const release = (id: string) => {
        const key = keyOf.get(id);
        if (key && inFlight.get(key) === id) inFlight.delete(key);
      };
      events.claimDue = async (limit) => {
        const claimed = await claimDue(limit);
        for (const e of claimed) {
          if (!e.orderingKey) continue;
          if (inFlight.has(e.orderingKey)) overlaps.push(`${e.orderingKey}: ${inFlight.get(e.orderingKey)} and ${e.id}`);
          inFlight.set(e.orderingKey, e.id);
          keyOf.set(e.id, e.orderingKey);
        }
        return claimed;
      };
      events.finish = async (id, ...rest) => {
        await finish(id, ...rest);
        release(id);
      };
      events.fail = async (id, ...rest) => {
        await fail(id, ...rest);
        release(id);
      };
      // A worker batch finishes its events in one statement: each of them leaves flight there.
      const finishMany = events.finishMany.bind(events);
      events.finishMany = async (done, ...rest) => {
        await finishMany(done, ...rest);
        for (const d of done) release(d.id);
      };
    }
    return overlaps;
  }

  it('when 12 payments each get requires_action, payment_failed and a newer requires_action, and two workers drain at once, then every payment went through them in order and ends requires_action', async () => {
    const token = tokenFor(newUserId());
    const payments: CreatedPayment[] = [];
    for (let i = 0; i < 12; i += 1) payments.push(await createPayment(app, token));
    const t = nowSeconds();
    // Delivered in provider order, all stored before either worker runs: each worker's first claim sees them all.
    const sequences = payments.map((p) => [
      intentEvent('payment_intent.requires_action', p, 'requires_action', t - 2),
      intentEvent('payment_intent.payment_failed', p, 'requires_payment_method', t - 1),
      intentEvent('payment_intent.requires_action', p, 'requires_action', t),
    ]);
    for (const step of [0, 1, 2]) {
      for (const sequence of sequences) {
        const res = await deliver(app, sequence[step]);
        expect(res.status, res.text).to.equal(200);
      }
    }
    const overlaps = watchClaims([first, second]);

    await Promise.all([first.webhooks.worker.drain(), second.webhooks.worker.drain(), first.webhooks.worker.drain(), second.webhooks.worker.drain()]);

    expect(overlaps, 'two events of one payment were claimed at once').to.deep.equal([]);
    for (const [i, p] of payments.entries()) {
      const [action, failed, retry] = sequences[i];
      expect(await paymentRow(p.id), p.id).to.include({ status: 'requires_action', last_event_id: retry.id });
      expect((await historyOf(p.id)).map((m) => [m.to_status, m.event_id]), p.id).to.deep.equal([
        ['pending', null],
        ['requires_action', action.id],
        ['failed', failed.id],
        ['requires_action', retry.id],
      ]);
      for (const e of sequences[i]) expect(await storedEvent(e.id), e.id).to.include({ state: 'processed', outcome: 'moved', attempts: 1 });
    }
  });

  it('when an older event of a payment is being applied by the other instance, then a newer one waits for it and is applied after, never beside it', async () => {
    const token = tokenFor(newUserId());
    const payment = await createPayment(app, token);
    const t = nowSeconds();
    const older = intentEvent('payment_intent.requires_action', payment, 'requires_action', t - 1);
    const newer = intentEvent('payment_intent.payment_failed', payment, 'requires_payment_method', t);
    expect((await deliver(app, older)).status).to.equal(200);
    // The second instance claims the older event and holds it, as a replica in the middle of applying it.
    const [held] = await second.webhooks.events.claimDue(20).then((claimed) => claimed.filter((e) => e.id === older.id));
    expect(held, 'the second instance holds the older event').to.not.equal(undefined);
    expect((await deliver(app, newer)).status).to.equal(200);

    await first.webhooks.worker.drain();

    expect(await storedEvent(newer.id), 'the newer event waits while the older is held').to.include({ state: 'pending', attempts: 0 });
    expect(await paymentRow(payment.id)).to.include({ status: 'pending' });

    // The holder dies; its lease runs out; the older event is due again and goes first.
    await rows(`UPDATE webhook_events SET locked_until = now() - interval '1 second' WHERE id = :id`, { id: older.id });
    await first.webhooks.worker.drain();

    expect(await storedEvent(older.id)).to.include({ state: 'processed', outcome: 'moved', attempts: 2 });
    expect(await storedEvent(newer.id)).to.include({ state: 'processed', outcome: 'moved', attempts: 1 });
    expect((await historyOf(payment.id)).map((m) => [m.to_status, m.event_id])).to.deep.equal([
      ['pending', null],
      ['requires_action', older.id],
      ['failed', newer.id],
    ]);
  });
});
