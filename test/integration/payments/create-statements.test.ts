import { expect } from 'chai';
import type { Express } from 'express';
import type { QueryOptions } from 'sequelize';
import request from 'supertest';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows, testDatabase } from '../../helpers/database';
import { buildTestApp, type TestApp } from '../../helpers/test-app';
import { eventually } from '../../helpers/webhook-payments';
import { MockProvider } from '../../../src/providers/mock/mock-provider';

/**
 * Records every statement matching `pattern` while `run` runs, with whether it ran in a transaction.
 * The default, `idempotency_keys` (not the mock provider's `mock_idempotency_keys`), is written only
 * by requests, so background work (the webhook worker, the dispatcher) does not show up.
 */
async function statementsDuring<T>(
  run: () => Promise<T>,
  pattern = /\bidempotency_keys/,
): Promise<{ result: T; statements: Array<{ sql: string; inTransaction: boolean }> }> {
  const statements: Array<{ sql: string; inTransaction: boolean }> = [];
  const sequelize = testDatabase();
  sequelize.addHook('afterQuery', 'record-key-statements', (options: QueryOptions & { transaction?: unknown }, query: unknown) => {
    const { sql } = query as { sql?: string };
    if (sql && pattern.test(sql)) statements.push({ sql, inTransaction: Boolean(options.transaction) });
  });
  try {
    return { result: await run(), statements };
  } finally {
    sequelize.removeHook('afterQuery', 'record-key-statements');
  }
}

