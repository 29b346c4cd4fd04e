import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import nock from 'nock';
import request from 'supertest';
import { Redis } from 'ioredis';
import type { TestApp } from '../../helpers/test-app';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows, testDatabase } from '../../helpers/database';
import { buildTestApp } from '../../helpers/test-app';
import { buildContainer } from '../../../src/container';
import { createApp } from '../../../src/app';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import { connectRedis } from '../../../src/shared/redis';

const HOOKS = 'http://hooks.example.test';
const ORDERS = 'http://orders.example.test';
const SECRET = 'event-signing-secret-for-tests';

interface Received {
  type: string;
  paymentId: string;
  status: string;
}

describe('events emitted through the outbox (order service, signed webhooks, stream)', () => {
  let t: TestApp;
  let token: string;
  let hooks: Received[];
  let orders: Array<{ orderId: string; body: Record<string, unknown> }>;

  const env = { ORDER_SERVICE_URL: ORDERS, EVENT_WEBHOOK_URLS: `${HOOKS}/payments`, EVENT_WEBHOOK_SECRET: SECRET, OUTBOX_MAX_ATTEMPTS: '3' };

  /** A receiver that checks the signature as a consumer would. */
  function acceptHooks(times = 20) {
    return nock(HOOKS)
      .post('/payments')
      .times(times)
      .reply(function (_uri, body) {
        const raw = typeof body === 'string' ? body : JSON.stringify(body);
        const header = String(this.req.headers['payments-signature']);
        const [, ts, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) ?? [];
        const expected = createHmac('sha256', SECRET).update(`${ts}.${raw}`).digest('hex');
        if (v1 !== expected) return [400, 'bad signature'];
        const event = JSON.parse(raw) as { type: string; data: { payment: { id: string; status: string } } };
        hooks.push({ type: event.type, paymentId: event.data.payment.id, status: event.data.payment.status });
        return [204, ''];
      });
  }

  function acceptOrders(times = 20) {
    // With ORDER_SERVICE_URL set, the amount comes from the order (issue #9): the order service prices it too.
    nock(ORDERS)
      .get(/^\/v1\/orders\/[^/]+$/)
      .times(times)
      .reply(function (uri) {
        return [200, { id: decodeURIComponent(uri.split('/')[3]), user_id: this.req.headers['x-user-id'], amount: 2000, currency: 'usd', status: 'pending' }];
      });
    return nock(ORDERS)
      .patch(/\/v1\/orders\/[^/]+\/payment-status/)
      .times(times)
      .reply(function (uri, body) {
        orders.push({ orderId: decodeURIComponent(uri.split('/')[3]), body: body as Record<string, unknown> });
        return [200, {}];
      });
  }

  before(() => {
    t = buildTestApp({ env });
  });
  beforeEach(() => {
    token = tokenFor(newUserId());
    hooks = [];
    orders = [];
  });
  afterEach(() => nock.cleanAll());

  const pay = async (body: Record<string, unknown>) => {
    const res = await request(t.app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd', ...body });
    expect(res.status, res.text).to.be.oneOf([201, 402]);
    return res.body as { id: string };
  };
  const paymentOf = async (orderId: string) =>
    (await rows<{ id: string }>('SELECT id FROM payments WHERE order_id = :orderId', { orderId }))[0].id;
  const deliveriesOf = (paymentId: string) =>
    rows<{ target: string; state: string; attempts: number; type: string }>(
      `SELECT d.target, d.state, d.attempts, e.type FROM outbox_deliveries d JOIN outbox_events e ON e.id = d.event_id
        WHERE d.aggregate_id = :paymentId ORDER BY d.sequence, d.target`,
      { paymentId },
    );

  it('when a payment is created and succeeds, then every target gets both events, in order, signed, and the rows say delivered', async () => {
    acceptHooks();
    acceptOrders();
    await pay({ order_id: 'ord_events_1', payment_method: 'pm_card_visa' });
    const paymentId = await paymentOf('ord_events_1');

    await t.container.events.dispatcher.drain();

    expect(hooks.filter((h) => h.paymentId === paymentId).map((h) => `${h.type}:${h.status}`)).to.deep.equal([
      'payment.created:pending',
      'payment.succeeded:succeeded',
    ]);
    const mine = orders.filter((o) => o.body.payment_id === paymentId);
    expect(mine.map((o) => [o.orderId, o.body.event_type, o.body.status])).to.deep.equal([
      ['ord_events_1', 'payment.created', 'pending'],
      ['ord_events_1', 'payment.succeeded', 'succeeded'],
    ]);
    expect(mine[1].body).to.include({ amount: 2000, currency: 'usd', amount_refunded: 0 });
    const stream = t.container.events.inMemoryStream!.entries.filter((e) => e.aggregateId === paymentId);
    expect(stream.map((e) => e.type)).to.deep.equal(['payment.created', 'payment.succeeded']);
    const states = await deliveriesOf(paymentId);
    expect(states).to.have.length(6);
    expect(states.every((d) => d.state === 'delivered')).to.equal(true);
  });

  it('when a payment has no order, then the order service is not called for it (no delivery row)', async () => {
    acceptHooks();
    acceptOrders();
    const payment = await pay({});
    await t.container.events.dispatcher.drain();
    expect((await deliveriesOf(payment.id)).map((d) => d.target)).to.deep.equal(['stream', `webhook:${HOOKS}/payments`]);
    expect(orders.filter((o) => o.body.payment_id === payment.id)).to.deep.equal([]);
  });

  it('when a webhook receiver fails, then that target retries later and holds back the payment’s later events, the others are unaffected, and nothing is lost', async () => {
    acceptOrders();
    const failing = nock(HOOKS).post('/payments').times(3).reply(500, 'down'); // one attempt = 1 call + 2 quick retries
    await pay({ order_id: 'ord_events_2', payment_method: 'pm_card_visa' });
    const paymentId = await paymentOf('ord_events_2');

    await t.container.events.dispatcher.drain();

    expect(failing.isDone()).to.equal(true);
    const afterFailure = await deliveriesOf(paymentId);
    const hookRows = afterFailure.filter((d) => d.target.startsWith('webhook:'));
    expect(hookRows).to.deep.equal([
      { target: `webhook:${HOOKS}/payments`, state: 'pending', attempts: 1, type: 'payment.created' },
      { target: `webhook:${HOOKS}/payments`, state: 'pending', attempts: 0, type: 'payment.succeeded' },
    ]);
    expect(afterFailure.filter((d) => !d.target.startsWith('webhook:')).every((d) => d.state === 'delivered')).to.equal(true);

    acceptHooks();
    await rows(`UPDATE outbox_deliveries SET next_attempt_at = now() WHERE aggregate_id = :paymentId`, { paymentId });
    await t.container.events.dispatcher.drain();
    expect(hooks.filter((h) => h.paymentId === paymentId).map((h) => h.type)).to.deep.equal(['payment.created', 'payment.succeeded']);
  });

  it('when a target keeps failing past the last attempt, then the delivery is dead, listed for admins and in metrics, and an admin re-send delivers it', async () => {
    const lastTry = buildTestApp({ env: { ...env, OUTBOX_MAX_ATTEMPTS: '1' } });
    acceptOrders();
    nock(HOOKS).post('/payments').times(3).reply(503, 'unavailable');
    const res = await request(lastTry.app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });
    await lastTry.container.events.dispatcher.drain();

    const admin = tokenFor('admin_events', 'admin');
    const dead = await request(lastTry.app).get(`/v1/admin/event-deliveries?state=dead&payment_id=${res.body.id}`).set(bearer(admin));
    expect(dead.status).to.equal(200);
    expect(dead.body.data).to.have.length(1);
    expect(dead.body.data[0]).to.include({ object: 'event_delivery', state: 'dead', target: `webhook:${HOOKS}/payments`, attempts: 1 });
    expect(dead.body.data[0].last_error).to.match(/HTTP 503/);
    expect(dead.body.data[0].event).to.include({ type: 'payment.created' });
    const metrics = await request(lastTry.app).get('/metrics');
    expect(metrics.text).to.match(/outbox_deliveries_stored\{state="dead"\} [1-9]/);
    expect(metrics.text).to.match(/outbox_deliveries_total\{target="webhook",outcome="dead"\} [1-9]/);

    acceptHooks();
    const resent = await request(lastTry.app).post(`/v1/admin/event-deliveries/${dead.body.data[0].id}/resend`).set(bearer(admin));
    expect(resent.status, resent.text).to.equal(200);
    expect(resent.body).to.include({ state: 'delivered' });
    expect(hooks.filter((h) => h.paymentId === res.body.id).map((h) => h.type)).to.deep.equal(['payment.created']);

    const customer = await request(lastTry.app).get('/v1/admin/event-deliveries').set(bearer(token));
    expect(customer.status).to.equal(403);
    const unknown = await request(lastTry.app).post('/v1/admin/event-deliveries/dlv_999999999/resend').set(bearer(admin));
    expect(unknown.status).to.equal(404);
  });

  if (process.env.REDIS_URL) {
    it('when REDIS_URL is set, then the events land in the Redis stream payments:events', async () => {
      const redis = connectRedis(process.env.REDIS_URL!);
      const reader = new Redis(process.env.REDIS_URL!);
      try {
        const container = buildContainer({ config: t.config, sequelize: testDatabase(), provider: new MockProvider({ latencyMs: 0, successRate: 1 }), redis });
        acceptHooks();
        acceptOrders();
        const created = await request(createApp(container)).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });
        await container.events.dispatcher.drain();
        const entries = await reader.xrevrange('payments:events', '+', '-', 'COUNT', 200);
        const mine = entries.filter(([, fields]) => fields[fields.indexOf('payment_id') + 1] === created.body.id);
        expect(mine).to.have.length(1);
        const fields = mine[0][1];
        expect(fields[fields.indexOf('type') + 1]).to.equal('payment.created');
      } finally {
        redis.disconnect();
        reader.disconnect();
      }
    });
  }
});
