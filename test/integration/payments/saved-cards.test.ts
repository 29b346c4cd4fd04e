import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { paymentRow } from '../../helpers/webhook-payments';

const paymentsOf = (userId: string) => rows<{ id: string }>('SELECT id FROM payments WHERE user_id = :userId', { userId });
const customerOf = async (userId: string) =>
  (await rows<{ provider_customer_id: string }>('SELECT provider_customer_id FROM provider_customers WHERE user_id = :userId', { userId }))[0]
    ?.provider_customer_id;

describe('paying with a saved card, and saving the card paid with (mock provider)', () => {
  let app: Express;
  let container: Container;
  let mock: MockProvider;
  let user: string;
  let token: string;

  before(() => {
    ({ app, container } = buildTestApp());
    mock = container.provider as MockProvider;
  });
  beforeEach(() => {
    user = newUserId();
    token = tokenFor(user);
  });

  const pay = (body: Record<string, unknown>, as = token) =>
    request(app).post('/v1/payments').set(bearer(as)).send({ amount: 2000, currency: 'usd', ...body });
  const cards = (as = token) => request(app).get('/v1/payment-methods').set(bearer(as));

  /** A user who paid once with `testCard` and asked to save it: their one saved card. */
  async function savedCardOf(as: string, testCard = 'pm_card_visa'): Promise<{ id: string; last4: string }> {
    const res = await pay({ payment_method: testCard, setup_future_usage: 'off_session' }, as);
    expect(res.status, res.text).to.be.oneOf([201]);
    const list = await cards(as);
    expect(list.body.data, 'saved cards').to.have.length(1);
    return list.body.data[0];
  }

  it('when a payment asks setup_future_usage and succeeds, then the card is saved on the caller’s customer and the payment row names that customer', async () => {
    const res = await pay({ payment_method: 'pm_card_visa', setup_future_usage: 'off_session' });
    expect(res.status, res.text).to.equal(201);
    expect(res.body.status).to.equal('succeeded');

    const customer = await customerOf(user);
    expect(customer).to.match(/^cus_/);
    const row = await paymentRow(res.body.id);
    expect(row).to.include({ provider_customer_id: customer, setup_future_usage: 'off_session' });
    const intent = await mock.retrievePaymentIntent(res.body.provider_payment_id);
    expect(intent.raw).to.include({ customer, setup_future_usage: 'off_session' });

    const list = await cards();
    expect(list.body.data).to.have.length(1);
    expect(list.body.data[0]).to.include({ brand: 'visa', last4: '4242', exp_month: 12 });
    expect(intent.paymentMethod).to.equal(list.body.data[0].id);
  });

  it('when a payment does not ask to save the card, then nothing is saved and no customer is made', async () => {
    const res = await pay({ payment_method: 'pm_card_visa' });
    expect(res.status).to.equal(201);
    expect((await cards()).body.data).to.deep.equal([]);
    expect(await customerOf(user)).to.equal(undefined);
    expect(await paymentRow(res.body.id)).to.include({ provider_customer_id: null, setup_future_usage: null });
  });

  it('when the owner pays with their saved card, then it is charged with their customer attached', async () => {
    const card = await savedCardOf(token);
    const res = await pay({ payment_method: card.id });
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ status: 'succeeded', payment_method: card.id });
    const customer = await customerOf(user);
    expect(await paymentRow(res.body.id)).to.include({ provider_customer_id: customer, payment_method: card.id });
    const intent = await mock.retrievePaymentIntent(res.body.provider_payment_id);
    expect(intent.raw).to.include({ customer, payment_method: card.id, status: 'succeeded' });
  });

  it('when another user pays with someone else’s saved card, then 404 not found (param payment_method) and no payment is made', async () => {
    const card = await savedCardOf(token);
    const thief = newUserId();
    const res = await pay({ payment_method: card.id }, tokenFor(thief));
    expectApiError(res, { status: 404, type: 'not_found', code: 'resource_missing', param: 'payment_method' });
    expect(await paymentsOf(thief)).to.deep.equal([]);

    // Confirming one's own payment with someone else's card is the same refusal, and nothing moves.
    const own = await pay({}, tokenFor(thief));
    const confirm = await request(app).post(`/v1/payments/${own.body.id}/confirm`).set(bearer(tokenFor(thief))).send({ payment_method: card.id });
    expectApiError(confirm, { status: 404, type: 'not_found', code: 'resource_missing', param: 'payment_method' });
    expect(await paymentRow(own.body.id)).to.include({ status: 'pending', payment_method: null });
  });

  it('when a saved card pays a payment made without the customer, then 400 and the card is not charged; a payment made for it is', async () => {
    const card = await savedCardOf(token);
    const plain = await pay({});
    const confirm = await request(app).post(`/v1/payments/${plain.body.id}/confirm`).set(bearer(token)).send({ payment_method: card.id });
    expectApiError(confirm, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'payment_method' });
    expect(await paymentRow(plain.body.id)).to.include({ status: 'pending', payment_method: null });
  });

  it('when an unknown pm_ id is given, then 404 and no payment is made', async () => {
    const res = await pay({ payment_method: 'pm_1NoSuchCard' });
    expectApiError(res, { status: 404, type: 'not_found', code: 'resource_missing', param: 'payment_method' });
    expect(await paymentsOf(user)).to.deep.equal([]);
  });

  it('when the saved card needs authentication, then the payment requires_action with the mock’s 3-D Secure page, and completing it succeeds', async () => {
    const first = await pay({ payment_method: 'pm_card_authenticationRequiredOnSetup', setup_future_usage: 'off_session' });
    expect(first.body.status).to.equal('requires_action');
    await mock.completeAuthentication(first.body.provider_payment_id, 'complete');
    const list = await cards();
    expect(list.body.data[0]).to.include({ last4: '3155' });

    const again = await pay({ payment_method: list.body.data[0].id });
    expect(again.status, again.text).to.equal(201);
    expect(again.body.status).to.equal('requires_action');
    expect(again.body.next_action.use_stripe_sdk.stripe_js).to.equal(`/mock/3ds/${again.body.provider_payment_id}`);
  });
});

