import { expect } from 'chai';
import request from 'supertest';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe, type TestApp } from '../../helpers/test-app';
import { purgeIdempotencyKeys } from '../../../src/jobs/purge-idempotency-keys.job';

describe('jobs', () => {
  let stripe: FakeStripe;
  let t: TestApp;

  before(async () => {
    stripe = await withFakeStripe();
    t = buildTestApp({ fakeStripe: stripe });
  });
  after(() => stripe.stop());
  beforeEach(() => stripe.reset());

  const age = (paymentId: string) => rows(`UPDATE payments SET updated_at = now() - interval '1 hour' WHERE id = :paymentId`, { paymentId });

  describe('reconcile', () => {
    it('when a payment stayed pending because its succeeded webhook was missed, then reconcile reads the intent and moves it (source reconcile)', async () => {
      const user = newUserId();
      const created = await request(t.app).post('/v1/payments').set(bearer(tokenFor(user))).send({ amount: 2000, currency: 'usd' });
      expect(created.status).to.equal(201);
      stripe.setStatus(created.body.provider_payment_id, 'succeeded');
      await age(created.body.id);

      const result = await t.container.payments.reconcile.execute();

      expect(result.failed).to.equal(0);
      expect(stripe.callsTo('GET', new RegExp(`/v1/payment_intents/${created.body.provider_payment_id}$`))).to.have.length(1);
      const [payment] = await rows<{ status: string }>('SELECT status FROM payments WHERE id = :id', { id: created.body.id });
      expect(payment.status).to.equal('succeeded');
      const moves = await rows<{ to_status: string; source: string }>(
        'SELECT to_status, source FROM payment_status_history WHERE payment_id = :id ORDER BY id',
        { id: created.body.id },
      );
      expect(moves.at(-1)).to.deep.equal({ to_status: 'succeeded', source: 'reconcile' });
    });

    it('when a create never got an answer from Stripe, then reconcile finishes it with the same provider key (one intent)', async () => {
      const user = newUserId();
      stripe.failNext(1, 500);
      const created = await request(t.app).post('/v1/payments').set(bearer(tokenFor(user))).send({ amount: 2000, currency: 'usd' });
      expect(created.status).to.equal(503);
      const [open] = await rows<{ id: string }>('SELECT id FROM payments WHERE user_id = :user', { user });
      await age(open.id);

      await t.container.payments.reconcile.execute();

      const [payment] = await rows<{ status: string; provider_payment_id: string | null }>(
        'SELECT status, provider_payment_id FROM payments WHERE id = :id',
        { id: open.id },
      );
      expect(payment.status).to.equal('pending');
      expect(payment.provider_payment_id).to.match(/^pi_/);
      const creations = stripe.callsTo('POST', /^\/v1\/payment_intents$/);
      expect(creations.map((c) => c.idempotencyKey)).to.deep.equal([`${open.id}:create`, `${open.id}:create`]);
    });

    it('when an open payment was touched recently, then reconcile leaves it alone', async () => {
      const user = newUserId();
      const created = await request(t.app).post('/v1/payments').set(bearer(tokenFor(user))).send({ amount: 2000, currency: 'usd' });
      stripe.setStatus(created.body.provider_payment_id, 'succeeded');
      stripe.reset();
      await t.container.payments.reconcile.execute();
      expect(stripe.callsTo('GET', new RegExp(created.body.provider_payment_id))).to.have.length(0);
      expect(await rows('SELECT status FROM payments WHERE id = :id', { id: created.body.id })).to.deep.equal([{ status: 'pending' }]);
    });
  });

  describe('purge idempotency keys', () => {
    it('when a key is older than 24 hours, then the purge deletes it and keeps younger keys', async () => {
      const user = newUserId();
      const send = (key: string) =>
        request(t.app).post('/v1/payments').set(bearer(tokenFor(user))).set('Idempotency-Key', key).send({ amount: 2000, currency: 'usd' });
      await send('old-key');
      await send('new-key');
      await rows(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = :user AND idempotency_key = 'old-key'`, { user });

      await purgeIdempotencyKeys(t.container.idempotency);

      const keys = await rows<{ idempotency_key: string }>('SELECT idempotency_key FROM idempotency_keys WHERE user_id = :user', { user });
      expect(keys.map((k) => k.idempotency_key)).to.deep.equal(['new-key']);
    });

    it('when an expired key is reused before the purge ran, then it is a new request', async () => {
      const user = newUserId();
      const send = (amount: number) =>
        request(t.app).post('/v1/payments').set(bearer(tokenFor(user))).set('Idempotency-Key', 'reused').send({ amount, currency: 'usd' });
      const first = await send(2000);
      await rows(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = :user`, { user });
      const second = await send(3000);
      expect(second.status).to.equal(201);
      expect(second.body.id).to.not.equal(first.body.id);
    });
  });
});
