import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { createPayment, paymentRow } from '../../helpers/webhook-payments';

/**
 * Issue #6 fault 10: every amount sent to the provider follows the currency's rules from one table
 * (config/currencies.json): three-decimal currencies end in 0 (https://docs.stripe.com/currencies#three-decimal).
 */
for (const providerName of ['stripe', 'mock'] as const) {
  describe(`refund amounts follow the currency's rules (${providerName} provider)`, () => {
    let stripe: FakeStripe | undefined;
    let app: Express;
    let owner: string;
    const admin = tokenFor('admin_currency_rules', 'admin');

    before(async () => {
      stripe = providerName === 'stripe' ? await withFakeStripe() : undefined;
      app = buildTestApp({ fakeStripe: stripe }).app;
    });
    after(() => stripe?.stop());
    beforeEach(() => {
      owner = tokenFor(newUserId());
      stripe?.reset();
    });

    const refund = (paymentId: string, body: object) => request(app).post(`/v1/payments/${paymentId}/refunds`).set(bearer(admin)).send(body);
    const refundRows = (paymentId: string) => rows<{ amount: string; status: string }>('SELECT amount, status FROM refunds WHERE payment_id = :paymentId', { paymentId });

    it('when a KWD payment of 18600 takes a refund of 1005, then 400 with the code a create of 18605 gets, and nothing reaches the provider', async () => {
      const create = await request(app).post('/v1/payments').set(bearer(owner)).send({ amount: 18605, currency: 'kwd' });
      expectApiError(create, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'amount' });

      const payment = await createPayment(app, owner, { amount: 18600, currency: 'kwd', payment_method: 'pm_card_visa' });
      expect(payment.status).to.equal('succeeded');
      const res = await refund(payment.id, { amount: 1005 });
      expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'amount' });
      expect(res.body.error.message).to.equal(create.body.error.message);
      expect(await refundRows(payment.id)).to.deep.equal([]);
      expect(await paymentRow(payment.id)).to.include({ status: 'succeeded', amount_refunded: '0' });
      if (stripe) expect(stripe.callsTo('POST', /^\/v1\/refunds$/)).to.have.length(0);
    });

    it('when a KWD payment of 18600 takes a refund of 1000, then 201 and the payment is partially refunded', async () => {
      const payment = await createPayment(app, owner, { amount: 18600, currency: 'kwd', payment_method: 'pm_card_visa' });
      const res = await refund(payment.id, { amount: 1000 });
      expect(res.status, res.text).to.equal(201);
      expect(res.body).to.include({ amount: 1000, currency: 'kwd', status: 'succeeded' });
      expect(await paymentRow(payment.id)).to.include({ status: 'partially_refunded', amount_refunded: '1000' });
    });

    it('when a USD refund is below the minimum charge, then it is taken (the minimum is for charges)', async () => {
      const payment = await createPayment(app, owner, { amount: 2000, currency: 'usd', payment_method: 'pm_card_visa' });
      const res = await refund(payment.id, { amount: 1 });
      expect(res.status, res.text).to.equal(201);
    });
  });
}
