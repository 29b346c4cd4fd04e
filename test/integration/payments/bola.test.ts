import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';

describe('who may see and act on a payment (real Stripe SDK against a fake Stripe)', () => {
  let stripe: FakeStripe;
  let app: Express;
  let owner: string;
  let ownerToken: string;
  let intruderToken: string;
  let adminToken: string;

  before(async () => {
    stripe = await withFakeStripe();
    app = buildTestApp({ fakeStripe: stripe }).app;
  });
  after(() => stripe.stop());
  beforeEach(() => {
    owner = newUserId();
    ownerToken = tokenFor(owner);
    intruderToken = tokenFor(newUserId());
    adminToken = tokenFor(newUserId(), 'admin');
  });

  async function createPayment(token = ownerToken, body: object = { amount: 2000, currency: 'usd' }) {
    const res = await request(app).post('/v1/payments').set(bearer(token)).send(body);
    expect(res.status, res.text).to.equal(201);
    stripe.reset();
    return res.body as { id: string; provider_payment_id: string; client_secret: string };
  }

  /** Everything a request could have changed about a payment, to compare before and after. */
  async function snapshot(id: string) {
    const [payment] = await rows('SELECT status, updated_at, client_secret, payment_method FROM payments WHERE id = :id', { id });
    const history = await rows('SELECT to_status FROM payment_status_history WHERE payment_id = :id ORDER BY id', { id });
    const events = await rows('SELECT type FROM outbox_events WHERE aggregate_id = :id ORDER BY sequence', { id });
    return { payment, history, events };
  }

  const attempts: Array<{ what: string; send: (id: string, token: string) => request.Test }> = [
    { what: 'reads', send: (id, token) => request(app).get(`/v1/payments/${id}`).set(bearer(token)) },
    { what: 'reads the history of', send: (id, token) => request(app).get(`/v1/payments/${id}/history`).set(bearer(token)) },
    {
      what: 'confirms',
      send: (id, token) => request(app).post(`/v1/payments/${id}/confirm`).set(bearer(token)).send({ payment_method: 'pm_card_visa' }),
    },
    {
      what: 'confirms (with an Idempotency-Key)',
      send: (id, token) =>
        request(app).post(`/v1/payments/${id}/confirm`).set(bearer(token)).set('Idempotency-Key', `bola-${id}`).send({ payment_method: 'pm_card_visa' }),
    },
    { what: 'cancels', send: (id, token) => request(app).post(`/v1/payments/${id}/cancel`).set(bearer(token)).send({}) },
  ];

  for (const attempt of attempts) {
    it(`when a customer ${attempt.what} another user's payment, then 404 (never 403) and nothing changes here or at Stripe`, async () => {
      const payment = await createPayment();
      const before = await snapshot(payment.id);

      const res = await attempt.send(payment.id, intruderToken);

      expectApiError(res, { status: 404, type: 'not_found', code: 'resource_missing', param: 'id' });
      expect(res.text).to.not.include(payment.provider_payment_id);
      expect(await snapshot(payment.id)).to.deep.equal(before);
      expect(stripe.calls).to.have.length(0);
    });
  }

  it("when the payment does not exist, then the same 404 as for another user's payment (existence is not revealed)", async () => {
    const payment = await createPayment();
    const theirs = await request(app).get(`/v1/payments/${payment.id}`).set(bearer(intruderToken));
    const missing = await request(app).get('/v1/payments/pay_000000000000000000000000').set(bearer(intruderToken));
    expect(missing.status).to.equal(theirs.status);
    expect({ ...missing.body.error, request_id: null }).to.deep.equal({ ...theirs.body.error, request_id: null });
    expect(stripe.calls).to.have.length(0);
  });

  it('when an admin reads another user’s payment and history, then 200, without the client_secret', async () => {
    const payment = await createPayment();
    const res = await request(app).get(`/v1/payments/${payment.id}`).set(bearer(adminToken));
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ id: payment.id, user_id: owner, status: 'pending', client_secret: null });
    const [row] = await rows<{ client_secret: string }>('SELECT client_secret FROM payments WHERE id = :id', { id: payment.id });
    expect(row.client_secret).to.equal(payment.client_secret);

    const history = await request(app).get(`/v1/payments/${payment.id}/history`).set(bearer(adminToken));
    expect(history.status).to.equal(200);
    expect(history.body.data).to.have.length(1);
    expect(history.body.data[0]).to.include({ from: null, to: 'pending', source: 'api' });
    expect(stripe.calls).to.have.length(0);
  });

  it('when an admin confirms another user’s payment, then it succeeds at Stripe and here', async () => {
    const payment = await createPayment();
    const res = await request(app).post(`/v1/payments/${payment.id}/confirm`).set(bearer(adminToken)).send({ payment_method: 'pm_card_visa' });
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ status: 'succeeded', user_id: owner, client_secret: null });
    expect(await rows('SELECT status FROM payments WHERE id = :id', { id: payment.id })).to.deep.equal([{ status: 'succeeded' }]);
    expect(stripe.callsTo('POST', new RegExp(`^/v1/payment_intents/${payment.provider_payment_id}/confirm$`))).to.have.length(1);
  });

  it('when an admin cancels another user’s payment, then it is canceled at Stripe and here', async () => {
    const payment = await createPayment();
    const res = await request(app).post(`/v1/payments/${payment.id}/cancel`).set(bearer(adminToken)).send({});
    expect(res.status, res.text).to.equal(200);
    expect(res.body.status).to.equal('canceled');
    expect(await rows('SELECT status FROM payments WHERE id = :id', { id: payment.id })).to.deep.equal([{ status: 'canceled' }]);
    expect(stripe.callsTo('POST', new RegExp(`^/v1/payment_intents/${payment.provider_payment_id}/cancel$`))).to.have.length(1);
  });

  it('when the owner reads an open payment, then the client_secret is shown', async () => {
    const payment = await createPayment();
    const res = await request(app).get(`/v1/payments/${payment.id}`).set(bearer(ownerToken));
    expect(res.status).to.equal(200);
    expect(res.body.client_secret).to.equal(payment.client_secret);
    expect(await rows('SELECT client_secret FROM payments WHERE id = :id', { id: payment.id })).to.deep.equal([
      { client_secret: payment.client_secret },
    ]);
  });

  it('when the payment has succeeded, then not even the owner sees the client_secret', async () => {
    const payment = await createPayment();
    const confirm = await request(app).post(`/v1/payments/${payment.id}/confirm`).set(bearer(ownerToken)).send({ payment_method: 'pm_card_visa' });
    expect(confirm.status, confirm.text).to.equal(200);
    expect(confirm.body).to.include({ status: 'succeeded', client_secret: null });
    const res = await request(app).get(`/v1/payments/${payment.id}`).set(bearer(ownerToken));
    expect(res.body).to.include({ status: 'succeeded', client_secret: null });
    expect(await rows('SELECT status FROM payments WHERE id = :id', { id: payment.id })).to.deep.equal([{ status: 'succeeded' }]);
  });

  it('when the payment is canceled, then not even the owner sees the client_secret', async () => {
    const payment = await createPayment();
    const cancel = await request(app).post(`/v1/payments/${payment.id}/cancel`).set(bearer(ownerToken)).send({});
    expect(cancel.body).to.include({ status: 'canceled', client_secret: null });
    const res = await request(app).get(`/v1/payments/${payment.id}`).set(bearer(ownerToken));
    expect(res.body).to.include({ status: 'canceled', client_secret: null });
    expect(await rows('SELECT status FROM payments WHERE id = :id', { id: payment.id })).to.deep.equal([{ status: 'canceled' }]);
  });

  it('when a customer lists payments, then only their own are listed, and admins see everyone’s', async () => {
    const mine = [await createPayment(), await createPayment()];
    const intruder = newUserId();
    const theirs = await createPayment(tokenFor(intruder));

    const ownList = await request(app).get('/v1/payments').set(bearer(ownerToken));
    expect(ownList.status).to.equal(200);
    expect(ownList.body.data.map((p: { id: string }) => p.id)).to.have.members(mine.map((p) => p.id));
    expect(ownList.body.data.every((p: { client_secret: string | null }) => p.client_secret !== null)).to.equal(true);

    const theirList = await request(app).get('/v1/payments').set(bearer(tokenFor(intruder)));
    expect(theirList.body.data.map((p: { id: string }) => p.id)).to.deep.equal([theirs.id]);

    const asAdmin = await request(app).get(`/v1/payments?user_id=${owner}`).set(bearer(adminToken));
    expect(asAdmin.body.data.map((p: { id: string }) => p.id)).to.have.members(mine.map((p) => p.id));
    expect(asAdmin.body.data.every((p: { client_secret: string | null }) => p.client_secret === null)).to.equal(true);

    const everyone = await request(app).get('/v1/payments?limit=100').set(bearer(adminToken));
    expect(everyone.body.data.map((p: { id: string }) => p.id)).to.include.members([...mine.map((p) => p.id), theirs.id]);

    const inDb = await rows<{ id: string }>('SELECT id FROM payments WHERE user_id = :owner', { owner });
    expect(inDb.map((r) => r.id)).to.have.members(mine.map((p) => p.id));
  });
});
