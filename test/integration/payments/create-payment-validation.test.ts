import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';

const keys = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`key_${i}`, 'value']));

interface RefusedCase {
  when: string;
  body: unknown;
  code: string;
  param?: string | null;
}

/** Each body is refused before anything is written or sent to the provider. */
const REFUSED: RefusedCase[] = [
  { when: 'an unknown field (status) is sent', body: { amount: 2000, currency: 'usd', status: 'succeeded' }, code: 'parameter_unknown', param: 'status' },
  { when: 'an unknown field (user_id) is sent', body: { amount: 2000, currency: 'usd', user_id: 'u_victim' }, code: 'parameter_unknown', param: 'user_id' },
  { when: 'an unknown field comes with an invalid one', body: { amount: 20.5, currency: 'usd', amount_refunded: 0 }, code: 'parameter_unknown', param: 'amount_refunded' },
  { when: 'the amount is missing', body: { currency: 'usd' }, code: 'parameter_missing', param: 'amount' },
  { when: 'the currency is missing', body: { amount: 2000 }, code: 'parameter_missing', param: 'currency' },
  { when: 'the body is empty', body: {}, code: 'parameter_missing', param: 'amount' },
  { when: 'the amount is a float', body: { amount: 20.5, currency: 'usd' }, code: 'parameter_invalid', param: 'amount' },
  { when: 'the amount is a string', body: { amount: '2000', currency: 'usd' }, code: 'parameter_invalid', param: 'amount' },
  { when: 'the amount is negative', body: { amount: -2000, currency: 'usd' }, code: 'parameter_invalid', param: 'amount' },
  { when: 'the amount is zero', body: { amount: 0, currency: 'usd' }, code: 'parameter_invalid', param: 'amount' },
  { when: 'the amount is above 99999999', body: { amount: 100_000_000, currency: 'usd' }, code: 'amount_too_large', param: 'amount' },
  { when: 'the amount is below the currency minimum (49 usd cents)', body: { amount: 49, currency: 'usd' }, code: 'amount_too_small', param: 'amount' },
  { when: 'a zero-decimal amount is below the minimum (49 jpy)', body: { amount: 49, currency: 'jpy' }, code: 'amount_too_small', param: 'amount' },
  { when: 'a three-decimal amount is not a multiple of 10 (1005 kwd)', body: { amount: 1005, currency: 'kwd' }, code: 'parameter_invalid', param: 'amount' },
  { when: 'the currency is uppercase', body: { amount: 2000, currency: 'USD' }, code: 'parameter_invalid', param: 'currency' },
  { when: 'the currency is not supported', body: { amount: 2000, currency: 'xyz' }, code: 'currency_not_supported', param: 'currency' },
  { when: 'metadata has 49 keys (48 are left once payment_id and order_id are reserved)', body: { amount: 2000, currency: 'usd', metadata: keys(49) }, code: 'parameter_invalid', param: 'metadata' },
  { when: 'metadata sets the reserved payment_id', body: { amount: 2000, currency: 'usd', metadata: { payment_id: 'pay_forged' } }, code: 'parameter_invalid', param: 'metadata.payment_id' },
  { when: 'metadata sets the reserved order_id', body: { amount: 2000, currency: 'usd', metadata: { order_id: 'ord_forged' } }, code: 'parameter_invalid', param: 'metadata.order_id' },
  { when: 'a metadata key has 41 characters', body: { amount: 2000, currency: 'usd', metadata: { ['k'.repeat(41)]: 'v' } }, code: 'parameter_invalid', param: `metadata.${'k'.repeat(41)}` },
  { when: 'a metadata value has 501 characters', body: { amount: 2000, currency: 'usd', metadata: { note: 'v'.repeat(501) } }, code: 'parameter_invalid', param: 'metadata.note' },
  { when: 'a metadata value is not a string', body: { amount: 2000, currency: 'usd', metadata: { count: 5 } }, code: 'parameter_invalid', param: 'metadata.count' },
  { when: 'metadata is an array', body: { amount: 2000, currency: 'usd', metadata: ['a'] }, code: 'parameter_invalid', param: 'metadata' },
  // jsonb cannot store U+0000 or a lone surrogate: these were a 500 (on every retry) instead of a 400.
  { when: 'a metadata value has a NUL character', body: { amount: 2000, currency: 'usd', metadata: { note: 'a\u0000b' } }, code: 'parameter_invalid', param: 'metadata.note' },
  { when: 'a metadata key has a NUL character', body: { amount: 2000, currency: 'usd', metadata: { 'n\u0000': 'v' } }, code: 'parameter_invalid', param: 'metadata.n\u0000' },
  { when: 'a metadata value has a lone surrogate', body: { amount: 2000, currency: 'usd', metadata: { note: 'a\ud800' } }, code: 'parameter_invalid', param: 'metadata.note' },
  { when: 'a metadata key has a lone surrogate', body: { amount: 2000, currency: 'usd', metadata: { '\udc00k': 'v' } }, code: 'parameter_invalid', param: 'metadata.\udc00k' },
  { when: 'the description has 1001 characters', body: { amount: 2000, currency: 'usd', description: 'd'.repeat(1001) }, code: 'parameter_invalid', param: 'description' },
  { when: 'the order_id has 256 characters', body: { amount: 2000, currency: 'usd', order_id: 'o'.repeat(256) }, code: 'parameter_invalid', param: 'order_id' },
  { when: 'the order_id has a control character', body: { amount: 2000, currency: 'usd', order_id: 'ord\n1' }, code: 'parameter_invalid', param: 'order_id' },
  { when: 'the body is an array', body: [{ amount: 2000, currency: 'usd' }], code: 'parameter_invalid', param: null },
];

