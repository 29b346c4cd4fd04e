import { expect } from 'chai';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { createApp } from '../../../src/app';
import { buildContainer } from '../../../src/container';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import { connectRedis } from '../../../src/shared/redis';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { testDatabase } from '../../helpers/database';
import { OwnRedisServer } from '../../helpers/redis-server';
import { testConfig } from '../../helpers/test-app';

// A loose bound, far under the old stall (a command parked in the client's offline queue for up to
// 10 s, or forever with Redis paused): it proves there is no such wait, not how fast a request is.
const NO_STALL_MS = 3_000;

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a Redis outage (own redis-server, killed and paused under the app)', function () {
  this.timeout(90_000);
  let server: OwnRedisServer;
  let redis: Redis;
  let app: Express;
  const token = tokenFor(newUserId());

  beforeEach(async () => {
    server = await OwnRedisServer.start();
    redis = connectRedis(server.url);
    const config = testConfig({ RATE_LIMIT_PER_MINUTE: '1000' });
    app = createApp(buildContainer({ config, sequelize: testDatabase(), provider: new MockProvider({ latencyMs: 0, successRate: 1 }), redis }));
    await until(() => redis.status === 'ready', 'the app client to connect');
  });

  afterEach(async () => {
    redis.disconnect();
    await server.stop();
  });

  /** Authenticated requests through the rate limiter: each answers as usual, and none waits on Redis. */
  async function requestsStillAnswer(): Promise<void> {
    for (let i = 0; i < 4; i += 1) {
      const startedAt = Date.now();
      const created = await request(app).post('/v1/payments').set(bearer(token)).send({ amount: 1500 + i, currency: 'usd' });
      expect(created.status, created.text).to.equal(201);
      const listed = await request(app).get('/v1/payments').set(bearer(token));
      expect(listed.status).to.equal(200);
      expect(Date.now() - startedAt, 'two requests while Redis is out').to.be.below(NO_STALL_MS);
    }
  }

  async function readyNamesRedisDown(): Promise<void> {
    const ready = await request(app).get('/ready');
    expect(ready.status).to.equal(503);
    expect(ready.body.down).to.deep.equal(['redis']);
    expect(ready.body.checks).to.deep.equal({ database: 'up', redis: 'down' });
  }

  async function readyRecovers(): Promise<void> {
    await until(async () => (await request(app).get('/ready')).status === 200, '/ready to answer 200 again');
    const res = await request(app).get('/v1/payments').set(bearer(token));
    expect(res.status).to.equal(200);
    // The limiter counts in Redis again (not only in memory).
    expect(await redis.keys('payments:ratelimit:*')).to.have.length.greaterThan(0);
  }

  it('when Redis is killed, then authenticated requests keep answering 201/200 without waiting on Redis, /ready answers 503 naming redis, and both recover when it is back', async () => {
    expect((await request(app).get('/v1/payments').set(bearer(token))).status).to.equal(200);
    await server.kill();
    await until(() => redis.status !== 'ready', 'the app client to notice');

    await requestsStillAnswer();
    await readyNamesRedisDown();
    // Later in the outage the client's reconnect backoff has grown: still no wait.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await requestsStillAnswer();

    await server.restart();
    await readyRecovers();
  });

  it('when Redis stops answering (paused, connection open), then requests keep answering without waiting on it, /ready answers 503 naming redis, and both recover when it resumes', async () => {
    expect((await request(app).get('/v1/payments').set(bearer(token))).status).to.equal(200);
    server.pause();

    await requestsStillAnswer();
    await readyNamesRedisDown();

    server.resume();
    await readyRecovers();
  });
});
