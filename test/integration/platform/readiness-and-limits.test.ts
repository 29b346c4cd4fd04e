import { expect } from 'chai';
import request from 'supertest';
import { createApp } from '../../../src/app';
import { buildContainer } from '../../../src/container';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import { createSequelize } from '../../../src/shared/db/database';
import { connectRedis, redisReady } from '../../../src/shared/redis';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { testDatabase } from '../../helpers/database';
import { buildTestApp, testConfig } from '../../helpers/test-app';

describe('readiness and rate limits', () => {
  const mock = () => new MockProvider({ latencyMs: 0, successRate: 1 });

  it('when the database cannot be reached, then /ready answers 503 naming the database, and /health still answers 200', async () => {
    const deadDb = createSequelize('postgres://postgres@127.0.0.1:1/none', { poolMax: 1 });
    const app = createApp(buildContainer({ config: testConfig(), sequelize: deadDb, provider: mock() }));
    try {
      const ready = await request(app).get('/ready');
      expect(ready.status).to.equal(503);
      expect(ready.body.down).to.deep.equal(['database']);
      expect(ready.body.error).to.include({ type: 'api_error', code: 'service_unavailable' });
      expect((await request(app).get('/health')).status).to.equal(200);
    } finally {
      await deadDb.close();
    }
  });

  it('when a request needs the database and it is down, then a retryable 503 database_unavailable, without internals', async () => {
    const deadDb = createSequelize('postgres://postgres@127.0.0.1:1/none', { poolMax: 1 });
    const app = createApp(buildContainer({ config: testConfig(), sequelize: deadDb, provider: mock() }));
    try {
      const res = await request(app).get('/v1/payments').set(bearer(tokenFor(newUserId())));
      expectApiError(res, { status: 503, type: 'api_error', code: 'database_unavailable' });
      expect(res.headers['retry-after']).to.equal('1');
      expect(res.text).to.not.match(/ECONNREFUSED|127\.0\.0\.1/);
    } finally {
      await deadDb.close();
    }
  });

  it('when the process has started draining (SIGTERM), then /ready answers 503 draining while /health and the API still answer', async () => {
    const { app, container } = buildTestApp();
    expect((await request(app).get('/ready')).status).to.equal(200);
    container.lifecycle.beginDrain();
    const ready = await request(app).get('/ready');
    expect(ready.status).to.equal(503);
    expect(ready.headers['retry-after']).to.equal('5');
    expect(ready.body.status).to.equal('draining');
    expect(ready.body.error).to.include({ type: 'api_error', code: 'service_unavailable' });
    expect((await request(app).get('/health')).status).to.equal(200);
    expect((await request(app).get('/v1/payments').set(bearer(tokenFor(newUserId())))).status).to.equal(200);
  });

  it('when REDIS_URL points at nothing, then /ready answers 503 naming redis', async () => {
    const redis = connectRedis('redis://127.0.0.1:1');
    const app = createApp(buildContainer({ config: testConfig(), sequelize: testDatabase(), provider: mock(), redis }));
    try {
      const ready = await request(app).get('/ready');
      expect(ready.status).to.equal(503);
      expect(ready.body.down).to.deep.equal(['redis']);
      expect(ready.body.checks).to.deep.equal({ database: 'up', redis: 'down' });
    } finally {
      redis.disconnect();
    }
  });

  if (process.env.REDIS_URL) {
    it('when REDIS_URL answers, then /ready reports redis up and the rate limit is shared through it', async () => {
      const redis = connectRedis(process.env.REDIS_URL!);
      // The client has no offline queue (nothing waits on Redis): let it connect first, as main.ts does.
      await redisReady(redis, 10_000);
      const app = createApp(
        buildContainer({ config: testConfig({ RATE_LIMIT_PER_MINUTE: '2' }), sequelize: testDatabase(), provider: mock(), redis }),
      );
      try {
        expect((await request(app).get('/ready')).body.checks).to.deep.equal({ database: 'up', redis: 'up' });
        const token = tokenFor(newUserId());
        const statuses = [];
        for (let i = 0; i < 3; i += 1) statuses.push((await request(app).get('/v1/payments').set(bearer(token))).status);
        expect(statuses).to.deep.equal([200, 200, 429]);
      } finally {
        redis.disconnect();
      }
    });
  }

  it('when a user goes over RATE_LIMIT_PER_MINUTE, then 429 rate_limit_error with Retry-After, and other users are unaffected', async () => {
    const { app } = buildTestApp({ env: { RATE_LIMIT_PER_MINUTE: '3' } });
    const token = tokenFor(newUserId());
    for (let i = 0; i < 3; i += 1) expect((await request(app).get('/v1/payments').set(bearer(token))).status).to.equal(200);
    const limited = await request(app).get('/v1/payments').set(bearer(token));
    expectApiError(limited, { status: 429, type: 'rate_limit_error', code: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).to.be.greaterThan(0);
    expect((await request(app).get('/v1/payments').set(bearer(tokenFor(newUserId())))).status).to.equal(200);
  });

  it('when any response goes out, then helmet headers are set and X-Powered-By is not', async () => {
    const res = await request(buildTestApp().app).get('/health');
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
    expect(res.headers).to.not.have.property('x-powered-by');
  });
});
