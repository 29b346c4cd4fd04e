import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { recording, type RecordingProvider } from '../../helpers/recording-provider';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { MockProvider } from '../../../src/providers/mock/mock-provider';

interface Setup {
  app: Express;
  provider: RecordingProvider;
  /** Only with the real SDK: what went over the wire. */
  stripe?: FakeStripe;
  stop(): Promise<void>;
}

const PROVIDERS: Array<{ name: string; start(): Promise<Setup> }> = [
  {
    name: 'mock provider',
    async start() {
      const provider = recording(new MockProvider({ latencyMs: 0, successRate: 1 }));
      return { app: buildTestApp({ provider }).app, provider, stop: async () => undefined };
    },
  },
  {
    name: 'real Stripe SDK against a fake Stripe',
    async start() {
      const stripe = await withFakeStripe();
      const provider = recording(buildTestApp({ fakeStripe: stripe }).container.provider);
      return { app: buildTestApp({ fakeStripe: stripe, provider }).app, provider, stripe, stop: () => stripe.stop() };
    },
  },
];

for (const { name, start } of PROVIDERS) {
  describe(`POST /v1/payments/:id/confirm and /cancel (${name})`, () => {
    let setup: Setup;
    let app: Express;
    let token: string;

    before(async () => {
      setup = await start();
      app = setup.app;
    });
    after(() => setup.stop());
    beforeEach(() => {
      token = tokenFor(newUserId());
    });

    async function createPayment(): Promise<{ id: string; provider_payment_id: string }> {
      const res = await request(app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });
      expect(res.status, res.text).to.equal(201);
      setup.provider.calls.length = 0;
      setup.stripe?.reset();
      return res.body;
    }
    const confirm = (id: string, body: object, key?: string) => {
      const req = request(app).post(`/v1/payments/${id}/confirm`).set(bearer(token));
      return (key ? req.set('Idempotency-Key', key) : req).send(body);
    };
    const cancel = (id: string) => request(app).post(`/v1/payments/${id}/cancel`).set(bearer(token)).send({});

    const payment = async (id: string) =>
      (await rows('SELECT status, failure_code, failure_message, next_action, payment_method FROM payments WHERE id = :id', { id }))[0];
    const history = (id: string) =>
      rows('SELECT from_status, to_status, source FROM payment_status_history WHERE payment_id = :id ORDER BY id', { id });
    const events = async (id: string) =>
      (await rows<{ type: string }>('SELECT type FROM outbox_events WHERE aggregate_id = :id ORDER BY sequence', { id })).map((e) => e.type);
    const created = { from_status: null, to_status: 'pending', source: 'api' };
    const providerCalls: Setup['provider']['callsTo'] = (operation) => setup.provider.callsTo(operation);

    it('when confirmed with pm_card_visa, then succeeded, with its history, a payment.succeeded event and one confirm call', async () => {
      const { id, provider_payment_id: intentId } = await createPayment();
      const res = await confirm(id, { payment_method: 'pm_card_visa' });

      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.include({ id, status: 'succeeded', payment_method: 'pm_card_visa', client_secret: null, next_action: null });
      expect(await payment(id)).to.include({ status: 'succeeded', payment_method: 'pm_card_visa', failure_code: null });
      expect(await history(id)).to.deep.equal([created, { from_status: 'pending', to_status: 'succeeded', source: 'api' }]);
      expect(await events(id)).to.deep.equal(['payment.created', 'payment.succeeded']);
      const calls = providerCalls('confirmPaymentIntent');
      expect(calls).to.have.length(1);
      expect(calls[0].args.slice(0, 2)).to.deep.equal([intentId, 'pm_card_visa']);
      if (setup.stripe) {
        const [wire] = setup.stripe.callsTo('POST', new RegExp(`^/v1/payment_intents/${intentId}/confirm$`));
        expect(wire.body).to.deep.equal({ payment_method: 'pm_card_visa' });
        expect(wire.idempotencyKey).to.match(new RegExp(`^${id}:confirm:`));
      }
    });

    it('when confirmed with a card that needs 3-D Secure, then requires_action with next_action, and the owner keeps the client_secret', async () => {
      const { id } = await createPayment();
      const res = await confirm(id, { payment_method: 'pm_card_authenticationRequired' });

      expect(res.status, res.text).to.equal(200);
      expect(res.body.status).to.equal('requires_action');
      expect(res.body.next_action).to.include({ type: 'use_stripe_sdk' });
      expect(res.body.client_secret).to.be.a('string');
      const row = await payment(id);
      expect(row.status).to.equal('requires_action');
      expect(row.next_action).to.deep.equal(res.body.next_action);
      expect(await history(id)).to.deep.equal([created, { from_status: 'pending', to_status: 'requires_action', source: 'api' }]);
      expect(await events(id)).to.deep.equal(['payment.created', 'payment.requires_action']);
      expect(providerCalls('confirmPaymentIntent')).to.have.length(1);
    });

    it('when the card is declined, then 402 card_declined, the payment is failed, and a retry with another card succeeds on the same payment', async () => {
      const { id } = await createPayment();
      const declined = await confirm(id, { payment_method: 'pm_card_chargeDeclined' });

      expectApiError(declined, { status: 402, type: 'card_error', code: 'card_declined', extra: ['decline_code', 'payment_id', 'payment_status'] });
      expect(declined.body.error).to.include({ decline_code: 'generic_decline', payment_id: id, payment_status: 'failed' });
      expect(await payment(id)).to.include({ status: 'failed', failure_code: 'generic_decline' });
      expect(await history(id)).to.deep.equal([created, { from_status: 'pending', to_status: 'failed', source: 'api' }]);
      expect(await events(id)).to.deep.equal(['payment.created', 'payment.failed']);

      const retry = await confirm(id, { payment_method: 'pm_card_visa' });
      expect(retry.status, retry.text).to.equal(200);
      expect(retry.body).to.include({ id, status: 'succeeded', failure_code: null, failure_message: null });
      expect(await payment(id)).to.include({ status: 'succeeded', failure_code: null, failure_message: null });
      expect((await history(id)).slice(2)).to.deep.equal([{ from_status: 'failed', to_status: 'succeeded', source: 'api' }]);
      expect(await events(id)).to.deep.equal(['payment.created', 'payment.failed', 'payment.succeeded']);
      expect(providerCalls('confirmPaymentIntent').map((c) => c.args[1])).to.deep.equal(['pm_card_chargeDeclined', 'pm_card_visa']);
    });

    it('when the payment method does not exist, then 400 payment_method_invalid and the payment stays pending', async () => {
      const { id } = await createPayment();
      const res = await confirm(id, { payment_method: 'pm_card_doesNotExist' });

      expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'payment_method_invalid', param: 'payment_method' });
      expect(await payment(id)).to.include({ status: 'pending', failure_code: null });
      expect(await history(id)).to.deep.equal([created]);
      expect(await events(id)).to.deep.equal(['payment.created']);
      expect(providerCalls('confirmPaymentIntent')).to.have.length(1);
    });

    for (const [when, body, code] of [
      ['the payment_method is missing', {}, 'parameter_missing'],
      ['the payment_method is not a pm_ id', { payment_method: 'card_4242' }, 'parameter_invalid'],
    ] as const) {
      it(`when ${when}, then 400 ${code} and the provider is not called`, async () => {
        const { id } = await createPayment();
        const res = await confirm(id, body);
        expectApiError(res, { status: 400, type: 'invalid_request_error', code, param: 'payment_method' });
        expect(await payment(id)).to.include({ status: 'pending' });
        expect(setup.provider.calls).to.have.length(0);
      });
    }

    it('when confirm gets an unknown field, then 400 parameter_unknown and the provider is not called', async () => {
      const { id } = await createPayment();
      const res = await confirm(id, { payment_method: 'pm_card_visa', amount: 1 });
      expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_unknown', param: 'amount' });
      expect(await payment(id)).to.include({ status: 'pending' });
      expect(setup.provider.calls).to.have.length(0);
    });

    it('when an open payment is canceled, then canceled here and at the provider', async () => {
      const { id, provider_payment_id: intentId } = await createPayment();
      const res = await cancel(id);

      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.include({ id, status: 'canceled', client_secret: null });
      expect(await payment(id)).to.include({ status: 'canceled' });
      expect(await history(id)).to.deep.equal([created, { from_status: 'pending', to_status: 'canceled', source: 'api' }]);
      expect(await events(id)).to.deep.equal(['payment.created', 'payment.canceled']);
      expect(providerCalls('cancelPaymentIntent').map((c) => c.args[0])).to.deep.equal([intentId]);
      if (setup.stripe) {
        expect(setup.stripe.callsTo('POST', new RegExp(`^/v1/payment_intents/${intentId}/cancel$`))).to.have.length(1);
        expect(setup.stripe.intents.get(intentId)?.status).to.equal('canceled');
      }
    });

    it('when a payment waiting for 3-D Secure is canceled, then canceled', async () => {
      const { id } = await createPayment();
      await confirm(id, { payment_method: 'pm_card_authenticationRequired' });
      const res = await cancel(id);
      expect(res.status, res.text).to.equal(200);
      expect(res.body.status).to.equal('canceled');
      expect((await history(id)).map((h) => h.to_status)).to.deep.equal(['pending', 'requires_action', 'canceled']);
      expect(providerCalls('cancelPaymentIntent')).to.have.length(1);
    });

    describe('moves the state machine refuses', () => {
      async function succeededPayment() {
        const p = await createPayment();
        expect((await confirm(p.id, { payment_method: 'pm_card_visa' })).body.status).to.equal('succeeded');
        setup.provider.calls.length = 0;
        return p;
      }
      async function canceledPayment() {
        const p = await createPayment();
        expect((await cancel(p.id)).body.status).to.equal('canceled');
        setup.provider.calls.length = 0;
        return p;
      }

      async function expectRefused(res: request.Response, id: string, status: string): Promise<void> {
        expectApiError(res, { status: 409, type: 'conflict', code: 'payment_unexpected_state', extra: ['payment_status'] });
        expect(res.body.error.payment_status).to.equal(status);
        expect(await payment(id)).to.include({ status });
        expect(setup.provider.calls).to.have.length(0);
      }

      it('when a succeeded payment is confirmed again, then 409 payment_unexpected_state and the provider is not called', async () => {
        const { id } = await succeededPayment();
        const before = await history(id);
        await expectRefused(await confirm(id, { payment_method: 'pm_card_visa' }), id, 'succeeded');
        expect(await history(id)).to.deep.equal(before);
      });

      it('when a succeeded payment is canceled, then 409 and the provider is not called', async () => {
        const { id } = await succeededPayment();
        await expectRefused(await cancel(id), id, 'succeeded');
        expect(await events(id)).to.deep.equal(['payment.created', 'payment.succeeded']);
      });

      it('when a canceled payment is canceled again, then 409 and the provider is not called', async () => {
        const { id } = await canceledPayment();
        await expectRefused(await cancel(id), id, 'canceled');
        expect((await history(id)).map((h) => h.to_status)).to.deep.equal(['pending', 'canceled']);
      });

      it('when a canceled payment is confirmed, then 409 and the provider is not called', async () => {
        const { id } = await canceledPayment();
        await expectRefused(await confirm(id, { payment_method: 'pm_card_visa' }), id, 'canceled');
        expect(await events(id)).to.deep.equal(['payment.created', 'payment.canceled']);
      });

      it('when a processing payment is confirmed, then 409 and the provider is not called', async () => {
        const { id } = await createPayment();
        expect((await confirm(id, { payment_method: 'pm_usBankAccount_success' })).body.status).to.equal('processing');
        setup.provider.calls.length = 0;
        await expectRefused(await confirm(id, { payment_method: 'pm_card_visa' }), id, 'processing');
      });
    });

    describe('Idempotency-Key on confirm', () => {
      it('when the same key and body are sent twice, then the answer is replayed and the provider confirms once', async () => {
        const { id } = await createPayment();
        const first = await confirm(id, { payment_method: 'pm_card_visa' }, 'confirm-key');
        const second = await confirm(id, { payment_method: 'pm_card_visa' }, 'confirm-key');

        expect(first.status, first.text).to.equal(200);
        expect(second.status).to.equal(200);
        expect(second.headers['idempotent-replayed']).to.equal('true');
        expect(first.headers['idempotent-replayed']).to.equal(undefined);
        expect(second.text).to.equal(first.text);
        expect(providerCalls('confirmPaymentIntent')).to.have.length(1);
        expect((await history(id)).map((h) => h.to_status)).to.deep.equal(['pending', 'succeeded']);
        const path = `/v1/payments/${id}/confirm`;
        const keys = await rows('SELECT response_status, recovery_point FROM idempotency_keys WHERE request_path = :path', { path });
        expect(keys).to.deep.equal([{ response_status: 200, recovery_point: 'finished' }]);
      });

      it('when a declined confirm is retried with the same key, then the 402 is replayed, not a second attempt', async () => {
        const { id } = await createPayment();
        const first = await confirm(id, { payment_method: 'pm_card_chargeDeclined' }, 'decline-key');
        const second = await confirm(id, { payment_method: 'pm_card_chargeDeclined' }, 'decline-key');
        expect(first.status).to.equal(402);
        expect(second.status).to.equal(402);
        expect(second.headers['idempotent-replayed']).to.equal('true');
        expect(second.text).to.equal(first.text);
        expect(providerCalls('confirmPaymentIntent')).to.have.length(1);
        expect((await history(id)).map((h) => h.to_status)).to.deep.equal(['pending', 'failed']);
      });

      it('when the same key comes with another payment method, then 422 idempotency_key_reused and no second confirm', async () => {
        const { id } = await createPayment();
        await confirm(id, { payment_method: 'pm_card_chargeDeclined' }, 'reused-key');
        const res = await confirm(id, { payment_method: 'pm_card_visa' }, 'reused-key');
        expectApiError(res, { status: 422, type: 'idempotency_error', code: 'idempotency_key_reused' });
        expect(await payment(id)).to.include({ status: 'failed' });
        expect(providerCalls('confirmPaymentIntent')).to.have.length(1);
      });
    });
  });
}