describe('paying with a saved card (real Stripe SDK against a fake Stripe)', () => {
  let stripe: FakeStripe;
  let app: Express;

  before(async () => {
    stripe = await withFakeStripe();
    ({ app } = buildTestApp({ fakeStripe: stripe }));
  });
  after(() => stripe.stop());

  it('when the owner pays with their saved card, then Stripe is asked for a PaymentIntent with their customer and the card; another user gets 404 and Stripe is not asked', async () => {
    const user = newUserId();
    const token = tokenFor(user);
    const setup = await request(app).post('/v1/payment-methods/setup-intents').set(bearer(token)).send({});
    expect(setup.status, setup.text).to.equal(201);
    const customer = String(stripe.wallet.setupIntents.get(setup.body.id)!.customer);
    const card = stripe.attachCard(customer, 'pm_card_visa');
    stripe.reset();

    await request(app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd', payment_method: card.id, setup_future_usage: 'on_session' });
    const [create] = stripe.callsTo('POST', /^\/v1\/payment_intents$/);
    expect(create.body).to.include({ customer, payment_method: card.id, confirm: 'true', setup_future_usage: 'on_session' });

    stripe.reset();
    const other = await request(app).post('/v1/payments').set(bearer(tokenFor(newUserId()))).send({ amount: 2000, currency: 'usd', payment_method: card.id });
    expectApiError(other, { status: 404, type: 'not_found', code: 'resource_missing', param: 'payment_method' });
    expect(stripe.callsTo('POST', /^\/v1\/payment_intents$/)).to.deep.equal([]);
  });
});
