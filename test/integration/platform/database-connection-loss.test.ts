import { expect } from 'chai';
import type { QueryOptions } from 'sequelize';
import request from 'supertest';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows, terminateConnection, testDatabase, type PooledConnection } from '../../helpers/database';
import { buildTestApp } from '../../helpers/test-app';

/**
 * Kills the database connection under the app in the middle of a transaction, right after the first
 * statement matching `pattern` has run: on PostgreSQL with pg_terminate_backend on that connection's
 * backend (what a failover or an admin does), on the embedded database by cutting the socket (it
 * has one backend for everyone). Resolves once the client has seen its connection go, so the
 * transaction's next statement meets a client that is "not queryable".
 */
function killConnectionAfter(pattern: RegExp): { fired: () => boolean; disarm: () => void } {
  const sequelize = testDatabase();
  let armed = true;
  let fired = false;
  sequelize.addHook('afterQuery', 'kill-connection', async (options: QueryOptions & { transaction?: unknown }, query: unknown) => {
    const { sql, connection } = query as { sql?: string; connection: PooledConnection };
    if (!armed || !options.transaction || !sql || !pattern.test(sql)) return;
    armed = false;
    await terminateConnection(connection);
    fired = true;
  });
  return { fired: () => fired, disarm: () => sequelize.removeHook('afterQuery', 'kill-connection') };
}

describe('a database connection dropped under the app', () => {
  // With an order_id, so the create takes the order-lock path, which still begins the key in a
  // transaction of its own and writes the payment in another (the hook below fires only inside a
  // transaction). A create without an order writes key and payment in one autocommit statement.
  const payment = { amount: 2500, currency: 'usd', order_id: 'ord_conn_loss' };

  it('when the connection dies inside the Idempotency-Key transaction, then 503 database_unavailable with Retry-After (not 500), nothing is kept, and the retry with the same key is served 201', async () => {
    const { app } = buildTestApp();
    const userId = newUserId();
    const kill = killConnectionAfter(/INSERT INTO idempotency_keys/);
    let failed;
    try {
      failed = await request(app).post('/v1/payments').set(bearer(tokenFor(userId))).set('Idempotency-Key', 'conn-loss-1').send(payment);
    } finally {
      kill.disarm();
    }
    expect(kill.fired()).to.equal(true);
    expectApiError(failed, { status: 503, type: 'api_error', code: 'database_unavailable' });
    expect(failed.headers['retry-after']).to.equal('1');
    expect(failed.text).to.not.match(/queryable|terminated/i);
    expect(await rows(`SELECT id FROM idempotency_keys WHERE user_id = :userId`, { userId })).to.have.length(0);
    expect(await rows(`SELECT id FROM payments WHERE user_id = :userId`, { userId })).to.have.length(0);

    const retried = await request(app).post('/v1/payments').set(bearer(tokenFor(userId))).set('Idempotency-Key', 'conn-loss-1').send(payment);
    expect(retried.status, retried.text).to.equal(201);
    const payments = await rows<{ id: string }>(`SELECT id FROM payments WHERE user_id = :userId`, { userId });
    expect(payments.map((p) => p.id)).to.deep.equal([retried.body.id]);
  });

  it("when the connection dies inside the payment's own transaction, then 503 database_unavailable, the key is released (not locked for a minute), and the retry makes exactly one payment", async () => {
    const { app } = buildTestApp();
    const userId = newUserId();
    const kill = killConnectionAfter(/INSERT INTO payments/);
    let failed;
    try {
      failed = await request(app).post('/v1/payments').set(bearer(tokenFor(userId))).set('Idempotency-Key', 'conn-loss-2').send(payment);
    } finally {
      kill.disarm();
    }
    expect(kill.fired()).to.equal(true);
    expectApiError(failed, { status: 503, type: 'api_error', code: 'database_unavailable' });
    expect(failed.headers['retry-after']).to.equal('1');
    const [key] = await rows<{ locked_at: Date | null; response_status: number | null }>(
      `SELECT locked_at, response_status FROM idempotency_keys WHERE user_id = :userId`,
      { userId },
    );
    expect(key).to.deep.equal({ locked_at: null, response_status: null });

    const retried = await request(app).post('/v1/payments').set(bearer(tokenFor(userId))).set('Idempotency-Key', 'conn-loss-2').send(payment);
    expect(retried.status, retried.text).to.equal(201);
    const payments = await rows<{ id: string }>(`SELECT id FROM payments WHERE user_id = :userId`, { userId });
    expect(payments.map((p) => p.id)).to.deep.equal([retried.body.id]);
  });
});
