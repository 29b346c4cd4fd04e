import { expect } from 'chai';
import jwt, { type Algorithm } from 'jsonwebtoken';
import request from 'supertest';
import type { Express } from 'express';
import { expectApiError } from '../../helpers/api-error';
import { bearer, expiredToken, newUserId, TEST_JWT_SECRET, tokenFor, unsignedToken } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import { recording, type RecordingProvider } from '../../helpers/recording-provider';
import { buildTestApp } from '../../helpers/test-app';
import { MockProvider } from '../../../src/providers/mock/mock-provider';

const inTenMinutes = () => Math.floor(Date.now() / 1000) + 600;

function signed(claims: Record<string, unknown>, options: { secret?: string; algorithm?: Algorithm } = {}): string {
  return jwt.sign(claims, options.secret ?? TEST_JWT_SECRET, { algorithm: options.algorithm ?? 'HS256' });
}

describe('authentication of /v1 (bearer JWT, HS256 pinned)', () => {
  let app: Express;
  let provider: RecordingProvider;
  let user: string;

  before(() => {
    provider = recording(new MockProvider({ latencyMs: 0, successRate: 1 }));
    app = buildTestApp({ provider }).app;
  });
  beforeEach(() => {
    provider.calls.length = 0;
    user = newUserId();
  });

  const create = (headers: Record<string, string>) =>
    request(app).post('/v1/payments').set(headers).send({ amount: 2000, currency: 'usd', order_id: 'ord_auth' });

  /** A refused token must not let anything through: no payment for its subject, no provider call. */
  async function expectRefused(headers: Record<string, string>, code: string): Promise<void> {
    const res = await create(headers);
    expectApiError(res, { status: 401, type: 'authentication_error', code });
    expect(await rows('SELECT id FROM payments WHERE user_id = :user', { user })).to.have.length(0);
    expect(provider.calls).to.have.length(0);
  }

  it('when the token is valid, then the request goes through as its subject', async () => {
    const res = await create(bearer(tokenFor(user)));
    expect(res.status, res.text).to.equal(201);
    expect(res.body.user_id).to.equal(user);
    expect(await rows('SELECT user_id FROM payments WHERE id = :id', { id: res.body.id })).to.deep.equal([{ user_id: user }]);
    expect(provider.callsTo('createPaymentIntent')).to.have.length(1);
  });

  it('when there is no Authorization header, then 401 token_missing', async () => {
    await expectRefused({}, 'token_missing');
  });

  it('when the scheme is not Bearer, then 401 token_missing', async () => {
    await expectRefused({ Authorization: `Basic ${Buffer.from(`${user}:pw`).toString('base64')}` }, 'token_missing');
  });

  it('when the token is not a JWT, then 401 token_invalid', async () => {
    await expectRefused(bearer('not-a-jwt'), 'token_invalid');
  });

  it('when the token is signed with another secret, then 401 token_invalid', async () => {
    await expectRefused(bearer(tokenFor(user, 'customer', 'another-secret-that-is-long-enough-for-hs256-xyz')), 'token_invalid');
  });

  it('when the token has expired, then 401 token_expired', async () => {
    await expectRefused(bearer(expiredToken(user)), 'token_expired');
  });

  it('when the token is unsigned (alg: none), then 401 even though it claims admin', async () => {
    await expectRefused(bearer(unsignedToken(user, 'admin')), 'token_invalid');
  });

  for (const algorithm of ['HS384', 'HS512'] as const) {
    it(`when the token is signed ${algorithm} with the right secret, then 401 (only HS256 is accepted)`, async () => {
      await expectRefused(bearer(signed({ sub: user, role: 'customer', exp: inTenMinutes() }, { algorithm })), 'token_invalid');
    });
  }

  it('when the token has no exp, then 401 token_invalid', async () => {
    await expectRefused(bearer(signed({ sub: user, role: 'customer' })), 'token_invalid');
  });

  it('when the token has no sub, then 401 token_invalid', async () => {
    const res = await create(bearer(signed({ role: 'customer', exp: inTenMinutes() })));
    expectApiError(res, { status: 401, type: 'authentication_error', code: 'token_invalid' });
    expect(provider.calls).to.have.length(0);
  });

  it('when the role is neither customer nor admin, then 401 token_invalid', async () => {
    await expectRefused(bearer(signed({ sub: user, role: 'superuser', exp: inTenMinutes() })), 'token_invalid');
  });

  it('when a read is sent without a token, then 401 and no payment is revealed', async () => {
    const mine = await create(bearer(tokenFor(user)));
    const res = await request(app).get(`/v1/payments/${mine.body.id}`);
    expectApiError(res, { status: 401, type: 'authentication_error', code: 'token_missing' });
    expect(res.text).to.not.include(mine.body.id);
  });
});

describe('endpoints that take no token, and X-Request-Id', () => {
  let app: Express;

  before(() => {
    app = buildTestApp().app;
  });

  it('when /health is called without a token, then 200 ok', async () => {
    const res = await request(app).get('/health');
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ status: 'ok' });
  });

  it('when /ready is called without a token, then 200 with the database up', async () => {
    const res = await request(app).get('/ready');
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.include({ status: 'ready' });
    expect(res.body.checks).to.include({ database: 'up' });
  });

  it('when /metrics is called without a token, then 200 Prometheus text', async () => {
    const res = await request(app).get('/metrics');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.match(/^text\/plain/);
    expect(res.text).to.include('# TYPE http_request_duration_seconds histogram');
  });

  it('when /openapi.json is called without a token, then 200 with the contract', async () => {
    const res = await request(app).get('/openapi.json');
    expect(res.status).to.equal(200);
    expect(res.body.openapi).to.match(/^3\./);
    expect(res.body.paths).to.have.property('/v1/payments');
  });

  it('when the client sends X-Request-Id, then it is echoed in the header and in error bodies', async () => {
    const res = await request(app).get('/v1/payments').set('X-Request-Id', 'req-client-42');
    expect(res.headers['x-request-id']).to.equal('req-client-42');
    expectApiError(res, { status: 401, type: 'authentication_error', code: 'token_missing' });
    expect(res.body.error.request_id).to.equal('req-client-42');
  });

  it('when the client sends no X-Request-Id, then one is generated, different per request', async () => {
    const first = await request(app).get('/health');
    const second = await request(app).get('/health');
    expect(first.headers['x-request-id']).to.match(/^req_[0-9a-f]{32}$/);
    expect(second.headers['x-request-id']).to.match(/^req_[0-9a-f]{32}$/);
    expect(first.headers['x-request-id']).to.not.equal(second.headers['x-request-id']);
  });

  it('when the client X-Request-Id is not sane (too long), then a fresh one is generated instead', async () => {
    const res = await request(app).get('/health').set('X-Request-Id', 'r'.repeat(200));
    expect(res.headers['x-request-id']).to.match(/^req_[0-9a-f]{32}$/);
  });
});
