import { expect } from 'chai';
import nock from 'nock';
import request from 'supertest';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe, type TestApp } from '../../helpers/test-app';

const ORDERS = 'http://orders.example.test';
const ORDER_TOKEN = 'order-service-token-for-tests';

/** The order service's settings for these tests: short timeouts, and a breaker that stays closed unless a test wants it open. */
const ORDER_ENV = {
  ORDER_SERVICE_URL: ORDERS,
  ORDER_SERVICE_TOKEN: ORDER_TOKEN,
  ORDER_SERVICE_TIMEOUT_MS: '2000',
  ORDER_SERVICE_ATTEMPT_TIMEOUT_MS: '300',
  ORDER_SERVICE_RETRIES: '2',
  ORDER_SERVICE_BREAKER_MIN_REQUESTS: '1000',
};

interface OrderBody {
  id: string;
  user_id: string;
  amount: unknown;
  currency: unknown;
  status: unknown;
}

describe('POST /v1/payments priced by the order service (issue #9)', () => {
  let stripe: FakeStripe;
  let t: TestApp;
  let user: string;
  let token: string;

  before(async () => {
    stripe = await withFakeStripe();
    t = buildTestApp({ fakeStripe: stripe, env: ORDER_ENV });
  });
  after(() => stripe.stop());
  beforeEach(() => {
    stripe.reset();
    user = newUserId();
    token = tokenFor(user);
  });
  afterEach(() => nock.cleanAll());

  const order = (id: string, overrides: Partial<OrderBody> = {}): OrderBody => ({ id, user_id: user, amount: 2000, currency: 'usd', status: 'pending', ...overrides });

  /** The order service answering one GET for `orderId`, only with our token and the caller's id. */
  const orderService = (orderId: string, status: number, body: unknown, asUser = user) =>
    nock(ORDERS, { reqheaders: { authorization: `Bearer ${ORDER_TOKEN}`, 'x-user-id': asUser } })
      .get(`/v1/orders/${encodeURIComponent(orderId)}`)
      .reply(status, body as nock.Body);

  const create = (body: object, key?: string) => {
    const req = request(t.app).post('/v1/payments').set(bearer(token));
    return key ? req.set('Idempotency-Key', key).send(body) : req.send(body);
  };
  const paymentsOf = (orderId: string) =>
    rows<{ id: string; amount: string; currency: string; order_amount: string | null; order_currency: string | null; order_checked_at: Date | null }>(
      'SELECT id, amount, currency, order_amount, order_currency, order_checked_at FROM payments WHERE user_id = :user AND order_id = :orderId',
      { user, orderId },
    );
  const intentCreations = () => stripe.callsTo('POST', /^\/v1\/payment_intents$/);

  it('when only an order_id is sent, then amount and currency come from the order, the PaymentIntent is for them, and the check is recorded', async () => {
    const orderId = 'ord_priced/1 ?#';
    const scope = orderService(orderId, 200, order(orderId, { amount: 4250, currency: 'eur' }));

    const res = await create({ order_id: orderId }, 'key-priced-1');

    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ amount: 4250, currency: 'eur', order_id: orderId, user_id: user });
    expect(res.body).to.not.have.property('order_check'); // customers see the amount, not the audit trail
    expect(scope.isDone()).to.equal(true);
    const [row] = await paymentsOf(orderId);
    expect(row).to.include({ amount: '4250', currency: 'eur', order_amount: '4250', order_currency: 'eur' });
    expect(row.order_checked_at).to.be.instanceOf(Date);
    expect(intentCreations().map((c) => [c.body.amount, c.body.currency])).to.deep.equal([['4250', 'eur']]);

    const asAdmin = await request(t.app).get(`/v1/payments/${res.body.id}`).set(bearer(tokenFor('admin_orders', 'admin')));
    expect(asAdmin.body.order_check).to.deep.include({ amount: 4250, currency: 'eur' });
    expect(new Date(asAdmin.body.order_check.checked_at).getTime()).to.equal(row.order_checked_at!.getTime());

    const metrics = (await request(t.app).get('/metrics')).text;
    expect(metrics).to.match(/order_lookups_total\{result="found"\} [1-9]/);
    expect(metrics).to.match(/order_lookup_duration_seconds_count\{result="found"\} [1-9]/);
    expect(metrics).to.match(/order_service_circuit_state\{state="closed"\} 1/);
  });

  it('when the client sends the order’s own amount and currency, then the payment is created as usual', async () => {
    const scope = orderService('ord_same', 200, order('ord_same'));
    const res = await create({ order_id: 'ord_same', amount: 2000, currency: 'usd' });
    expect(res.status, res.text).to.equal(201);
    expect(scope.isDone()).to.equal(true);
    expect(await paymentsOf('ord_same')).to.have.length(1);
  });

  it('when the client amount or currency disagrees with the order, then 422 amount_mismatch naming the field, and nothing is created or charged', async () => {
    const amountScope = orderService('ord_mismatch', 200, order('ord_mismatch'));
    const amount = await create({ order_id: 'ord_mismatch', amount: 1500, currency: 'usd' }, 'key-mismatch-1');
    expectApiError(amount, { status: 422, type: 'invalid_request_error', code: 'amount_mismatch', param: 'amount' });

    const currencyScope = orderService('ord_mismatch', 200, order('ord_mismatch'));
    const currency = await create({ order_id: 'ord_mismatch', currency: 'eur' });
    expectApiError(currency, { status: 422, type: 'invalid_request_error', code: 'amount_mismatch', param: 'currency' });

    expect(amountScope.isDone() && currencyScope.isDone()).to.equal(true);
    expect(await paymentsOf('ord_mismatch')).to.deep.equal([]);
    expect(intentCreations()).to.deep.equal([]);
  });

  it('when the order belongs to another user, or the order service has no such order, then 404 order_not_found and nothing is created', async () => {
    const theirs = orderService('ord_theirs', 200, order('ord_theirs', { user_id: 'u_someone_else' }));
    expectApiError(await create({ order_id: 'ord_theirs' }), { status: 404, type: 'not_found', code: 'order_not_found', param: 'order_id' });

    const missing = orderService('ord_missing', 404, { error: 'not found' });
    expectApiError(await create({ order_id: 'ord_missing' }, 'key-missing'), { status: 404, type: 'not_found', code: 'order_not_found', param: 'order_id' });

    expect(theirs.isDone() && missing.isDone()).to.equal(true);
    expect([...(await paymentsOf('ord_theirs')), ...(await paymentsOf('ord_missing'))]).to.deep.equal([]);
    expect(intentCreations()).to.deep.equal([]);
  });

  it('when an admin pays an order, then the order must be the admin’s own (the payment’s user): a customer’s order is 404', async () => {
    const admin = 'admin_orders_2';
    const scope = orderService('ord_customers', 200, order('ord_customers'), admin);
    const res = await request(t.app).post('/v1/payments').set(bearer(tokenFor(admin, 'admin'))).send({ order_id: 'ord_customers' });
    expectApiError(res, { status: 404, type: 'not_found', code: 'order_not_found', param: 'order_id' });
    expect(scope.isDone()).to.equal(true);
    expect(await rows('SELECT id FROM payments WHERE order_id = :o', { o: 'ord_customers' })).to.deep.equal([]);
  });

  it('when the order is already paid or canceled, then 409 order_not_payable and nothing is created', async () => {
    for (const status of ['paid', 'canceled']) {
      const scope = orderService(`ord_${status}`, 200, order(`ord_${status}`, { status }));
      const res = await create({ order_id: `ord_${status}` }, `key-${status}`);
      expectApiError(res, { status: 409, type: 'conflict', code: 'order_not_payable', param: 'order_id', extra: ['order_status'] });
      expect(res.body.error.order_status).to.equal(status);
      expect(scope.isDone()).to.equal(true);
      expect(await paymentsOf(`ord_${status}`)).to.deep.equal([]);
    }
    expect(intentCreations()).to.deep.equal([]);
  });

  it('when the order service answers 500 once and then 200, then the GET is retried and the payment is created once', async () => {
    const failing = nock(ORDERS).get('/v1/orders/ord_flaky').reply(500, 'oops');
    const ok = orderService('ord_flaky', 200, order('ord_flaky'));
    const res = await create({ order_id: 'ord_flaky' }, 'key-flaky');
    expect(res.status, res.text).to.equal(201);
    expect(failing.isDone() && ok.isDone()).to.equal(true);
    expect(await paymentsOf('ord_flaky')).to.have.length(1);
    expect(intentCreations()).to.have.length(1);
  });

  it('when the order service answers 4xx other than 404 (our token refused), then it is not retried: 502 and nothing created', async () => {
    const refused = nock(ORDERS).get('/v1/orders/ord_401').reply(401, { error: 'bad token' });
    const retried = nock(ORDERS).get('/v1/orders/ord_401').reply(200, order('ord_401'));
    const res = await create({ order_id: 'ord_401' });
    expectApiError(res, { status: 502, type: 'api_error', code: 'order_service_invalid_response', param: null });
    expect(refused.isDone()).to.equal(true);
    expect(retried.isDone()).to.equal(false);
    expect(await paymentsOf('ord_401')).to.deep.equal([]);
  });

  it('when the order service times out, then 503 with Retry-After, nothing stored, the key released, and the same key creates the payment once the service is back', async () => {
    const slow = nock(ORDERS).get('/v1/orders/ord_slow').times(3).delay(5_000).reply(200, order('ord_slow'));
    const first = await create({ order_id: 'ord_slow' }, 'key-slow');
    expectApiError(first, { status: 503, type: 'api_error', code: 'order_service_unavailable', param: null });
    expect(Number(first.headers['retry-after'])).to.be.at.least(1);
    expect(slow.pendingMocks().length).to.be.lessThan(3); // it was called (and retried while the deadline allowed)
    expect(await paymentsOf('ord_slow')).to.deep.equal([]);
    expect(intentCreations()).to.deep.equal([]);
    const [key] = await rows<{ locked_at: Date | null; response_status: number | null; payment_id: string | null }>(
      `SELECT locked_at, response_status, payment_id FROM idempotency_keys WHERE user_id = :user AND idempotency_key = 'key-slow'`,
      { user },
    );
    expect(key).to.deep.equal({ locked_at: null, response_status: null, payment_id: null });

    nock.cleanAll();
    const back = orderService('ord_slow', 200, order('ord_slow'));
    const retry = await create({ order_id: 'ord_slow' }, 'key-slow');
    expect(retry.status, retry.text).to.equal(201);
    expect(back.isDone()).to.equal(true);
    const again = await create({ order_id: 'ord_slow' }, 'key-slow');
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(again.text).to.equal(retry.text);
    expect(await paymentsOf('ord_slow')).to.have.length(1);
    expect(intentCreations()).to.have.length(1);
  });

  it('when the order service answers something that is not an order, then 502 order_service_invalid_response and never a payment', async () => {
    const malformed: Array<[string, unknown]> = [
      ['amount as a string', order('ord_bad', { amount: '2000' })],
      ['a fractional amount', order('ord_bad', { amount: 20.5 })],
      ['a negative amount', order('ord_bad', { amount: -2000 })],
      ['an unknown currency', order('ord_bad', { currency: 'xyz' })],
      ['an unknown status', order('ord_bad', { status: 'open' })],
      ['another order', order('ord_other')],
      ['no owner', { id: 'ord_bad', amount: 2000, currency: 'usd', status: 'pending' }],
      ['HTML', '<html>orders</html>'],
      ['a body over the size bound', { ...order('ord_bad'), padding: 'x'.repeat(32 * 1024) }],
    ];
    for (const [what, body] of malformed) {
      const scope = orderService('ord_bad', 200, body);
      const res = await create({ order_id: 'ord_bad' }, `key-bad-${what.replace(/\W/g, '-')}`);
      expectApiError(res, { status: 502, type: 'api_error', code: 'order_service_invalid_response', param: null });
      expect(scope.isDone(), what).to.equal(true);
    }
    expect(await paymentsOf('ord_bad')).to.deep.equal([]);
    expect(intentCreations()).to.deep.equal([]);
    const metrics = await request(t.app).get('/metrics');
    expect(metrics.text).to.match(/order_lookups_total\{result="invalid_response"\} ([9]|[1-9]\d+)/);
  });

  it('when the order service answers with a redirect, then it is not followed: 502, the other host is never called, nothing created', async () => {
    const elsewhere = nock('http://elsewhere.example.test').get(/.*/).reply(200, order('ord_moved'));
    const redirect = nock(ORDERS).get('/v1/orders/ord_moved').reply(302, '', { Location: 'http://elsewhere.example.test/v1/orders/ord_moved' });
    const res = await create({ order_id: 'ord_moved' }, 'key-moved');
    expectApiError(res, { status: 502, type: 'api_error', code: 'order_service_invalid_response', param: null });
    expect(redirect.isDone()).to.equal(true);
    expect(elsewhere.isDone()).to.equal(false);
    expect(await paymentsOf('ord_moved')).to.deep.equal([]);

    // A 502 is not stored under the key either: once the order service answers properly, the same key works.
    const fixed = orderService('ord_moved', 200, order('ord_moved'));
    const retry = await create({ order_id: 'ord_moved' }, 'key-moved');
    expect(retry.status, retry.text).to.equal(201);
    expect(fixed.isDone()).to.equal(true);
    expect(await paymentsOf('ord_moved')).to.have.length(1);
  });

  it('when there is no order_id, then amount and currency stay required (400) and the order service is not called', async () => {
    const missing = await create({ currency: 'usd' });
    expectApiError(missing, { status: 400, type: 'invalid_request_error', code: 'parameter_missing', param: 'amount' });
    const res = await create({ amount: 2000, currency: 'usd' });
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ amount: 2000, order_id: null });
  });

  it('when the order_id is "." or "..", then 400 and no call (URL parsing would turn it into another path)', async () => {
    for (const orderId of ['.', '..']) {
      expectApiError(await create({ order_id: orderId }), { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'order_id' });
    }
  });

  it('when /openapi.json is read, then amount and currency are optional and the order errors are documented', async () => {
    const res = await request(t.app).get('/openapi.json');
    const schema = res.body.components.schemas.CreatePayment;
    expect(schema.required ?? []).to.not.include.members(['amount']);
    expect(schema.properties.amount.description).to.match(/order/);
    const post = res.body.paths['/v1/payments'].post;
    expect(post.description).to.include('GET {ORDER_SERVICE_URL}/v1/orders/{order_id}');
    for (const code of ['order_not_found', 'order_not_payable', 'amount_mismatch', 'order_service_unavailable', 'order_service_invalid_response']) {
      expect(JSON.stringify(post.responses)).to.include(code);
    }
  });
});

