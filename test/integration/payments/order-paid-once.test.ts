import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';

/** One order (user, order_id) is charged at most once, whatever Idempotency-Keys the client sends. */
describe('one payment per order, with any Idempotency-Key (real Stripe SDK against a fake Stripe)', () => {
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

  const body = (orderId: string, amount = 2000) => ({ amount, currency: 'usd', order_id: orderId });
  const create = (key: string | undefined, payload: object) => {
    const req = request(app).post('/v1/payments').set(bearer(token));
    return key ? req.set('Idempotency-Key', key).send(payload) : req.send(payload);
  };
  const confirm = (id: string, key?: string) => {
    const req = request(app).post(`/v1/payments/${id}/confirm`).set(bearer(token));
    return (key ? req.set('Idempotency-Key', key) : req).send({ payment_method: 'pm_card_visa' });
  };
  const intentCreations = () => stripe.callsTo('POST', /^\/v1\/payment_intents$/);
  const confirmCalls = () => stripe.callsTo('POST', /\/confirm$/);
  const orderPayments = (orderId: string) =>
    rows<{ id: string; status: string }>('SELECT id, status FROM payments WHERE user_id = :user AND order_id = :orderId ORDER BY created_at', {
      user,
      orderId,
    });

  it('when the same order is created with two different keys, then the second answer is 200 with the same payment, and it is replayed under its key', async () => {
    const first = await create('key-a', body('ord_x'));
    expect(first.status, first.text).to.equal(201);
    const second = await create('key-b', body('ord_x'));
    expect(second.status, second.text).to.equal(200);
    expect(second.body.id).to.equal(first.body.id);
    expect(second.body.client_secret).to.equal(first.body.client_secret);
    expect(await orderPayments('ord_x')).to.deep.equal([{ id: first.body.id, status: 'pending' }]);
    expect(intentCreations()).to.have.length(1);

    const replay = await create('key-b', body('ord_x'));
    expect(replay.status).to.equal(200);
    expect(replay.headers['idempotent-replayed']).to.equal('true');
    expect(replay.text).to.equal(second.text);
  });

  it('when both answers of the QA repro are confirmed, then the order is charged once: one payment succeeded and one confirm at Stripe', async () => {
    const a = await create('qa-a', body('ord_qa'));
    const b = await create('qa-b', body('ord_qa'));
    expect([a.status, b.status]).to.deep.equal([201, 200]);
    const confirmedA = await confirm(a.body.id, 'qa-confirm-a');
    expect(confirmedA.status, confirmedA.text).to.equal(200);
    expect(confirmedA.body.status).to.equal('succeeded');
    const confirmedB = await confirm(b.body.id, 'qa-confirm-b');
    expectApiError(confirmedB, { status: 409, type: 'conflict', code: 'payment_unexpected_state', extra: ['payment_status'] });
    expect(await orderPayments('ord_qa')).to.deep.equal([{ id: a.body.id, status: 'succeeded' }]);
    expect(confirmCalls()).to.have.length(1);
  });

  it('when 5 concurrent creates with different keys are sent for one order, then exactly one payment row and one PaymentIntent', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => create(`race-${i}`, body('ord_race'))));
    expect(answers.map((a) => a.status).sort(), answers.map((a) => a.text).join('\n')).to.deep.equal([200, 200, 200, 200, 201]);
    const ids = new Set(answers.map((a) => a.body.id));
    expect(ids.size).to.equal(1);
    const [id] = [...ids] as string[];
    expect(await orderPayments('ord_race')).to.deep.equal([{ id, status: 'pending' }]);
    expect(new Set(intentCreations().map((c) => c.idempotencyKey))).to.deep.equal(new Set([`${id}:create`]));
    expect([...stripe.intents.values()].filter((pi) => (pi.metadata as Record<string, string>).order_id === 'ord_race' && (pi.metadata as Record<string, string>).payment_id === id)).to.have.length(1);
  });

  for (const key of ['paid-again', undefined]) {
    it(`when the order already has a succeeded payment, then a create ${key ? 'with a new key' : 'without a key'} is 409 order_already_paid naming it, and nothing is created`, async () => {
      const paid = await create('pay-once', body('ord_paid'));
      expect((await confirm(paid.body.id)).body.status).to.equal('succeeded');
      stripe.reset();

      const res = await create(key, body('ord_paid'));
      expectApiError(res, { status: 409, type: 'conflict', code: 'order_already_paid', param: 'order_id', extra: ['payment_id', 'payment_status'] });
      expect(res.body.error).to.include({ payment_id: paid.body.id, payment_status: 'succeeded' });
      expect(await orderPayments('ord_paid')).to.deep.equal([{ id: paid.body.id, status: 'succeeded' }]);
      expect(intentCreations()).to.have.length(0);
    });
  }

  it('when the paid order was refunded, then a new payment for it is still 409 order_already_paid (the order was charged)', async () => {
    const paid = await create('refund-pay', body('ord_refunded'));
    await confirm(paid.body.id);
    await rows(`UPDATE payments SET status = 'refunded', amount_refunded = amount WHERE id = :id`, { id: paid.body.id });
    const res = await create('refund-new', body('ord_refunded'));
    expectApiError(res, { status: 409, type: 'conflict', code: 'order_already_paid', param: 'order_id', extra: ['payment_id', 'payment_status'] });
    expect(res.body.error).to.include({ payment_id: paid.body.id, payment_status: 'refunded' });
    expect(await orderPayments('ord_refunded')).to.have.length(1);
  });

  it('when the open payment was canceled, then a new key makes a new payment (201)', async () => {
    const first = await create('cancel-a', body('ord_cancel'));
    const canceled = await request(app).post(`/v1/payments/${first.body.id}/cancel`).set(bearer(token)).send();
    expect(canceled.body.status, canceled.text).to.equal('canceled');
    const second = await create('cancel-b', body('ord_cancel'));
    expect(second.status, second.text).to.equal(201);
    expect(second.body.id).to.not.equal(first.body.id);
    expect(await orderPayments('ord_cancel')).to.deep.equal([
      { id: first.body.id, status: 'canceled' },
      { id: second.body.id, status: 'pending' },
    ]);
  });

  it('when the open payment is for another amount, then a new key gets 409 order_payment_conflict and nothing is created', async () => {
    const first = await create('amount-a', body('ord_amount'));
    const res = await create('amount-b', body('ord_amount', 2500));
    expectApiError(res, { status: 409, type: 'conflict', code: 'order_payment_conflict', param: 'order_id', extra: ['payment_id'] });
    expect(res.body.error.payment_id).to.equal(first.body.id);
    expect(await orderPayments('ord_amount')).to.have.length(1);
    expect(intentCreations()).to.have.length(1);
  });

  it('when the order only has a failed payment that can never be confirmed again (declined without an intent), then a new payment is made', async () => {
    stripe.failNext(1, 402, {
      path: /^\/v1\/payment_intents$/,
      error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
    });
    const declined = await create('declined', { ...body('ord_declined'), payment_method: 'pm_card_visa' });
    expect(declined.status, declined.text).to.equal(402);
    const again = await create('after-decline', body('ord_declined'));
    expect(again.status, again.text).to.equal(201);
    expect(await orderPayments('ord_declined')).to.deep.equal([
      { id: declined.body.error.payment_id, status: 'failed' },
      { id: again.body.id, status: 'pending' },
    ]);
  });

  it('when the order has a failed payment that can be retried (declined with its intent), then a new key gets that payment back (200)', async () => {
    const first = await create('retry-a', body('ord_retry'));
    const declined = await request(app)
      .post(`/v1/payments/${first.body.id}/confirm`)
      .set(bearer(token))
      .send({ payment_method: 'pm_card_chargeDeclinedInsufficientFunds' });
    expect(declined.status, declined.text).to.equal(402);
    const again = await create('retry-b', body('ord_retry'));
    expect(again.status, again.text).to.equal(200);
    expect(again.body).to.include({ id: first.body.id, status: 'failed' });
    expect(await orderPayments('ord_retry')).to.have.length(1);
  });

  // Two open payments for one order exist only from before this rule (or a declined payment whose
  // intent a webhook brought back later): confirm is the last guard before the money moves.
  for (const status of ['succeeded', 'processing']) {
    it(`when another payment of the order is ${status}, then confirming this one is 409 order_already_paid and Stripe is not called`, async () => {
      const paid = await create('guard-paid', body('ord_guard'));
      const older = await create('guard-older', body('ord_guard_older'));
      expect(older.status, older.text).to.equal(201);
      // The second payment of the order, as the bug left them.
      await rows(`UPDATE payments SET order_id = 'ord_guard' WHERE id = :id`, { id: older.body.id });
      if (status === 'succeeded') expect((await confirm(paid.body.id)).body.status).to.equal('succeeded');
      else await rows(`UPDATE payments SET status = 'processing' WHERE id = :id`, { id: paid.body.id });
      stripe.reset();

      const res = await confirm(older.body.id, `guard-confirm-${status}`);
      expectApiError(res, { status: 409, type: 'conflict', code: 'order_already_paid', param: 'order_id', extra: ['payment_id', 'payment_status'] });
      expect(res.body.error).to.include({ payment_id: paid.body.id, payment_status: status });
      expect(confirmCalls()).to.have.length(0);
      expect((await rows('SELECT status FROM payments WHERE id = :id', { id: older.body.id }))[0]).to.deep.equal({ status: 'pending' });
    });
  }

  /** Two open payments of one order, as the bug left them (the second was made for another order id, then moved). */
  async function twoOpenPayments(orderId: string): Promise<[string, string]> {
    const a = await create(`${orderId}-a`, body(orderId));
    const b = await create(`${orderId}-b`, body(`${orderId}_other`));
    expect([a.status, b.status]).to.deep.equal([201, 201]);
    await rows(`UPDATE payments SET order_id = :orderId WHERE id = :id`, { orderId, id: b.body.id });
    stripe.reset();
    return [a.body.id, b.body.id];
  }

  it('when two open payments of one order are confirmed at the same time, then one succeeds, the other is 409 order_already_paid, and Stripe confirms once', async () => {
    const [a, b] = await twoOpenPayments('ord_confirm_race');
    const answers = await Promise.all([confirm(a, 'race-confirm-a'), confirm(b, 'race-confirm-b')]);
    expect(answers.map((r) => r.status).sort(), answers.map((r) => r.text).join('\n')).to.deep.equal([200, 409]);
    const refused = answers.find((r) => r.status === 409)!;
    expectApiError(refused, { status: 409, type: 'conflict', code: 'order_already_paid', param: 'order_id', extra: ['payment_id', 'payment_status'] });
    const winner = answers.find((r) => r.status === 200)!;
    expect(refused.body.error.payment_id).to.equal(winner.body.id);
    expect(confirmCalls()).to.have.length(1);
    expect((await orderPayments('ord_confirm_race')).map((p) => p.status).sort()).to.deep.equal(['pending', 'succeeded']);
    expect(await rows('SELECT confirm_claimed_until FROM payments WHERE id IN (:ids) AND confirm_claimed_until IS NOT NULL', { ids: [a, b] })).to.deep.equal([]);
  });

  it('when another payment of the order holds a confirm claim, then this confirm is 409; once the claim has expired (its process died), it goes through', async () => {
    const [a, b] = await twoOpenPayments('ord_claim');
    await rows(`UPDATE payments SET confirm_claimed_until = now() + interval '60 seconds' WHERE id = :id`, { id: a });
    const refused = await confirm(b, 'claim-1');
    expectApiError(refused, { status: 409, type: 'conflict', code: 'order_already_paid', param: 'order_id', extra: ['payment_id', 'payment_status'] });
    expect(refused.body.error).to.include({ payment_id: a, payment_status: 'pending' });
    expect(confirmCalls()).to.have.length(0);

    await rows(`UPDATE payments SET confirm_claimed_until = now() - interval '1 second' WHERE id = :id`, { id: a });
    const confirmed = await confirm(b, 'claim-2');
    expect(confirmed.status, confirmed.text).to.equal(200);
    expect(confirmed.body.status).to.equal('succeeded');
  });

  it('when another payment of the order was canceled, then confirming this one goes through', async () => {
    const first = await create('guard-cancel-a', body('ord_guard_cancel'));
    await request(app).post(`/v1/payments/${first.body.id}/cancel`).set(bearer(token)).send();
    const second = await create('guard-cancel-b', body('ord_guard_cancel'));
    const res = await confirm(second.body.id);
    expect(res.status, res.text).to.equal(200);
    expect(res.body.status).to.equal('succeeded');
  });

  it('when another user pays the same order_id, then it is their own order and is not blocked', async () => {
    const mine = await create('mine', body('ord_two_users'));
    await confirm(mine.body.id);
    const theirs = await request(app).post('/v1/payments').set(bearer(tokenFor(newUserId()))).set('Idempotency-Key', 'mine').send(body('ord_two_users'));
    expect(theirs.status, theirs.text).to.equal(201);
  });

  it('when /openapi.json is read, then create and confirm document 409 order_already_paid', async () => {
    const doc = (await request(app).get('/openapi.json')).body;
    expect(doc.paths['/v1/payments'].post.responses['409'].description).to.include('order_already_paid');
    expect(doc.paths['/v1/payments/{id}/confirm'].post.responses['409'].description).to.include('order_already_paid');
  });
});
