import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';

const customerRows = (userId: string) =>
  rows<{ provider: string; provider_customer_id: string }>(
    'SELECT provider, provider_customer_id FROM provider_customers WHERE user_id = :userId',
    { userId },
  );

describe('/v1/payment-methods (real Stripe SDK against a fake Stripe)', () => {
  let stripe: FakeStripe;
  let app: Express;
  let user: string;
  let token: string;

  before(async () => {
    stripe = await withFakeStripe();
    ({ app } = buildTestApp({ fakeStripe: stripe, env: { STRIPE_PUBLISHABLE_KEY: 'pk_test_fake' } }));
  });
  after(() => stripe.stop());
  beforeEach(() => {
    user = newUserId();
    token = tokenFor(user);
    stripe.reset();
  });

  /** `body` null sends no body at all (allowed: there is nothing to choose). */
  const setupIntent = (as = token, body: object | null = {}, key?: string) => {
    const req = request(app).post('/v1/payment-methods/setup-intents').set(bearer(as));
    const keyed = key ? req.set('Idempotency-Key', key) : req;
    return body === null ? keyed : keyed.send(body);
  };
  const list = (as = token, query = '') => request(app).get(`/v1/payment-methods${query}`).set(bearer(as));
  const detach = (id: string, as = token) => request(app).delete(`/v1/payment-methods/${id}`).set(bearer(as));
  const customerCalls = () => stripe.callsTo('POST', /^\/v1\/customers$/);
  const setupIntentCalls = () => stripe.callsTo('POST', /^\/v1\/setup_intents$/);
  const detachCalls = () => stripe.callsTo('POST', /^\/v1\/payment_methods\/[^/]+\/detach$/);
  /** A user with a Stripe customer made through the API, and the cards Stripe.js saved on it. */
  const userWithCards = async (as: string, cards: string[]) => {
    const res = await setupIntent(as);
    expect(res.status, res.text).to.equal(201);
    const customer = String(stripe.wallet.setupIntents.get(res.body.id)!.customer);
    return { customer, cards: cards.map((pm) => stripe.attachCard(customer, pm)) };
  };

  it('when a user asks for their first SetupIntent, then one Stripe customer is created under customer:<user>, stored, and 201 carries the client secret', async () => {
    const res = await setupIntent();
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.have.all.keys('object', 'id', 'client_secret', 'status', 'publishable_key');
    expect(res.body).to.include({ object: 'setup_intent', status: 'requires_payment_method', publishable_key: 'pk_test_fake' });
    expect(res.body.id).to.match(/^seti_/);
    expect(res.body.client_secret).to.match(new RegExp(`^${res.body.id}_secret_`));

    const [created] = customerCalls();
    expect(customerCalls()).to.have.length(1);
    expect(created.idempotencyKey).to.equal(`customer:${user}`);
    expect(created.body).to.deep.equal({ metadata: { user_id: user } });
    const [call] = setupIntentCalls();
    const customer = [...stripe.wallet.customers.values()].find((c) => (c.metadata as { user_id?: string }).user_id === user)!;
    expect(call.body).to.deep.include({ customer: customer.id, usage: 'off_session', allowed_payment_method_types: ['card'] });
    expect(call.idempotencyKey).to.be.a('string').that.is.not.empty;
    expect(await customerRows(user)).to.deep.equal([{ provider: 'stripe', provider_customer_id: customer.id }]);
  });

  it('when the user asks again (with no body this time), then the stored customer is reused: a new SetupIntent, no second customer', async () => {
    const first = await setupIntent();
    const second = await setupIntent(token, null);
    expect(second.status, second.text).to.equal(201);
    expect(second.body.id).to.not.equal(first.body.id);
    expect(customerCalls()).to.have.length(1);
    const [a, b] = setupIntentCalls();
    expect(b.body.customer).to.equal(a.body.customer);
    expect(b.idempotencyKey).to.not.equal(a.idempotencyKey);
    expect(await customerRows(user)).to.have.length(1);
  });

  it('when five first requests race, then they end with one customer row and every SetupIntent on that customer', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => setupIntent()));
    expect(answers.map((a) => a.status)).to.deep.equal([201, 201, 201, 201, 201]);
    const stored = await customerRows(user);
    expect(stored).to.have.length(1);
    expect(new Set(setupIntentCalls().map((c) => c.body.customer))).to.deep.equal(new Set([stored[0].provider_customer_id]));
    expect(customerCalls().every((c) => c.idempotencyKey === `customer:${user}`)).to.equal(true);
    const atStripe = [...stripe.wallet.customers.values()].filter((c) => (c.metadata as { user_id?: string }).user_id === user);
    expect(atStripe).to.have.length(1);
  });

  it("when cards are saved, then the list shows them newest first (brand, last4, exp) and nothing of another user's", async () => {
    const { customer, cards } = await userWithCards(token, ['pm_card_visa', 'pm_card_mastercard']);
    const other = tokenFor(newUserId());
    await userWithCards(other, ['pm_card_amex']);

    const res = await list();
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.include({ object: 'list', has_more: false });
    const year = new Date().getUTCFullYear() + 4;
    expect(res.body.data.map(({ created_at: _at, ...rest }: { created_at: string }) => rest)).to.deep.equal([
      { id: cards[1].id, object: 'payment_method', brand: 'mastercard', last4: '4444', exp_month: 12, exp_year: year },
      { id: cards[0].id, object: 'payment_method', brand: 'visa', last4: '4242', exp_month: 12, exp_year: year },
    ]);
    expect(new Date(res.body.data[0].created_at).toISOString()).to.equal(res.body.data[0].created_at);
    const listed = stripe.callsTo('GET', /^\/v1\/payment_methods$/).at(-1)!;
    expect(listed.query).to.include({ customer, type: 'card', limit: '20' });

    const page = await list(token, `?limit=1&starting_after=${cards[1].id}`);
    expect(page.body).to.deep.include({ has_more: false });
    expect(page.body.data.map((c: { id: string }) => c.id)).to.deep.equal([cards[0].id]);
    expect((await list(token, '?limit=1')).body.has_more).to.equal(true);
  });

  it('when a user never saved anything, then the list is empty without asking Stripe; bad parameters are 400', async () => {
    const res = await list();
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ object: 'list', data: [], has_more: false });
    expect(stripe.calls).to.have.length(0);
    expectApiError(await list(token, '?limit=500'), { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'limit' });
    expectApiError(await list(token, '?color=red'), { status: 400, type: 'invalid_request_error', code: 'parameter_unknown', param: 'color' });
    await userWithCards(token, ['pm_card_visa']);
    const stranger = await list(token, '?starting_after=pm_doesnotexist');
    expectApiError(stranger, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'starting_after' });
  });

  it('when the owner detaches their card, then 200 deleted, Stripe got one detach and the card is no longer listed', async () => {
    const { cards } = await userWithCards(token, ['pm_card_visa', 'pm_card_discover']);
    const res = await detach(cards[0].id);
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.equal({ id: cards[0].id, object: 'payment_method', deleted: true });
    const calls = detachCalls();
    expect(calls.map((c) => c.path)).to.deep.equal([`/v1/payment_methods/${cards[0].id}/detach`]);
    expect(calls[0].idempotencyKey).to.contain(cards[0].id);
    expect(stripe.wallet.paymentMethods.get(cards[0].id)!.customer).to.equal(null);
    expect((await list()).body.data.map((c: { id: string }) => c.id)).to.deep.equal([cards[1].id]);
    expectApiError(await detach(cards[0].id), { status: 404, type: 'not_found', code: 'resource_missing', param: 'id' });
    expect(detachCalls()).to.have.length(1);
  });

  it("when a user (or an admin) deletes another user's card, then 404, never 403, and Stripe is not asked to detach it", async () => {
    const { customer, cards } = await userWithCards(tokenFor(newUserId()), ['pm_card_visa']);
    await userWithCards(token, []);
    expectApiError(await detach(cards[0].id), { status: 404, type: 'not_found', code: 'resource_missing', param: 'id' });
    const admin = tokenFor(`admin_${newUserId()}`, 'admin');
    await setupIntent(admin);
    expectApiError(await detach(cards[0].id, admin), { status: 404, type: 'not_found', code: 'resource_missing' });
    expect((await list(admin)).body.data).to.deep.equal([]);
    expect(detachCalls()).to.have.length(0);
    expect(stripe.wallet.paymentMethods.get(cards[0].id)!.customer).to.equal(customer);
  });

  it('when the id is unknown or malformed, then 404 (a malformed one never reaches Stripe)', async () => {
    await userWithCards(token, []);
    stripe.reset();
    expectApiError(await detach('pm_doesnotexist'), { status: 404, type: 'not_found', code: 'resource_missing' });
    expect(stripe.callsTo('GET', /^\/v1\/payment_methods\/pm_doesnotexist$/)).to.have.length(1);
    for (const id of ['card_123', 'pm_', 'pm_bad-id!', 'setup-intents', `pm_${'a'.repeat(300)}`]) {
      expectApiError(await detach(encodeURIComponent(id)), { status: 404, type: 'not_found', code: 'resource_missing' });
    }
    expect(stripe.calls).to.have.length(1);
    expect(detachCalls()).to.have.length(0);
  });

  it('when the body has an unknown field or there is no token, then 400 or 401 and nothing reaches Stripe or the database', async () => {
    const res = await setupIntent(token, { customer: 'cus_someone_else' });
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_unknown', param: 'customer' });
    for (const req of [
      request(app).get('/v1/payment-methods'),
      request(app).post('/v1/payment-methods/setup-intents').send({}),
      request(app).delete('/v1/payment-methods/pm_card_visa'),
    ]) {
      expectApiError(await req, { status: 401, type: 'authentication_error', code: 'token_missing' });
    }
    expect(stripe.calls).to.have.length(0);
    expect(await customerRows(user)).to.deep.equal([]);
  });

  it('when Stripe fails with 500 on the SetupIntent, then 503, only the customer is kept, and a retry with the same key makes the same provider call', async () => {
    stripe.failNext(1, 500, { path: /^\/v1\/setup_intents$/ });
    const first = await setupIntent(token, {}, 'save-card-1');
    expectApiError(first, { status: 503, type: 'provider_error', code: 'provider_unavailable' });
    expect(await customerRows(user)).to.have.length(1);
    expect(await rows('SELECT response_status FROM idempotency_keys WHERE user_id = :user', { user })).to.deep.equal([{ response_status: null }]);

    const retry = await setupIntent(token, {}, 'save-card-1');
    expect(retry.status, retry.text).to.equal(201);
    const [failed, done] = setupIntentCalls();
    expect(done.idempotencyKey).to.equal(failed.idempotencyKey);
    const replay = await setupIntent(token, {}, 'save-card-1');
    expect(replay.headers['idempotent-replayed']).to.equal('true');
    expect(replay.body).to.deep.equal(retry.body);
    expect(setupIntentCalls()).to.have.length(2);
    expect(customerCalls()).to.have.length(1);
  });

  it('when Stripe says another request holds the customer key (409), then 503 to retry, no row, and the retry stores one customer', async () => {
    stripe.failNext(1, 409, {
      path: /^\/v1\/customers$/,
      error: { type: 'idempotency_error', code: 'idempotency_key_in_use', message: 'There is currently another in-progress request using this Idempotent Key' },
    });
    expectApiError(await setupIntent(), { status: 503, type: 'provider_error', code: 'provider_unavailable' });
    expect(await customerRows(user)).to.deep.equal([]);
    expect(setupIntentCalls()).to.have.length(0);
    expect((await setupIntent()).status).to.equal(201);
    expect(await customerRows(user)).to.have.length(1);
  });

  it('when Stripe fails while a card is looked up or listed, then 503 and no detach is attempted', async () => {
    const { cards } = await userWithCards(token, ['pm_card_visa']);
    stripe.failNext(2, 500);
    expectApiError(await detach(cards[0].id), { status: 503, type: 'provider_error', code: 'provider_unavailable' });
    expectApiError(await list(), { status: 503, type: 'provider_error', code: 'provider_unavailable' });
    expect(detachCalls()).to.have.length(0);
    expect(stripe.wallet.paymentMethods.get(cards[0].id)!.customer).to.be.a('string');
  });
});

