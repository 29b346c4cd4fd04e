import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import { buildTestApp, type TestApp } from '../../helpers/test-app';

/**
 * A real order service on loopback (nock cannot cut a connection half-way through a body): its
 * first answers send the status and headers, part of the body, then drop the connection, as a
 * crashing or restarting order service (or a proxy in between) does.
 */
describe('POST /v1/payments when the order service cuts its answer mid-body (issue #9, QA)', () => {
  let server: http.Server;
  let cutsLeft = 0;
  let calls = 0;
  let t: TestApp;
  let user: string;
  let token: string;

  before(async () => {
    server = http.createServer((req, res) => {
      calls += 1;
      const id = decodeURIComponent(req.url!.split('/').pop()!);
      const body = JSON.stringify({ id, user_id: req.headers['x-user-id'], amount: 2000, currency: 'usd', status: 'pending' });
      res.setHeader('Content-Type', 'application/json');
      if (cutsLeft > 0) {
        cutsLeft -= 1;
        res.setHeader('Content-Length', String(body.length));
        res.write(body.slice(0, 10));
        setImmediate(() => req.socket.destroy());
        return;
      }
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t = buildTestApp({
      env: {
        ORDER_SERVICE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        ORDER_SERVICE_TIMEOUT_MS: '5000',
        ORDER_SERVICE_RETRIES: '2',
        ORDER_SERVICE_BREAKER_MIN_REQUESTS: '1000',
      },
    });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    user = newUserId();
    token = tokenFor(user);
    calls = 0;
  });

  const create = (orderId: string, key: string) =>
    request(t.app).post('/v1/payments').set(bearer(token)).set('Idempotency-Key', key).send({ order_id: orderId });
  const paymentsOf = (orderId: string) => rows('SELECT id, amount FROM payments WHERE user_id = :user AND order_id = :orderId', { user, orderId });

  it('when one answer is cut mid-body, then the GET is retried like any network fault and the payment is created for the order amount', async () => {
    cutsLeft = 1;
    const res = await create('ord_cut_once', 'key-cut-once');
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ amount: 2000, currency: 'usd' });
    expect(calls).to.equal(2);
    expect(await paymentsOf('ord_cut_once')).to.have.length(1);
  });

  it('when every answer is cut mid-body, then 503 order_service_unavailable with Retry-After (not 502), nothing stored, and the same key works once it answers whole', async () => {
    cutsLeft = 3;
    const first = await create('ord_cut_always', 'key-cut-always');
    expectApiError(first, { status: 503, type: 'api_error', code: 'order_service_unavailable', param: null });
    expect(Number(first.headers['retry-after'])).to.be.at.least(1);
    expect(calls).to.equal(3);
    expect(await paymentsOf('ord_cut_always')).to.deep.equal([]);

    const retry = await create('ord_cut_always', 'key-cut-always');
    expect(retry.status, retry.text).to.equal(201);
    expect(await paymentsOf('ord_cut_always')).to.have.length(1);
  });
});