describe('when our view and Stripe’s disagree (real Stripe SDK against a fake Stripe)', () => {
  let stripe: FakeStripe;
  let app: Express;
  let token: string;

  before(async () => {
    stripe = await withFakeStripe();
    app = buildTestApp({ fakeStripe: stripe }).app;
  });
  after(() => stripe.stop());
  beforeEach(() => {
    token = tokenFor(newUserId());
  });

  it('when a payment Stripe already succeeded is canceled here, then Stripe refuses, we sync to succeeded and answer 409', async () => {
    const created = await request(app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });
    const { id, provider_payment_id: intentId } = created.body;
    stripe.setStatus(intentId, 'succeeded');
    stripe.reset();

    const res = await request(app).post(`/v1/payments/${id}/cancel`).set(bearer(token)).send({});

    expectApiError(res, { status: 409, type: 'conflict', code: 'payment_unexpected_state', extra: ['payment_status'] });
    expect(res.body.error.payment_status).to.equal('succeeded');
    expect(await rows('SELECT status FROM payments WHERE id = :id', { id })).to.deep.equal([{ status: 'succeeded' }]);
    expect(await rows('SELECT from_status, to_status, source FROM payment_status_history WHERE payment_id = :id ORDER BY id', { id })).to.deep.equal([
      { from_status: null, to_status: 'pending', source: 'api' },
      { from_status: 'pending', to_status: 'succeeded', source: 'api' },
    ]);
    expect(stripe.calls.map((c) => `${c.method} ${c.path}`)).to.deep.equal([
      `POST /v1/payment_intents/${intentId}/cancel`,
      `GET /v1/payment_intents/${intentId}`,
    ]);
  });
});