describe('POST /v1/payments (and confirm, cancel): phase 3 and the stored answer in one statement', () => {
  let app: Express;
  let container: TestApp['container'];

  before(() => {
    ({ app, container } = buildTestApp());
  });

  it('when a payment is created with a new key, then the key is written by the autocommit statement inserting the payment, and the answer by the one attaching the intent', async () => {
    const userId = newUserId();
    const { result: res, statements } = await statementsDuring(() =>
      request(app).post('/v1/payments').set(bearer(tokenFor(userId))).set('Idempotency-Key', 'two-statements').send({ amount: 2500, currency: 'usd' }),
    );

    expect(res.status, res.text).to.equal(201);
    expect(statements).to.have.length(2);
    expect(statements.every((s) => !s.inTransaction)).to.equal(true);
    expect(statements[0].sql).to.match(/INSERT INTO idempotency_keys[\s\S]*INSERT INTO payments/);
    expect(statements[1].sql).to.match(/UPDATE payments[\s\S]*INSERT INTO outbox_events[\s\S]*UPDATE idempotency_keys/);

    const [key] = await rows<{ response_status: number; response_body: string; recovery_point: string; locked_at: Date | null; payment_id: string }>(
      `SELECT response_status, response_body, recovery_point, locked_at, payment_id FROM idempotency_keys WHERE user_id = :userId`,
      { userId },
    );
    expect(key).to.deep.equal({ response_status: 201, response_body: res.text, recovery_point: 'finished', locked_at: null, payment_id: res.body.id });
    // The stored answer was computed before the statement: the row must read back as the same body.
    const read = await request(app).get(`/v1/payments/${res.body.id}`).set(bearer(tokenFor(userId)));
    expect(read.text).to.equal(res.text);
    const events = await rows<{ type: string }>(`SELECT type FROM outbox_events WHERE aggregate_id = :id ORDER BY sequence`, { id: res.body.id });
    expect(events.map((e) => e.type)).to.deep.equal(['payment.created']);
    const history = await rows<{ to_status: string }>(`SELECT to_status FROM payment_status_history WHERE payment_id = :id ORDER BY id`, { id: res.body.id });
    expect(history.map((h) => h.to_status)).to.deep.equal(['pending']);
  });

  it('when the intent is confirmed at once (a test card), then the move is written by the same statement: history, both events in order, and the stored answer', async () => {
    const userId = newUserId();
    const res = await request(app)
      .post('/v1/payments')
      .set(bearer(tokenFor(userId)))
      .set('Idempotency-Key', 'two-statements-card')
      .send({ amount: 2500, currency: 'usd', payment_method: 'pm_card_visa' });

    expect(res.status, res.text).to.equal(201);
    expect(res.body.status).to.equal('succeeded');
    const events = await rows<{ type: string }>(`SELECT type FROM outbox_events WHERE aggregate_id = :id ORDER BY sequence`, { id: res.body.id });
    expect(events.map((e) => e.type)).to.deep.equal(['payment.created', 'payment.succeeded']);
    const history = await rows<{ from_status: string | null; to_status: string }>(
      `SELECT from_status, to_status FROM payment_status_history WHERE payment_id = :id ORDER BY id`,
      { id: res.body.id },
    );
    expect(history).to.deep.equal([
      { from_status: null, to_status: 'pending' },
      { from_status: 'pending', to_status: 'succeeded' },
    ]);
    const replay = await request(app)
      .post('/v1/payments')
      .set(bearer(tokenFor(userId)))
      .set('Idempotency-Key', 'two-statements-card')
      .send({ amount: 2500, currency: 'usd', payment_method: 'pm_card_visa' });
    expect(replay.headers['idempotent-replayed']).to.equal('true');
    expect(replay.text).to.equal(res.text);
    const read = await request(app).get(`/v1/payments/${res.body.id}`).set(bearer(tokenFor(userId)));
    expect(read.text).to.equal(res.text);
  });

  it('when a payment is confirmed and another canceled with keys, then each answer is stored by the autocommit statement that applies the intent', async () => {
    const userId = newUserId();
    const auth = bearer(tokenFor(userId));
    const first = await request(app).post('/v1/payments').set(auth).send({ amount: 2500, currency: 'usd' });
    const second = await request(app).post('/v1/payments').set(auth).send({ amount: 2600, currency: 'usd' });
    // The mock's payment_intent.created events are applied first, so no webhook touches these rows
    // between the confirm's read and its statement (which would send it down the locked path).
    const ids = [first.body.id, second.body.id];
    await eventually(async () => {
      await container.webhooks.worker.drain();
      const applied = await rows(`SELECT id FROM webhook_events WHERE payment_id IN (:ids) AND state = 'processed'`, { ids });
      return applied.length === 2 ? true : undefined;
    }, 'the creates’ webhook events applied');
    let confirmed;
    let canceled;
    const { result, statements } = await statementsDuring(async () => [
      await request(app).post(`/v1/payments/${first.body.id}/confirm`).set(auth).set('Idempotency-Key', 'at-once-confirm').send({ payment_method: 'pm_card_visa' }),
      await request(app).post(`/v1/payments/${second.body.id}/cancel`).set(auth).set('Idempotency-Key', 'at-once-cancel').send({}),
    ]);
    [confirmed, canceled] = result;

    expect(confirmed.status, confirmed.text).to.equal(200);
    expect(confirmed.body.status).to.equal('succeeded');
    expect(canceled.status, canceled.text).to.equal(200);
    expect(canceled.body.status).to.equal('canceled');
    const answers = statements.filter((s) => /UPDATE payments[\s\S]*UPDATE idempotency_keys/.test(s.sql));
    expect(answers).to.have.length(2);
    expect(answers.every((s) => !s.inTransaction)).to.equal(true);
    for (const [res, key] of [
      [confirmed, 'at-once-confirm'],
      [canceled, 'at-once-cancel'],
    ] as const) {
      const [stored] = await rows<{ response_body: string; locked_at: Date | null }>(
        `SELECT response_body, locked_at FROM idempotency_keys WHERE user_id = :userId AND idempotency_key = :key`,
        { userId, key },
      );
      expect(stored).to.deep.equal({ response_body: res.text, locked_at: null });
      const read = await request(app).get(`/v1/payments/${res.body.id}`).set(auth);
      expect(read.text).to.equal(res.text);
    }
  });

  it('when a webhook attached the intent before phase 3, then the one-statement path writes nothing and the locked path answers, stored once', async () => {
    const mock = new MockProvider({ latencyMs: 0, successRate: 1, sequelize: testDatabase() });
    // What a fast payment_intent.created webhook does: the intent is on the row before phase 3 runs.
    const racing: MockProvider = Object.create(mock);
    racing.createPaymentIntent = async (input, options) => {
      const pi = await mock.createPaymentIntent(input, options);
      await rows(`UPDATE payments SET provider_payment_id = :pid, updated_at = now() WHERE id = :id RETURNING id`, { pid: pi.id, id: input.paymentId });
      return pi;
    };
    const raced = buildTestApp({ provider: racing });
    const userId = newUserId();
    const res = await request(raced.app).post('/v1/payments').set(bearer(tokenFor(userId))).set('Idempotency-Key', 'raced-by-webhook').send({ amount: 2500, currency: 'usd' });

    expect(res.status, res.text).to.equal(201);
    expect(res.body.provider_payment_id).to.match(/^pi_/);
    const [key] = await rows<{ response_body: string; recovery_point: string; locked_at: Date | null }>(
      `SELECT response_body, recovery_point, locked_at FROM idempotency_keys WHERE user_id = :userId`,
      { userId },
    );
    expect(key).to.deep.equal({ response_body: res.text, recovery_point: 'finished', locked_at: null });
    // The one-statement path would have announced payment.created; the locked path leaves that to whoever attached the intent.
    const events = await rows<{ type: string }>(`SELECT type FROM outbox_events WHERE aggregate_id = :id`, { id: res.body.id });
    expect(events).to.deep.equal([]);
    const read = await request(raced.app).get(`/v1/payments/${res.body.id}`).set(bearer(tokenFor(userId)));
    expect(read.text).to.equal(res.text);
  });

  it('when a payment is created without a key and without an order, then its row is written by one autocommit statement', async () => {
    const userId = newUserId();
    const { result: res, statements } = await statementsDuring(
      () => request(app).post('/v1/payments').set(bearer(tokenFor(userId))).send({ amount: 2500, currency: 'usd' }),
      /INSERT INTO payments /,
    );

    expect(res.status, res.text).to.equal(201);
    expect(statements.map((s) => s.inTransaction)).to.deep.equal([false]);
    const history = await rows<{ to_status: string }>(`SELECT to_status FROM payment_status_history WHERE payment_id = :id ORDER BY id`, { id: res.body.id });
    expect(history.map((h) => h.to_status)).to.deep.equal(['pending']);
  });
});