describe('the order service circuit breaker', () => {
  let t: TestApp;
  let user: string;
  let token: string;

  before(() => {
    t = buildTestApp({
      env: { ...ORDER_ENV, ORDER_SERVICE_RETRIES: '0', ORDER_SERVICE_BREAKER_MIN_REQUESTS: '2', ORDER_SERVICE_BREAKER_RESET_MS: '500' },
    });
    user = newUserId();
    token = tokenFor(user);
  });
  afterEach(() => nock.cleanAll());

  const create = (orderId: string) => request(t.app).post('/v1/payments').set(bearer(token)).send({ order_id: orderId });
  const metric = async (pattern: RegExp) => pattern.test((await request(t.app).get('/metrics')).text);

  it('when lookups keep failing, then it opens and answers 503 at once without a call (/ready stays 200), then half-opens and closes on a success', async () => {
    const failing = nock(ORDERS).get('/v1/orders/ord_cb').times(2).reply(503, 'down');
    for (let i = 0; i < 2; i++) {
      expectApiError(await create('ord_cb'), { status: 503, type: 'api_error', code: 'order_service_unavailable', param: null });
    }
    expect(failing.isDone()).to.equal(true);
    expect(await metric(/order_service_circuit_state\{state="open"\} 1/)).to.equal(true);

    const healthy = nock(ORDERS).get('/v1/orders/ord_cb').reply(200, { id: 'ord_cb', user_id: user, amount: 2000, currency: 'usd', status: 'pending' });
    const shortCircuited = await create('ord_cb');
    expectApiError(shortCircuited, { status: 503, type: 'api_error', code: 'order_service_unavailable', param: null });
    expect(Number(shortCircuited.headers['retry-after'])).to.be.at.least(1);
    expect(healthy.isDone()).to.equal(false); // no call while open
    expect(await metric(/order_lookups_total\{result="short_circuited"\} 1/)).to.equal(true);
    expect((await request(t.app).get('/ready')).status).to.equal(200); // a dependency of one route, not of the process
    expect(await rows('SELECT id FROM payments WHERE user_id = :user', { user })).to.deep.equal([]);

    // The reset timeout elapses on its own; poll for the half-open state rather than timing it.
    for (let waited = 0; !(await metric(/order_service_circuit_state\{state="half_open"\} 1/)); waited += 100) {
      if (waited > 15_000) throw new Error('the breaker never half-opened');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const res = await create('ord_cb');
    expect(res.status, res.text).to.equal(201);
    expect(healthy.isDone()).to.equal(true);
    expect(await metric(/order_service_circuit_state\{state="closed"\} 1/)).to.equal(true);
    expect(await rows('SELECT id FROM payments WHERE user_id = :user', { user })).to.have.length(1);
  });
});