describe('/v1/payment-methods (mock provider)', () => {
  it('when a card is saved through a mock SetupIntent, then it is listed and can be detached; no publishable key is offered', async () => {
    const { app, container } = buildTestApp({ env: { STRIPE_PUBLISHABLE_KEY: 'pk_test_unused' } });
    const mock = container.provider as MockProvider;
    expect(mock).to.be.instanceOf(MockProvider);
    const user = newUserId();
    const token = bearer(tokenFor(user));

    const si = await request(app).post('/v1/payment-methods/setup-intents').set(token);
    expect(si.status, si.text).to.equal(201);
    expect(si.body).to.include({ object: 'setup_intent', status: 'requires_payment_method', publishable_key: null });
    expect((await customerRows(user)).map((r) => r.provider)).to.deep.equal(['mock']);
    expect((await request(app).get('/v1/payment-methods').set(token)).body.data).to.deep.equal([]);

    const card = await mock.simulateSetupSucceeded(si.body.id, 'pm_card_amex');
    const listed = await request(app).get('/v1/payment-methods').set(token);
    expect(listed.body.data).to.have.length(1);
    expect(listed.body.data[0]).to.include({ id: card.id, brand: 'amex', last4: '0005', exp_month: 12 });

    const other = bearer(tokenFor(newUserId()));
    expect((await request(app).delete(`/v1/payment-methods/${card.id}`).set(other)).status).to.equal(404);
    const res = await request(app).delete(`/v1/payment-methods/${card.id}`).set(token);
    expect(res.body).to.deep.equal({ id: card.id, object: 'payment_method', deleted: true });
    expect((await request(app).get('/v1/payment-methods').set(token)).body.data).to.deep.equal([]);
  });
});
