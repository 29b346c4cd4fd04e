import { expect } from 'chai';
import request from 'supertest';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import { ProviderRejectedError, type CreateIntentInput } from '../../../src/providers/payment-provider';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows, testDatabase } from '../../helpers/database';
import { buildTestApp, withFakeStripe, type TestApp } from '../../helpers/test-app';
import { paymentRow } from '../../helpers/webhook-payments';

/**
 * Issue #6 fault 8: the mock keeps its objects in the service's database, so two replicas (two
 * containers on one database here) and a restarted instance (a new container) see one Stripe account.
 */
describe('the mock provider shared by replicas and kept across restarts (mock_* tables)', () => {
  let a: TestApp;
  let b: TestApp;
  let token: string;
  const admin = tokenFor('admin_mock_replicas', 'admin');

  before(() => {
    a = buildTestApp();
    b = buildTestApp();
    expect(a.container.provider).to.not.equal(b.container.provider);
  });
  beforeEach(() => {
    token = tokenFor(newUserId());
  });

  const mockIntent = async (id: string) =>
    (await rows<{ data: { status: string; amount: number } }>('SELECT data FROM mock_payment_intents WHERE id = :id', { id }))[0]?.data;
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await check()); i += 1) await new Promise((r) => setTimeout(r, 50));
    expect(await check()).to.equal(true);
  };

  it('when a payment is created on one replica, then it is confirmed and refunded on the other, and a restarted instance still refunds it', async () => {
    const created = await request(a.app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });
    expect(created.status, created.text).to.equal(201);
    expect(await mockIntent(created.body.provider_payment_id)).to.include({ status: 'requires_payment_method', amount: 2000 });

    const confirmed = await request(b.app).post(`/v1/payments/${created.body.id}/confirm`).set(bearer(token)).send({ payment_method: 'pm_card_visa' });
    expect(confirmed.status, confirmed.text).to.equal(200);
    expect(confirmed.body.status).to.equal('succeeded');
    expect(await mockIntent(created.body.provider_payment_id)).to.include({ status: 'succeeded' });

    const refunded = await request(b.app).post(`/v1/payments/${created.body.id}/refunds`).set(bearer(admin)).send({ amount: 500 });
    expect(refunded.status, refunded.text).to.equal(201);

    const restarted = buildTestApp();
    const rest = await request(restarted.app).post(`/v1/payments/${created.body.id}/refunds`).set(bearer(admin)).send({});
    expect(rest.status, rest.text).to.equal(201);
    expect(rest.body.amount).to.equal(1500);
    expect(await paymentRow(created.body.id)).to.include({ status: 'refunded', amount_refunded: '2000' });
    const refunds = await rows<{ amount: number }>("SELECT (data->>'amount')::int AS amount FROM mock_refunds WHERE parent_id = :id ORDER BY seq", {
      id: created.body.provider_payment_id,
    });
    expect(refunds.map((r) => r.amount)).to.deep.equal([500, 1500]);

    // The mock records what it emitted, as Stripe's GET /v1/events would list it, and whether it was delivered.
    const types = async () =>
      (await rows<{ type: string; delivery_success: boolean | null }>(
        "SELECT type, delivery_success FROM mock_events WHERE data->'data'->'object'->>'payment_intent' = :pi OR data->'data'->'object'->>'id' = :pi ORDER BY seq",
        { pi: created.body.provider_payment_id },
      ));
    await until(async () => (await types()).every((e) => e.delivery_success === true));
    expect((await types()).map((e) => e.type)).to.deep.equal([
      'payment_intent.created',
      'payment_intent.succeeded',
      'refund.created',
      'charge.refunded',
      'refund.created',
      'charge.refunded',
    ]);
    const listed = await (restarted.container.provider as MockProvider).listEvents({ limit: 100 });
    expect(listed.data.map((e) => e.id)).to.include.members(
      (await rows<{ id: string }>('SELECT id FROM mock_events WHERE data::text LIKE :pi', { pi: `%${created.body.provider_payment_id}%` })).map((r) => r.id),
    );
  });

  it('when a payment is canceled on a restarted instance, then the mock there knows the intent', async () => {
    const created = await request(a.app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });
    const restarted = buildTestApp();
    const canceled = await request(restarted.app).post(`/v1/payments/${created.body.id}/cancel`).set(bearer(token)).send({});
    expect(canceled.status, canceled.text).to.equal(200);
    expect(canceled.body.status).to.equal('canceled');
    expect(await mockIntent(created.body.provider_payment_id)).to.include({ status: 'canceled' });
  });

  describe('two replicas acting on one intent at once (the mock serialises them on the intent row, as Stripe does)', () => {
    const providers = () => [new MockProvider({ latencyMs: 0, successRate: 1, sequelize: testDatabase() }), new MockProvider({ latencyMs: 0, successRate: 1, sequelize: testDatabase() })];
    const input = (paymentId: string, paymentMethod?: string): CreateIntentInput => ({
      paymentId,
      amount: 2000,
      currency: 'usd',
      metadata: {},
      paymentMethod: paymentMethod ?? null,
    });

    it('when a confirm and a cancel race, then exactly one happens and the other is payment_intent_unexpected_state', async () => {
      const [one, two] = providers();
      const pi = await one.createPaymentIntent(input('pay_race_1'), { idempotencyKey: 'race-1:create' });
      const results = await Promise.allSettled([
        one.confirmPaymentIntent(pi.id, 'pm_card_visa', { idempotencyKey: 'race-1:confirm' }),
        two.cancelPaymentIntent(pi.id, { idempotencyKey: 'race-1:cancel' }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(won).to.have.length(1);
      expect(lost).to.have.length(1);
      expect(lost[0].reason).to.be.instanceOf(ProviderRejectedError);
      expect((lost[0].reason as ProviderRejectedError).code).to.equal('payment_intent_unexpected_state');
      const final = (await two.retrievePaymentIntent(pi.id)).status;
      expect(final).to.equal(results[0].status === 'fulfilled' ? 'succeeded' : 'canceled');
    });

    it('when two refunds of 1500 on a 2000 intent race, then one is made and the other is amount_too_large', async () => {
      const [one, two] = providers();
      const pi = await one.createPaymentIntent(input('pay_race_2', 'pm_card_visa'), { idempotencyKey: 'race-2:create' });
      const refund = (p: MockProvider, refundId: string) =>
        p.createRefund({ paymentIntentId: pi.id, amount: 1500, refundId, paymentId: 'pay_race_2' }, { idempotencyKey: `${refundId}:create` });
      const results = await Promise.allSettled([refund(one, 'ref_race_a'), refund(two, 'ref_race_b')]);
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((lost.reason as ProviderRejectedError).code).to.equal('amount_too_large');
      expect(await rows('SELECT id FROM mock_refunds WHERE parent_id = :id', { id: pi.id })).to.have.length(1);
    });

    it('when two replicas send the same idempotency key at once, then one PaymentIntent is made and both get it', async () => {
      const [one, two] = providers();
      const [x, y] = await Promise.all([
        one.createPaymentIntent(input('pay_race_3'), { idempotencyKey: 'race-3:create' }),
        two.createPaymentIntent(input('pay_race_3'), { idempotencyKey: 'race-3:create' }),
      ]);
      expect(x.id).to.equal(y.id);
      expect(await rows("SELECT id FROM mock_payment_intents WHERE data->'metadata'->>'payment_id' = 'pay_race_3'")).to.have.length(1);
    });

    it('when a key is reused with other parameters, then idempotency_error and nothing is made', async () => {
      const [one, two] = providers();
      await one.createPaymentIntent(input('pay_race_4'), { idempotencyKey: 'race-4:create' });
      const err = await two.createPaymentIntent({ ...input('pay_race_4'), amount: 3000 }, { idempotencyKey: 'race-4:create' }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ProviderRejectedError);
      expect((err as ProviderRejectedError).code).to.equal('idempotency_error');
      expect(await rows("SELECT id FROM mock_payment_intents WHERE data->'metadata'->>'payment_id' = 'pay_race_4'")).to.have.length(1);
    });

    it('when a decline is replayed by another replica under the same key, then the same 402-kind answer, and one failed attempt', async () => {
      const [one, two] = providers();
      const pi = await one.createPaymentIntent(input('pay_race_5'), { idempotencyKey: 'race-5:create' });
      const first = await one.confirmPaymentIntent(pi.id, 'pm_card_chargeDeclined', { idempotencyKey: 'race-5:confirm' }).catch((e: unknown) => e);
      const again = await two.confirmPaymentIntent(pi.id, 'pm_card_chargeDeclined', { idempotencyKey: 'race-5:confirm' }).catch((e: unknown) => e);
      expect((first as Error).name).to.equal('ProviderDeclinedError');
      expect((again as Error).name).to.equal('ProviderDeclinedError');
      expect(await rows("SELECT id FROM mock_events WHERE type = 'payment_intent.payment_failed' AND data->'data'->'object'->>'id' = :id", { id: pi.id })).to.have.length(1);
    });
  });

  describe('the mock refuses amounts Stripe refuses (the one currency table)', () => {
    const mock = () => new MockProvider({ latencyMs: 0, successRate: 1, sequelize: testDatabase() });

    it('when a KWD refund of 1005 reaches the mock, then it is refused (param amount) and a refund of 1000 is made', async () => {
      const provider = mock();
      const pi = await provider.createPaymentIntent(
        { paymentId: 'pay_kwd_1', amount: 18600, currency: 'kwd', metadata: {}, paymentMethod: 'pm_card_visa' },
        { idempotencyKey: 'kwd-1:create' },
      );
      const err = await provider
        .createRefund({ paymentIntentId: pi.id, amount: 1005, refundId: 'ref_kwd_a', paymentId: 'pay_kwd_1' }, { idempotencyKey: 'ref_kwd_a:create' })
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ProviderRejectedError);
      expect(err).to.include({ code: 'parameter_invalid', param: 'amount' });
      const ok = await provider.createRefund({ paymentIntentId: pi.id, amount: 1000, refundId: 'ref_kwd_b', paymentId: 'pay_kwd_1' }, { idempotencyKey: 'ref_kwd_b:create' });
      expect(ok).to.include({ amount: 1000, status: 'succeeded' });
    });

    it('when a KWD intent of 18605 reaches the mock, then it is refused and no intent is made', async () => {
      const err = await mock()
        .createPaymentIntent({ paymentId: 'pay_kwd_2', amount: 18605, currency: 'kwd', metadata: {} }, { idempotencyKey: 'kwd-2:create' })
        .catch((e: unknown) => e);
      expect(err).to.include({ code: 'parameter_invalid', param: 'amount' });
      expect(await rows("SELECT id FROM mock_payment_intents WHERE data->'metadata'->>'payment_id' = 'pay_kwd_2'")).to.have.length(0);
    });
  });
});

