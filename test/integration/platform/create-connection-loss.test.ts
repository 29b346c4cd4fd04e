import { expect } from 'chai';
import type { QueryOptions } from 'sequelize';
import request from 'supertest';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows, terminateConnection, testDatabase, type PooledConnection } from '../../helpers/database';
import { buildTestApp } from '../../helpers/test-app';

type Conn = PooledConnection;

/**
 * Kills the connection of the first statement matching `pattern`: before it is sent (it fails), or
 * after it ran (`throwAfter`: the app then sees a connection error for a statement that committed).
 */
function killConnection(hook: 'beforeQuery' | 'afterQuery', pattern: RegExp, throwAfter = false): { fired: () => boolean; disarm: () => void } {
  const sequelize = testDatabase();
  let armed = true;
  let fired = false;
  const kill = async (connection: Conn) => {
    armed = false;
    await terminateConnection(connection);
    fired = true;
  };
  sequelize.addHook(hook, 'qa-kill', async (_options: QueryOptions, query: unknown) => {
    const q = query as { sql?: string; connection: Conn; run: (sql: string, bind: unknown) => Promise<unknown> };
    if (!armed) return;
    if (hook === 'beforeQuery') {
      const run = q.run.bind(q);
      q.run = async (sql: string, bind: unknown) => {
        if (armed && pattern.test(sql)) await kill(q.connection);
        return run(sql, bind);
      };
      return;
    }
    if (!q.sql || !pattern.test(q.sql)) return;
    await kill(q.connection);
    if (throwAfter) throw new Error('Connection terminated unexpectedly');
  });
  return { fired: () => fired, disarm: () => sequelize.removeHook(hook, 'qa-kill') };
}

/**
 * The create without an order writes key, payment and recovery point in one autocommit statement
 * (phase 1) and attaches the intent with the stored answer in another (phase 3). The connection is
 * killed before each (nothing written) and after each (committed, but the app sees only an error:
 * the answer was lost on the way back).
 */
describe('a database connection dropped around the one-statement create (no order)', () => {
  let app: ReturnType<typeof buildTestApp>['app'];
  before(() => {
    app = buildTestApp().app;
  });

  const cases: Array<[string, 'beforeQuery' | 'afterQuery', RegExp, boolean]> = [
    ['before phase 1 (key + payment)', 'beforeQuery', /WITH k AS \(INSERT INTO idempotency_keys/, false],
    ['before phase 3 (attach at once)', 'beforeQuery', /WITH u AS \(\s*UPDATE payments SET provider_payment_id/, false],
    ['after phase 1 committed, answer lost', 'afterQuery', /WITH k AS \(INSERT INTO idempotency_keys/, true],
    ['after phase 3 committed, answer lost', 'afterQuery', /WITH u AS \(\s*UPDATE payments SET provider_payment_id/, true],
  ];
  for (const [name, hook, pattern, throwAfter] of cases) {
    it(`when the connection is killed ${name}, then 503 with Retry-After and the retry with the same key at once is 201 with one payment, one intent, one event each`, async () => {
      const user = newUserId();
      const body = { amount: 2100, currency: 'usd', payment_method: 'pm_card_visa' };
      const send = () => request(app).post('/v1/payments').set(bearer(tokenFor(user))).set('Idempotency-Key', 'db-fault').send(body);
      const kill = killConnection(hook, pattern, throwAfter);
      let failed;
      try {
        failed = await send();
      } finally {
        kill.disarm();
      }
      expect(kill.fired()).to.equal(true);
      expect(failed.status, failed.text).to.equal(503);
      expect(failed.headers['retry-after']).to.exist;
      const retry = await send();
      expect(retry.status, retry.text).to.equal(201);
      const pays = await rows<{ id: string; status: string }>(`SELECT id, status FROM payments WHERE user_id = :user`, { user });
      expect(pays).to.have.length(1);
      expect(pays[0].status).to.equal('succeeded');
      const intents = await rows(`SELECT id FROM mock_payment_intents WHERE data->'metadata'->>'payment_id' = :id`, { id: pays[0].id });
      expect(intents).to.have.length(1);
      const ev = await rows(`SELECT type FROM outbox_events WHERE aggregate_id = :id ORDER BY sequence`, { id: pays[0].id });
      expect(ev.map((e) => e.type)).to.deep.equal(['payment.created', 'payment.succeeded']);
      const hist = await rows(`SELECT to_status FROM payment_status_history WHERE payment_id = :id ORDER BY id`, { id: pays[0].id });
      expect(hist.map((h) => h.to_status)).to.deep.equal(['pending', 'succeeded']);
    });
  }

  it('when the connection is killed before phase 1 of a create without a key, then 503 with Retry-After and nothing written', async () => {
    const user = newUserId();
    const kill = killConnection('beforeQuery', /WITH p AS \(\s*INSERT INTO payments/);
    let failed;
    try {
      failed = await request(app).post('/v1/payments').set(bearer(tokenFor(user))).send({ amount: 2100, currency: 'usd' });
    } finally {
      kill.disarm();
    }
    expect(kill.fired()).to.equal(true);
    expect(failed.status, failed.text).to.equal(503);
    expect(failed.headers['retry-after']).to.exist;
    expect(await rows(`SELECT id FROM payments WHERE user_id = :user`, { user })).to.have.length(0);
  });
});
