import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { startService } from '../../bench/lib/service-process';
import { signDevToken } from '../../src/shared/auth/jwt-verifier';
import { KeepAliveLoad } from '../helpers/keep-alive-load';
import { serviceDatabase, type ServiceDatabase } from '../helpers/service-database';

/** Waits until `check` holds, polling; no timing is asserted, only that it eventually holds. */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * SIGTERM on the service as `npm start` runs it (child process; DATABASE_URL / REDIS_URL when set, else
 * the embedded database and in-process stand-ins). The exit code tells whether the drain finished
 * before SHUTDOWN_TIMEOUT_MS (0) or was forced (1).
 */
describe('graceful shutdown of the service process (SIGTERM)', function () {
  this.timeout(180_000);
  const jwtSecret = randomBytes(32).toString('hex');
  const redisEnv: Record<string, string> = process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {};
  let database: ServiceDatabase;

  beforeEach(async () => {
    database = await serviceDatabase();
  });
  afterEach(async () => {
    await database.drop();
  });

  it('when SIGTERM arrives under keep-alive load, then every request sent gets a full answer, kept-alive connections are told Connection: close, no idempotency key stays locked, and it exits 0', async () => {
    const service = await startService({
      jwtSecret,
      env: { ...database.env, ...redisEnv, MOCK_LATENCY_MS: '150', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '15000' },
    });
    const token = signDevToken(jwtSecret, { sub: 'u_drain', role: 'customer' });
    const load = new KeepAliveLoad(service.url, token, `drain-${Date.now()}`).start(4);
    let exitCode: number | null;
    try {
      await load.answeredAtLeast(3);
      exitCode = await service.stop();
      await load.finished();
    } finally {
      load.stop();
      await service.stop();
      await load.finished();
    }

    expect(exitCode, service.output().join('\n')).to.equal(0);
    expect(service.output().join('\n')).to.contain('"message":"stopped"');
    // A request either got its whole answer, or found no listener (connection refused, never sent).
    const cut = load.outcomes.filter((o) => o.error !== undefined && o.error !== 'ECONNREFUSED');
    expect(cut, 'requests cut by the shutdown').to.deep.equal([]);
    const answered = load.outcomes.filter((o) => o.status !== undefined);
    expect(answered.filter((o) => o.status !== 201), 'answers other than 201').to.deep.equal([]);
    for (let client = 0; client < 4; client += 1) {
      const mine = load.outcomes.filter((o) => o.client === client);
      // Each client's last answer closed its kept-alive connection; its next try found the listener gone.
      expect(mine.at(-2)?.connection, `client ${client}`).to.equal('close');
      expect(mine.at(-1)).to.include({ error: 'ECONNREFUSED', reusedSocket: false });
      expect(mine.slice(0, -2).every((o) => o.connection === 'keep-alive'), `client ${client} kept alive before SIGTERM`).to.equal(true);
    }

    const keys = await database.query<{ idempotency_key: string; locked: boolean; finished: boolean }>(
      `SELECT idempotency_key, locked_at IS NOT NULL AS locked, response_status IS NOT NULL AS finished FROM idempotency_keys`,
    );
    expect(keys.filter((k) => k.locked), 'keys left locked').to.deep.equal([]);
    expect(keys.map((k) => k.idempotency_key).sort()).to.deep.equal(answered.map((o) => o.key).sort());
    expect(keys.every((k) => k.finished)).to.equal(true);
  });

  it('when SIGTERM arrives with an outbox backlog for a slow receiver and no traffic, then the dispatcher stops after the delivery in hand, nothing is lost, and it exits 0', async () => {
    let received = 0;
    const receiver = http.createServer((req, res) => {
      req.resume();
      received += 1;
      setTimeout(() => res.writeHead(200).end('{}'), 2_000).unref();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
    const service = await startService({
      jwtSecret,
      env: { ...database.env, ...redisEnv, EVENT_WEBHOOK_URLS: receiverUrl, LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '15000' },
    });
    let exitCode: number | null;
    try {
      const token = signDevToken(jwtSecret, { sub: 'u_backlog', role: 'customer' });
      for (let i = 0; i < 12; i += 1) {
        const res = await fetch(`${service.url}/v1/payments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ amount: 500 + i, currency: 'usd' }),
        });
        expect(res.status).to.equal(201);
      }
      // 12 events at 2 s each to the receiver: a backlog far longer than the shutdown timeout.
      await until(() => received >= 1, 'the first delivery to the slow receiver');
      exitCode = await service.stop();
    } finally {
      await service.stop();
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }

    expect(exitCode, service.output().join('\n')).to.equal(0);
    expect(service.output().join('\n')).to.contain('"message":"stopped"');
    const deliveries = await database.query<{ state: string; n: number }>(
      `SELECT state, count(*)::int AS n FROM outbox_deliveries WHERE target LIKE 'webhook:%' GROUP BY state`,
    );
    const byState = Object.fromEntries(deliveries.map((d) => [d.state, Number(d.n)]));
    expect(byState.dead ?? 0).to.equal(0);
    expect((byState.pending ?? 0) + (byState.delivered ?? 0)).to.be.at.least(12);
    expect(byState.pending ?? 0, 'the backlog is left for the next instance').to.be.greaterThan(0);
  });

  it('when the drain runs out of SHUTDOWN_TIMEOUT_MS with a request in flight, then the key of the abandoned request is unlocked before the process exits 1', async () => {
    const service = await startService({
      jwtSecret,
      env: { ...database.env, ...redisEnv, MOCK_LATENCY_MS: '20000', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '1000' },
    });
    const token = signDevToken(jwtSecret, { sub: 'u_forced', role: 'customer' });
    let exitCode: number | null;
    try {
      const inFlight = fetch(`${service.url}/v1/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'forced-1' },
        body: JSON.stringify({ amount: 700, currency: 'usd' }),
      }).catch(() => undefined);
      await until(
        async () => {
          const res = await fetch(`${service.url}/v1/payments`, { headers: { authorization: `Bearer ${token}` } });
          return ((await res.json()) as { data: unknown[] }).data.length === 1;
        },
        'the payment row of the request in flight',
      );
      exitCode = await service.stop();
      await inFlight;
    } finally {
      await service.stop();
    }

    expect(exitCode).to.equal(1);
    expect(service.output().join('\n')).to.contain('shutdown timed out');
    const keys = await database.query<{ idempotency_key: string; locked: boolean }>(
      `SELECT idempotency_key, locked_at IS NOT NULL AS locked FROM idempotency_keys`,
    );
    expect(keys).to.deep.equal([{ idempotency_key: 'forced-1', locked: false }]);
  });
});