describe('listEvents: the events a provider emitted, as Stripe\'s GET /v1/events lists them', () => {
  it('when the mock lists its events, then newest first, paged with starting_after, filtered by created and delivery_success', async () => {
    const mock = new MockProvider({ latencyMs: 0, successRate: 1 });
    const since = Math.floor(Date.now() / 1000);
    const pi = await mock.createPaymentIntent({ paymentId: 'pay_events_1', amount: 2000, currency: 'usd', metadata: {}, paymentMethod: 'pm_card_visa' }, { idempotencyKey: 'events-1' });
    const all = await mock.listEvents({ limit: 100 });
    expect(all.data.map((e) => e.type)).to.deep.equal(['payment_intent.succeeded', 'payment_intent.created']);
    expect(all.hasMore).to.equal(false);

    const first = await mock.listEvents({ limit: 1, createdGte: since });
    expect(first).to.deep.include({ hasMore: true });
    expect(first.data.map((e) => e.type)).to.deep.equal(['payment_intent.succeeded']);
    const second = await mock.listEvents({ limit: 1, startingAfter: String(first.data[0].id) });
    expect(second.data.map((e) => e.type)).to.deep.equal(['payment_intent.created']);
    expect(await mock.listEvents({ createdGte: since + 3600 })).to.deep.equal({ data: [], hasMore: false });

    await mock.recordDelivery(String(first.data[0].id), true);
    expect((await mock.listEvents({ deliverySuccess: false })).data.map((e) => e.type)).to.deep.equal(['payment_intent.created']);
    expect((await mock.listEvents({ deliverySuccess: true })).data.map((e) => (e.data as { object: { id: string } }).object.id)).to.deep.equal([pi.id]);
  });

  it('when the Stripe provider lists events, then it asks GET /v1/events with created[gte], delivery_success, limit and starting_after', async () => {
    const stripe = await withFakeStripe();
    try {
      const { container } = buildTestApp({ fakeStripe: stripe });
      const page = await container.provider.listEvents({ createdGte: 1_764_000_000, deliverySuccess: false, limit: 50, startingAfter: 'evt_1' });
      expect(page).to.deep.equal({ data: [], hasMore: false });
      const [call] = stripe.callsTo('GET', /^\/v1\/events$/);
      expect(call.query).to.deep.equal({ 'created[gte]': '1764000000', delivery_success: 'false', limit: '50', starting_after: 'evt_1' });
    } finally {
      await stripe.stop();
    }
  });
});
