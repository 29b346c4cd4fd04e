import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';

/**
 * Issue #6 fault 9: Stripe's 402 card error need not carry `payment_intent` (an independent simulator
 * sends none). It is a final answer all the same: 402 card_declined, stored and replayed, payment failed.
 * The errors are shaped as https://docs.stripe.com/api/errors documents them.
 */
describe('declines without payment_intent in Stripe\'s error (real Stripe SDK against a fake Stripe)', () => {
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

  const paymentRows = () =>
    rows<{ id: string; status: string; failure_code: string | null; provider_payment_id: string | null }>(
      'SELECT id, status, failure_code, provider_payment_id FROM payments WHERE user_id = :user',
      { user },
    );
  const create = (key: string) =>
    request(app).post('/v1/payments').set(bearer(token)).set('Idempotency-Key', key).send({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa' });
  const confirm = (id: string, key: string, pm = 'pm_card_visa') =>
    request(app).post(`/v1/payments/${id}/confirm`).set(bearer(token)).set('Idempotency-Key', key).send({ payment_method: pm });

  it('when a create with a card is declined with a decline_code but no payment_intent, then 402 card_declined, the payment failed, and a retry replays the 402', async () => {
    stripe.failNext(1, 402, {
      path: /^\/v1\/payment_intents$/,
      error: {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
        doc_url: 'https://stripe.com/docs/error-codes/card-declined',
      },
    });
    const first = await create('decline-no-intent');
    expectApiError(first, { status: 402, type: 'card_error', code: 'card_declined', extra: ['decline_code', 'payment_id', 'payment_status'] });
    expect(first.body.error).to.include({ decline_code: 'insufficient_funds', payment_status: 'failed' });
    const [payment] = await paymentRows();
    expect(payment).to.include({ id: first.body.error.payment_id, status: 'failed', failure_code: 'insufficient_funds' });

    const replay = await create('decline-no-intent');
    expect(replay.status).to.equal(402);
    expect(replay.headers['idempotent-replayed']).to.equal('true');
    expect(replay.body).to.deep.equal(first.body);
    expect(stripe.callsTo('POST', /^\/v1\/payment_intents$/)).to.have.length(1);
    expect(await paymentRows()).to.have.length(1);
  });

  it('when a confirm is declined without payment_intent and without decline_code (expired_card, param), then 402 with the code as the reason, stored and replayed, and another card may follow', async () => {
    const created = await request(app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });
    expect(created.status, created.text).to.equal(201);
    stripe.failNext(1, 402, {
      path: /\/confirm$/,
      error: {
        type: 'card_error',
        code: 'expired_card',
        param: 'exp_month',
        message: 'Your card has expired.',
        doc_url: 'https://stripe.com/docs/error-codes/expired-card',
      },
    });
    const first = await confirm(created.body.id, 'confirm-expired');
    expectApiError(first, { status: 402, type: 'card_error', code: 'card_declined', extra: ['decline_code', 'payment_id', 'payment_status'] });
    expect(first.body.error).to.include({ decline_code: 'expired_card', payment_id: created.body.id, payment_status: 'failed' });
    expect((await paymentRows())[0]).to.include({ status: 'failed', failure_code: 'expired_card' });

    const replay = await confirm(created.body.id, 'confirm-expired');
    expect(replay.status).to.equal(402);
    expect(replay.headers['idempotent-replayed']).to.equal('true');
    expect(replay.body).to.deep.equal(first.body);
    expect(stripe.callsTo('POST', /\/confirm$/)).to.have.length(1);

    const retried = await confirm(created.body.id, 'confirm-other-card');
    expect(retried.status, retried.text).to.equal(200);
    expect(retried.body.status).to.equal('succeeded');
  });

  it('when a confirm is declined with the intent in the error, then the answer is the same 402 and the intent is stored', async () => {
    const created = await request(app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });
    const res = await confirm(created.body.id, 'confirm-with-intent', 'pm_card_chargeDeclinedInsufficientFunds');
    expectApiError(res, { status: 402, type: 'card_error', code: 'card_declined', extra: ['decline_code', 'payment_id', 'payment_status'] });
    expect(res.body.error).to.include({ decline_code: 'insufficient_funds', payment_status: 'failed' });
    expect((await paymentRows())[0]).to.include({ status: 'failed', failure_code: 'insufficient_funds', provider_payment_id: created.body.provider_payment_id });
  });

  it('when Stripe answers 429 lock_timeout on a confirm, then 503 to retry and the payment stays open', async () => {
    const created = await request(app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });
    stripe.failNext(1, 429, {
      path: /\/confirm$/,
      error: { type: 'invalid_request_error', code: 'lock_timeout', message: 'This object cannot be accessed right now because another API request or Stripe process is currently accessing it.' },
    });
    expectApiError(await confirm(created.body.id, 'confirm-locked'), { status: 503, type: 'provider_error', code: 'provider_unavailable' });
    expect((await paymentRows())[0].status).to.equal('pending');
    const retried = await confirm(created.body.id, 'confirm-locked');
    expect(retried.status, retried.text).to.equal(200);
    expect(retried.body.status).to.equal('succeeded');
  });
});
