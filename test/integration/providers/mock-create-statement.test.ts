import { expect } from 'chai';
import type { QueryOptions } from 'sequelize';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import { ProviderRejectedError } from '../../../src/providers/payment-provider';
import { rows, testDatabase } from '../../helpers/database';

/** The statements the mock sends to its `mock_*` tables while `run` runs, with whether each ran in a transaction. */
async function mockStatementsDuring<T>(run: () => Promise<T>): Promise<{ result: T; statements: Array<{ sql: string; inTransaction: boolean }> }> {
  const statements: Array<{ sql: string; inTransaction: boolean }> = [];
  const sequelize = testDatabase();
  sequelize.addHook('afterQuery', 'record-mock-statements', (options: QueryOptions & { transaction?: unknown }, query: unknown) => {
    const { sql } = query as { sql?: string };
    if (sql && /mock_/.test(sql)) statements.push({ sql, inTransaction: Boolean(options.transaction) });
  });
  try {
    return { result: await run(), statements };
  } finally {
    sequelize.removeHook('afterQuery', 'record-mock-statements');
  }
}

describe('the mock provider: a PaymentIntent created in one statement', () => {
  const mock = () => new MockProvider({ latencyMs: 0, successRate: 1, sequelize: testDatabase() });
  const input = (paymentId: string) => ({ paymentId, amount: 1500, currency: 'usd', metadata: {} });

  it('when an intent is created under a new key, then the key with its answer, the intent and its event are one autocommit statement', async () => {
    const provider = mock();
    const key = `pay_once_${Date.now()}:create`;
    const { result: pi, statements } = await mockStatementsDuring(() => provider.createPaymentIntent(input('pay_once'), { idempotencyKey: key }));

    expect(statements.filter((s) => !/DELETE FROM mock_idempotency_keys/.test(s.sql))).to.have.length(1);
    expect(statements.every((s) => !s.inTransaction)).to.equal(true);
    const [stored] = await rows<{ answer: { kind: string; value: { id: string } } }>('SELECT answer FROM mock_idempotency_keys WHERE key = :key', { key });
    expect(stored.answer.kind).to.equal('ok');
    expect(stored.answer.value.id).to.equal(pi.id);
    const events = await rows<{ type: string }>(`SELECT type FROM mock_events WHERE data->'data'->'object'->>'id' = :id ORDER BY seq`, { id: pi.id });
    expect(events.map((e) => e.type)).to.deep.equal(['payment_intent.created']);

    const again = await provider.createPaymentIntent(input('pay_once'), { idempotencyKey: key });
    expect(again.id).to.equal(pi.id);
    const other = await provider.createPaymentIntent({ ...input('pay_once'), amount: 1600 }, { idempotencyKey: key }).catch((err: unknown) => err);
    expect(other).to.be.instanceOf(ProviderRejectedError);
    expect((other as ProviderRejectedError).code).to.equal('idempotency_error');
    expect(await rows('SELECT id FROM mock_payment_intents WHERE id = :id', { id: pi.id })).to.have.length(1);
  });

  it('when an intent is created and confirmed with a test card, then its events are stored in order by the same statement', async () => {
    const provider = mock();
    const key = `pay_once_card_${Date.now()}:create`;
    const { result: pi, statements } = await mockStatementsDuring(() =>
      provider.createPaymentIntent({ ...input('pay_once_card'), paymentMethod: 'pm_card_visa' }, { idempotencyKey: key }),
    );

    expect(pi.status).to.equal('succeeded');
    expect(statements.filter((s) => !/DELETE FROM mock_idempotency_keys/.test(s.sql))).to.have.length(1);
    const events = await rows<{ type: string }>(`SELECT type FROM mock_events WHERE data->'data'->'object'->>'id' = :id ORDER BY seq`, { id: pi.id });
    expect(events.map((e) => e.type)).to.deep.equal(['payment_intent.created', 'payment_intent.succeeded']);
    const [intent] = await rows<{ data: { status: string } }>('SELECT data FROM mock_payment_intents WHERE id = :id', { id: pi.id });
    expect(intent.data.status).to.equal('succeeded');
  });

  it('when two events are marked delivered in the same turn, then one UPDATE marks both, and a later failure does not undo a success', async () => {
    const provider = mock();
    const a = await provider.createPaymentIntent(input('pay_mark_a'), { idempotencyKey: `pay_mark_a_${Date.now()}:create` });
    const b = await provider.createPaymentIntent(input('pay_mark_b'), { idempotencyKey: `pay_mark_b_${Date.now()}:create` });
    const eventOf = async (id: string) =>
      (await rows<{ id: string; delivery_success: boolean | null }>(`SELECT id, delivery_success FROM mock_events WHERE data->'data'->'object'->>'id' = :id`, { id }))[0];
    const [ea, eb] = [await eventOf(a.id), await eventOf(b.id)];

    const { statements } = await mockStatementsDuring(() => Promise.all([provider.recordDelivery(ea.id, true), provider.recordDelivery(eb.id, false)]));
    expect(statements.map((s) => s.sql).filter((sql) => /UPDATE mock_events/.test(sql))).to.have.length(1);
    expect([(await eventOf(a.id)).delivery_success, (await eventOf(b.id)).delivery_success]).to.deep.equal([true, false]);

    await provider.recordDelivery(ea.id, false);
    expect((await eventOf(a.id)).delivery_success).to.equal(true);
  });
});
