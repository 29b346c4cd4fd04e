import { expect } from 'chai';
import request from 'supertest';
import type { QueryOptions } from 'sequelize';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { paymentIntentEvent, stripeId } from '../../helpers/stripe-events';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { createPayment, deliverAndDrain, storedEvent } from '../../helpers/webhook-payments';

/** The payment's row version (xmin changes with every UPDATE, even one writing the same values) and updated_at. */
async function rowVersion(id: string): Promise<{ xmin: string; updated_at: Date }> {
  const [row] = await rows<{ xmin: string; updated_at: Date }>('SELECT xmin::text AS xmin, updated_at FROM payments WHERE id = :id', { id });
  return row;
}

describe('news that changes nothing writes nothing (real Stripe SDK against a fake Stripe)', () => {
  let stripe: FakeStripe;
  let target: { app: Express; container: Container };
  const token = tokenFor(newUserId());
  const admin = tokenFor(newUserId(), 'admin');

  before(async () => {
    stripe = await withFakeStripe();
    target = buildTestApp({ fakeStripe: stripe });
  });
  after(() => stripe.stop());

  /** The statements the app's Sequelize sends while `fn` runs. */
  async function statementsDuring(fn: () => Promise<unknown>): Promise<string[]> {
    const { sequelize } = target.container;
    const sent: string[] = [];
    sequelize.addHook('afterQuery', 'record-unchanged', (_options: QueryOptions, query: unknown) => {
      const { sql } = query as { sql?: string };
      if (sql) sent.push(sql);
    });
    try {
      await fn();
    } finally {
      sequelize.removeHook('afterQuery', 'record-unchanged');
    }
    return sent;
  }

  it('when an applied payment_intent event is replayed, then the payment row is not written again (same xmin, same updated_at)', async () => {
    const payment = await createPayment(target.app, token);
    const event = paymentIntentEvent('payment_intent.succeeded', { paymentId: payment.id, intentId: payment.provider_payment_id, status: 'succeeded' });
    await deliverAndDrain(target, event);
    const before = await rowVersion(payment.id);

    const replay = await request(target.app).post(`/v1/admin/webhook-events/${event.id}/replay`).set(bearer(admin)).send({});

    expect(replay.status, replay.text).to.equal(200);
    expect(replay.body).to.include({ state: 'processed', outcome: 'unchanged' });
    expect(await rowVersion(payment.id)).to.deep.equal(before);
  });

  it('when a second event carries the same intent, then the provider object is not rewritten and updated_at stays', async () => {
    const payment = await createPayment(target.app, token);
    const first = paymentIntentEvent('payment_intent.succeeded', { paymentId: payment.id, intentId: payment.provider_payment_id, status: 'succeeded' });
    const second = { ...structuredClone(first), id: stripeId('evt') };
    await deliverAndDrain(target, first);
    const before = await rowVersion(payment.id);

    const sent = await statementsDuring(() => deliverAndDrain(target, second));

    expect(await storedEvent(second.id)).to.include({ state: 'processed', outcome: 'unchanged' });
    expect(sent.filter((sql) => /UPDATE payments SET[\s\S]*provider_object/.test(sql))).to.deep.equal([]);
    expect((await rowVersion(payment.id)).updated_at).to.deep.equal(before.updated_at);
  });

  it('when a sync finds the intent as it was, then the payment row is not written (same xmin, same updated_at)', async () => {
    const payment = await createPayment(target.app, token, { payment_method: 'pm_card_visa' });
    await target.container.payments.sync.execute(payment.id, 'reconcile');
    const before = await rowVersion(payment.id);

    const synced = await target.container.payments.sync.execute(payment.id, 'reconcile');

    expect(synced.status).to.equal('succeeded');
    expect(await rowVersion(payment.id)).to.deep.equal(before);
  });
});