describe('POST /v1/payments input rules (real Stripe SDK against a fake Stripe)', () => {
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

  const create = (body: unknown, key?: string) => {
    const req = request(app).post('/v1/payments').set(bearer(token));
    return (key ? req.set('Idempotency-Key', key) : req).send(body as object);
  };
  const myPayments = () => rows('SELECT id FROM payments WHERE user_id = :user', { user });
  const intentCreations = () => stripe.callsTo('POST', /^\/v1\/payment_intents$/);

  async function expectNothingWritten(): Promise<void> {
    expect(await myPayments()).to.have.length(0);
    expect(stripe.calls).to.have.length(0);
  }

  for (const refused of REFUSED) {
    it(`when ${refused.when}, then 400 ${refused.code} and nothing is written or sent to Stripe`, async () => {
      const res = await create(refused.body);
      expectApiError(res, { status: 400, type: 'invalid_request_error', code: refused.code, param: refused.param });
      await expectNothingWritten();
    });
  }

  it('when metadata has 48 keys, then it is accepted and Stripe gets all 48 plus payment_id', async () => {
    const res = await create({ amount: 2000, currency: 'usd', metadata: keys(48) });
    expect(res.status, res.text).to.equal(201);
    expect(Object.keys(res.body.metadata)).to.have.length(48);
    const [call] = intentCreations();
    expect(Object.keys(call.body.metadata as object)).to.have.length(49);
    expect(await myPayments()).to.have.length(1);
  });

  it('when the body is over 100kb, then 413 body_too_large and nothing is written', async () => {
    const res = await request(app)
      .post('/v1/payments')
      .set(bearer(token))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ amount: 2000, currency: 'usd', description: 'x'.repeat(101 * 1024) }));
    expectApiError(res, { status: 413, type: 'invalid_request_error', code: 'body_too_large' });
    await expectNothingWritten();
  });

  it('when the Content-Type is text/plain, then 415 unsupported_media_type and nothing is written', async () => {
    const res = await request(app)
      .post('/v1/payments')
      .set(bearer(token))
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify({ amount: 2000, currency: 'usd' }));
    expectApiError(res, { status: 415, type: 'invalid_request_error', code: 'unsupported_media_type' });
    await expectNothingWritten();
  });

  it('when the body is a form, then 415 unsupported_media_type (JSON only)', async () => {
    const res = await request(app).post('/v1/payments').set(bearer(token)).type('form').send('amount=2000&currency=usd');
    expectApiError(res, { status: 415, type: 'invalid_request_error', code: 'unsupported_media_type' });
    await expectNothingWritten();
  });

  it('when the JSON is malformed, then 400 invalid_json and nothing is written', async () => {
    const res = await request(app)
      .post('/v1/payments')
      .set(bearer(token))
      .set('Content-Type', 'application/json')
      .send('{"amount": 2000, "currency": "usd"');
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'invalid_json' });
    await expectNothingWritten();
  });

  it('when a refused body carries an Idempotency-Key, then the key is not stored', async () => {
    const res = await create({ amount: 49, currency: 'usd' }, 'refused-key');
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'amount_too_small', param: 'amount' });
    expect(await rows('SELECT id FROM idempotency_keys WHERE user_id = :user', { user })).to.have.length(0);
    await expectNothingWritten();
  });

  it('when the body is valid, then 201 with a client_secret, the row, its history, a payment.created event, and our ids in the intent metadata', async () => {
    const res = await create({
      amount: 2000,
      currency: 'usd',
      order_id: 'ord_42',
      description: 'Order 42',
      metadata: { cart: 'c_9' },
    });

    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({
      object: 'payment',
      status: 'pending',
      amount: 2000,
      currency: 'usd',
      amount_refunded: 0,
      order_id: 'ord_42',
      user_id: user,
      description: 'Order 42',
      provider: 'stripe',
      failure_code: null,
      failure_message: null,
    });
    expect(res.body.id).to.match(/^pay_[A-Za-z0-9]{24}$/);
    expect(res.body.metadata).to.deep.equal({ cart: 'c_9' });
    expect(res.body.provider_payment_id).to.match(/^pi_/);
    expect(res.body.client_secret).to.match(new RegExp(`^${res.body.provider_payment_id}_secret_`));
    expect(new Date(res.body.created_at).toISOString()).to.equal(res.body.created_at);

    const payments = await rows('SELECT * FROM payments WHERE user_id = :user', { user });
    expect(payments).to.have.length(1);
    expect(payments[0]).to.include({
      id: res.body.id,
      order_id: 'ord_42',
      amount: '2000',
      currency: 'usd',
      status: 'pending',
      provider: 'stripe',
      provider_payment_id: res.body.provider_payment_id,
      client_secret: res.body.client_secret,
    });
    expect(payments[0].metadata).to.deep.equal({ cart: 'c_9' });

    const history = await rows('SELECT from_status, to_status, source, event_id FROM payment_status_history WHERE payment_id = :id', {
      id: res.body.id,
    });
    expect(history).to.deep.equal([{ from_status: null, to_status: 'pending', source: 'api', event_id: null }]);

    const events = await rows<{ type: string; payload: { type: string; data: { payment: Record<string, unknown> } } }>(
      'SELECT type, payload FROM outbox_events WHERE aggregate_id = :id ORDER BY sequence',
      { id: res.body.id },
    );
    expect(events.map((e) => e.type)).to.deep.equal(['payment.created']);
    expect(events[0].payload.type).to.equal('payment.created');
    expect(events[0].payload.data.payment).to.include({ id: res.body.id, status: 'pending', amount: 2000, client_secret: null });

    const calls = intentCreations();
    expect(calls).to.have.length(1);
    expect(calls[0].idempotencyKey).to.equal(`${res.body.id}:create`);
    expect(calls[0].body).to.include({ amount: '2000', currency: 'usd', description: 'Order 42' });
    expect(calls[0].body.metadata).to.deep.equal({ cart: 'c_9', payment_id: res.body.id, order_id: 'ord_42' });
  });

  it('when the currency is zero-decimal, then 500 jpy is 500 yen (no scaling) at Stripe', async () => {
    const res = await create({ amount: 500, currency: 'jpy' });
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ amount: 500, currency: 'jpy' });
    expect(await rows('SELECT amount, currency FROM payments WHERE user_id = :user', { user })).to.deep.equal([
      { amount: '500', currency: 'jpy' },
    ]);
    expect(intentCreations()[0].body).to.include({ amount: '500', currency: 'jpy' });
  });

  it('when a three-decimal amount is a multiple of 10 (1000 kwd), then it is accepted', async () => {
    const res = await create({ amount: 1000, currency: 'kwd' });
    expect(res.status, res.text).to.equal(201);
    expect(await rows('SELECT amount, currency FROM payments WHERE user_id = :user', { user })).to.deep.equal([
      { amount: '1000', currency: 'kwd' },
    ]);
    expect(intentCreations()[0].body).to.include({ amount: '1000', currency: 'kwd' });
  });

  it('when the amount is exactly 99999999, then it is accepted', async () => {
    const res = await create({ amount: 99_999_999, currency: 'usd' });
    expect(res.status, res.text).to.equal(201);
    expect(await rows('SELECT amount FROM payments WHERE user_id = :user', { user })).to.deep.equal([{ amount: '99999999' }]);
    expect(intentCreations()).to.have.length(1);
  });

  it('when the same order and amount are created again without Idempotency-Key, then 200 with the same open payment', async () => {
    const body = { amount: 2000, currency: 'usd', order_id: 'ord_natural' };
    const first = await create(body);
    expect(first.status, first.text).to.equal(201);
    const second = await create(body);
    expect(second.status, second.text).to.equal(200);
    expect(second.body.id).to.equal(first.body.id);
    expect(second.body.client_secret).to.equal(first.body.client_secret);
    expect(await myPayments()).to.deep.equal([{ id: first.body.id }]);
    expect(intentCreations()).to.have.length(1);
  });

  it('when the same order is created by 5 concurrent requests without a key, then one payment and one PaymentIntent', async () => {
    const body = { amount: 2000, currency: 'usd', order_id: 'ord_concurrent' };
    const answers = await Promise.all(Array.from({ length: 5 }, () => create(body)));
    expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.id)).size).to.equal(1);
    expect(await myPayments()).to.have.length(1);
    const id = answers[0].body.id as string;
    expect(new Set(intentCreations().map((c) => c.idempotencyKey))).to.deep.equal(new Set([`${id}:create`]));
    expect([...stripe.intents.values()].filter((pi) => (pi.metadata as Record<string, string>).payment_id === id)).to.have.length(1);
  });

  it('when the open order is created again for another amount, then 409 order_payment_conflict and nothing new', async () => {
    const first = await create({ amount: 2000, currency: 'usd', order_id: 'ord_conflict' });
    expect(first.status).to.equal(201);
    const res = await create({ amount: 2500, currency: 'usd', order_id: 'ord_conflict' });
    expectApiError(res, { status: 409, type: 'conflict', code: 'order_payment_conflict', param: 'order_id', extra: ['payment_id'] });
    expect(res.body.error.payment_id).to.equal(first.body.id);
    expect(await rows('SELECT id, amount FROM payments WHERE user_id = :user', { user })).to.deep.equal([
      { id: first.body.id, amount: '2000' },
    ]);
    expect(intentCreations()).to.have.length(1);
  });

  it("when another user creates a payment for the same order_id, then it is their own payment (the natural key is per user)", async () => {
    const mine = await create({ amount: 2000, currency: 'usd', order_id: 'ord_shared' });
    const other = newUserId();
    const theirs = await request(app)
      .post('/v1/payments')
      .set(bearer(tokenFor(other)))
      .send({ amount: 2000, currency: 'usd', order_id: 'ord_shared' });
    expect(theirs.status, theirs.text).to.equal(201);
    expect(theirs.body.id).to.not.equal(mine.body.id);
    expect(await rows('SELECT user_id FROM payments WHERE id = :id', { id: theirs.body.id })).to.deep.equal([{ user_id: other }]);
    expect(intentCreations()).to.have.length(2);
  });

  it('when the order’s payment is no longer open, then a new payment is created for it', async () => {
    const first = await create({ amount: 2000, currency: 'usd', order_id: 'ord_again' });
    const cancel = await request(app).post(`/v1/payments/${first.body.id}/cancel`).set(bearer(token)).send({});
    expect(cancel.body.status).to.equal('canceled');
    const second = await create({ amount: 2000, currency: 'usd', order_id: 'ord_again' });
    expect(second.status, second.text).to.equal(201);
    expect(second.body.id).to.not.equal(first.body.id);
    expect(await myPayments()).to.have.length(2);
    expect(intentCreations()).to.have.length(2);
  });
});
