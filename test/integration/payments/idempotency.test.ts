import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { ProviderUnavailableError, type PaymentProvider } from '../../../src/providers/payment-provider';

describe('POST /v1/payments idempotency (real Stripe SDK against a fake Stripe)', () => {
  let stripe: FakeStripe;
  let app: Express;
  let user: string;
  let token: string;

  before(async () => {
    stripe = await withFakeStripe();
    app = buildTestApp({ fakeStripe: stripe }).app;
  });
  after(() => stripe.stop());
  beforeEach(() => {
    stripe.reset();
    user = newUserId();
    token = tokenFor(user);
  });

  const create = (key: string | undefined, body: object) => {
    const req = request(app).post('/v1/payments').set(bearer(token));
    return key ? req.set('Idempotency-Key', key).send(body) : req.send(body);
  };
  const intentCreations = () => stripe.callsTo('POST', /^\/v1\/payment_intents$/);

  it('when the same key and body are sent twice, then the second answer is the first, byte for byte, with no second provider call', async () => {
    const first = await create('key-1', { amount: 2000, currency: 'usd', order_id: 'ord_1' });
    expect(first.status).to.equal(201);
    expect(first.body.client_secret).to.match(/^pi_.+_secret_/);
    const second = await create('key-1', { amount: 2000, currency: 'usd', order_id: 'ord_1' });
    expect(second.status).to.equal(201);
    expect(second.headers['idempotent-replayed']).to.equal('true');
    expect(second.text).to.equal(first.text);
    expect(intentCreations()).to.have.length(1);
    expect(await rows('SELECT id FROM payments WHERE user_id = :user', { user })).to.have.length(1);
  });

  it('when the body differs only in key order and whitespace, then it is the same request', async () => {
    const first = await create('key-order', { amount: 2000, currency: 'usd', metadata: { a: '1', b: '2' } });
    const second = await request(app)
      .post('/v1/payments')
      .set(bearer(token))
      .set('Idempotency-Key', 'key-order')
      .set('Content-Type', 'application/json')
      .send('{ "metadata": {"b":"2", "a":"1"},   "currency":"usd", "amount": 2000 }');
    expect(second.status).to.equal(201);
    expect(second.text).to.equal(first.text);
  });

  it('when the same key comes with a different body, then 422 idempotency_key_reused and nothing changes', async () => {
    await create('key-2', { amount: 2000, currency: 'usd' });
    const res = await create('key-2', { amount: 3000, currency: 'usd' });
    expect(res.status).to.equal(422);
    expect(res.body.error).to.include({ type: 'idempotency_error', code: 'idempotency_key_reused' });
    expect(intentCreations()).to.have.length(1);
    expect(await rows('SELECT amount FROM payments WHERE user_id = :user', { user })).to.deep.equal([{ amount: '2000' }]);
  });

  it('when two users use the same key, then each gets their own payment (keys are scoped per user)', async () => {
    const mine = await create('shared-key', { amount: 2000, currency: 'usd' });
    const other = await request(app)
      .post('/v1/payments')
      .set(bearer(tokenFor(newUserId())))
      .set('Idempotency-Key', 'shared-key')
      .send({ amount: 2000, currency: 'usd' });
    expect(other.status).to.equal(201);
    expect(other.body.id).to.not.equal(mine.body.id);
    expect(intentCreations()).to.have.length(2);
  });

  it('when validation fails, then the failure is not stored and the key can be used with a valid body', async () => {
    const bad = await create('key-3', { amount: 20.5, currency: 'usd' });
    expect(bad.status).to.equal(400);
    expect(await rows('SELECT id FROM idempotency_keys WHERE user_id = :user', { user })).to.have.length(0);
    const good = await create('key-3', { amount: 2050, currency: 'usd' });
    expect(good.status).to.equal(201);
  });

  it('when the key is longer than 255 characters, then 400', async () => {
    const res = await create('k'.repeat(256), { amount: 2000, currency: 'usd' });
    expect(res.status).to.equal(400);
    expect(res.body.error).to.include({ code: 'idempotency_key_invalid', param: 'Idempotency-Key' });
  });

  it('when 20 identical requests race, then one PaymentIntent exists and every answer is 201 (first or replay) or 409', async () => {
    stripe.delayNext(150);
    const body = { amount: 2000, currency: 'usd', order_id: 'ord_race' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => create('race-key', body)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 201 || s === 409), statuses.join(',')).to.equal(true);
    expect(statuses.filter((s) => s === 409).length).to.be.greaterThan(0);
    for (const conflict of answers.filter((a) => a.status === 409)) {
      expect(conflict.body.error.code).to.equal('idempotency_request_in_progress');
    }
    const created = answers.filter((a) => a.status === 201);
    expect(new Set(created.map((a) => a.body.id)).size).to.equal(1);
    expect(intentCreations()).to.have.length(1);
    expect(await rows('SELECT id FROM payments WHERE user_id = :user', { user })).to.have.length(1);
  });

  it('when Stripe answers 500, then 503 provider_unavailable, the payment stays open, and a retry with the key finishes it with one PaymentIntent', async () => {
    stripe.failNext(1, 500);
    const body = { amount: 2000, currency: 'usd', order_id: 'ord_500' };
    const first = await create('key-500', body);
    expect(first.status).to.equal(503);
    expect(first.body.error).to.include({ type: 'provider_error', code: 'provider_unavailable' });
    const [open] = await rows<{ status: string; provider_payment_id: string | null }>(
      'SELECT status, provider_payment_id FROM payments WHERE user_id = :user',
      { user },
    );
    expect(open).to.deep.equal({ status: 'pending', provider_payment_id: null });

    const retry = await create('key-500', body);
    expect(retry.status).to.equal(201);
    expect(retry.headers['idempotent-replayed']).to.equal(undefined);
    const keys = intentCreations().map((c) => c.idempotencyKey);
    expect(keys).to.have.length(2);
    expect(keys[0]).to.equal(keys[1]);
    expect(keys[0]).to.equal(`${retry.body.id}:create`);
    expect(stripe.intents.size).to.be.greaterThan(0);
    expect([...stripe.intents.values()].filter((pi) => (pi.metadata as Record<string, string>).payment_id === retry.body.id)).to.have.length(1);
  });

  it('when Stripe times out after doing the work, then 504 and the retry returns the same PaymentIntent', async () => {
    stripe.delayNext(2500); // beyond STRIPE_TIMEOUT_MS (1500) in tests
    const body = { amount: 2000, currency: 'usd' };
    const first = await create('key-timeout', body);
    expect(first.status).to.equal(504);
    expect(first.body.error.code).to.equal('provider_timeout');
    await new Promise((r) => setTimeout(r, 1200)); // let the fake finish the slow request
    const retry = await create('key-timeout', body);
    expect(retry.status).to.equal(201);
    const mine = [...stripe.intents.values()].filter((pi) => (pi.metadata as Record<string, string>).payment_id === retry.body.id);
    expect(mine).to.have.length(1);
    expect(retry.body.provider_payment_id).to.equal(mine[0].id);
  });

  it('when the connection is reset, then 503 and the payment is still retryable', async () => {
    stripe.resetNext();
    stripe.resetNext(); // the SDK retries a closed connection once on its own
    const body = { amount: 2000, currency: 'usd' };
    const first = await create('key-reset', body);
    expect(first.status).to.equal(503);
    const retry = await create('key-reset', body);
    expect(retry.status).to.equal(201);
  });

  it('when a card is declined, then 402 with the decline code, the payment is failed, and the same answer is replayed', async () => {
    const body = { amount: 2000, currency: 'usd', payment_method: 'pm_card_chargeDeclinedInsufficientFunds' };
    const first = await create('key-decline', body);
    expect(first.status).to.equal(402);
    expect(first.body.error).to.include({ type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds' });
    const [payment] = await rows<{ status: string; failure_code: string }>('SELECT status, failure_code FROM payments WHERE user_id = :user', { user });
    expect(payment).to.deep.equal({ status: 'failed', failure_code: 'insufficient_funds' });
    const replay = await create('key-decline', body);
    expect(replay.status).to.equal(402);
    expect(replay.headers['idempotent-replayed']).to.equal('true');
    expect(replay.text).to.equal(first.text);
    expect(intentCreations()).to.have.length(1);
  });
});

describe('a crash between the provider call and the final commit', () => {
  let stripe: FakeStripe;

  before(async () => {
    stripe = await withFakeStripe();
  });
  after(() => stripe.stop());

  /** Lets the real call reach Stripe, then dies before our code sees the answer: the process "crashed". */
  function crashingAfterCall(inner: PaymentProvider): PaymentProvider & { crashes: number } {
    const wrapper = Object.create(inner) as PaymentProvider & { crashes: number };
    wrapper.crashes = 1;
    wrapper.createPaymentIntent = async (input, options) => {
      await inner.createPaymentIntent(input, options);
      if (wrapper.crashes-- > 0) throw new Error('simulated crash after the provider call');
      return inner.createPaymentIntent(input, options);
    };
    return wrapper;
  }

  it('when the first attempt dies after Stripe created the intent, then the retry with the same key finishes with that one intent', async () => {
    const base = buildTestApp({ fakeStripe: stripe });
    const provider = crashingAfterCall(base.container.provider);
    const { app } = buildTestApp({ fakeStripe: stripe, provider });
    const user = newUserId();
    const send = () =>
      request(app).post('/v1/payments').set(bearer(tokenFor(user))).set('Idempotency-Key', 'crash-key').send({ amount: 2000, currency: 'usd' });

    const first = await send();
    expect(first.status).to.be.oneOf([500, 503]);
    const retry = await send();
    expect(retry.status).to.equal(201);
    const mine = [...stripe.intents.values()].filter((pi) => (pi.metadata as Record<string, string>).payment_id === retry.body.id);
    expect(mine).to.have.length(1);
    expect(retry.body.provider_payment_id).to.equal(mine[0].id);
  });

  it('when the process died holding the key lock, then a retry after the lease takes over and finishes the work', async () => {
    const { app } = buildTestApp({ fakeStripe: stripe, env: { IDEMPOTENCY_LOCK_TIMEOUT_MS: '1000' } });
    const user = newUserId();
    const body = { amount: 2000, currency: 'usd' };
    const send = () => request(app).post('/v1/payments').set(bearer(tokenFor(user))).set('Idempotency-Key', 'dead-lock').send(body);
    stripe.failNext(1, 500);
    expect((await send()).status).to.equal(503);
    // What a crash leaves behind: the key locked, the payment created, no answer stored.
    await rows(`UPDATE idempotency_keys SET locked_at = now() WHERE user_id = :user`, { user });
    const whileLocked = await send();
    expect(whileLocked.status).to.equal(409);
    expect(whileLocked.body.error.code).to.equal('idempotency_request_in_progress');
    await rows(`UPDATE idempotency_keys SET locked_at = now() - interval '5 seconds' WHERE user_id = :user`, { user });
    const retry = await send();
    expect(retry.status).to.equal(201);
    expect(await rows('SELECT id FROM payments WHERE user_id = :user', { user })).to.have.length(1);
  });

  it('when no provider answers at all, then the unknown outcome is a retryable 503, never a failure', async () => {
    const failing = Object.create(buildTestApp().container.provider) as PaymentProvider;
    failing.createPaymentIntent = async () => {
      throw new ProviderUnavailableError('unavailable', 'down');
    };
    const { app } = buildTestApp({ provider: failing });
    const user = newUserId();
    const res = await request(app).post('/v1/payments').set(bearer(tokenFor(user))).send({ amount: 2000, currency: 'usd' });
    expect(res.status).to.equal(503);
    expect(await rows('SELECT status FROM payments WHERE user_id = :user', { user })).to.deep.equal([{ status: 'pending' }]);
  });
});
