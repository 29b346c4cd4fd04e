import { expect } from 'chai';
import nock from 'nock';
import request from 'supertest';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import { buildTestApp, type TestApp } from '../../helpers/test-app';

const ORDERS = 'http://orders.example.test';

/**
 * The order_id is the caller's to choose. An answer about that one order (400 for an id the order
 * service finds malformed, 422, 410, or an answer for another id after it normalised ours) says
 * nothing about the service's health: if it opened the breaker, any customer could deny checkout to
 * every customer with a handful of odd order ids.
 */
describe('the order lookup breaker and answers about one order (issue #9, QA)', () => {
  let t: TestApp;
  let attacker: string;
  let victim: string;

  beforeEach(() => {
    // One app (one breaker) per case, and a reset long enough that an opened breaker stays open.
    t = buildTestApp({
      env: {
        ORDER_SERVICE_URL: ORDERS,
        ORDER_SERVICE_TIMEOUT_MS: '2000',
        ORDER_SERVICE_ATTEMPT_TIMEOUT_MS: '300',
        ORDER_SERVICE_RETRIES: '0',
        ORDER_SERVICE_BREAKER_MIN_REQUESTS: '2',
        ORDER_SERVICE_BREAKER_RESET_MS: '600000',
      },
    });
    attacker = newUserId();
    victim = newUserId();
  });
  afterEach(() => t.container.orders?.shutdown());
  afterEach(() => nock.cleanAll());

  const create = (user: string, orderId: string) => request(t.app).post('/v1/payments').set(bearer(tokenFor(user))).send({ order_id: orderId });

  it('when one customer sends order ids the order service refuses (400, 422, 410, another id), then each is 502 but the breaker stays closed and another customer still pays', async () => {
    nock(ORDERS)
      .get(`/v1/orders/${encodeURIComponent('ord_😀')}`).reply(400, { error: 'malformed id' })
      .get('/v1/orders/ord_bad_1').reply(422, { error: 'unprocessable' })
      .get('/v1/orders/ord_bad_2').reply(410, { error: 'gone' })
      .get('/v1/orders/ORD_BAD_3').reply(200, { id: 'ord_bad_3', user_id: attacker, amount: 2000, currency: 'usd', status: 'pending' });
    for (const id of ['ord_😀', 'ord_bad_1', 'ord_bad_2', 'ORD_BAD_3']) {
      expectApiError(await create(attacker, id), { status: 502, type: 'api_error', code: 'order_service_invalid_response', param: null });
    }
    expect((await request(t.app).get('/metrics')).text).to.match(/order_service_circuit_state\{state="closed"\} 1/);

    const healthy = nock(ORDERS).get('/v1/orders/ord_victim').reply(200, { id: 'ord_victim', user_id: victim, amount: 2000, currency: 'usd', status: 'pending' });
    const res = await create(victim, 'ord_victim');
    expect(res.status, res.text).to.equal(201);
    expect(healthy.isDone()).to.equal(true);
    expect(await rows('SELECT id FROM payments WHERE user_id = :attacker', { attacker })).to.deep.equal([]);
  });

  it('when the order service refuses our token (401), then that still counts: the breaker opens', async () => {
    nock(ORDERS).get(/\/v1\/orders\/ord_tok_\d/).times(2).reply(401, { error: 'bad token' });
    for (const id of ['ord_tok_1', 'ord_tok_2']) {
      expectApiError(await create(victim, id), { status: 502, type: 'api_error', code: 'order_service_invalid_response', param: null });
    }
    expect((await request(t.app).get('/metrics')).text).to.match(/order_service_circuit_state\{state="open"\} 1/);
  });
});
