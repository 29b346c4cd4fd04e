import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { MockAnswer, MockEventQuery, MockStore, MockTable, MockTx, StoredIntent } from './mock-store';
import type { StripeObject } from './stripe-objects';
import { NeedsRead, WriteBuffer, writeOnce } from './mock-sql-once';
import { Sql } from '../../shared/db/sql';

// Stripe keeps an idempotency key's answer for 24 hours; so does the mock (keys older are purged now and then).
const KEY_RETENTION = "interval '24 hours'";
const PURGE_CHANCE = 0.01;
const TABLES: ReadonlySet<MockTable> = new Set(['mock_refunds', 'mock_customers', 'mock_setup_intents', 'mock_payment_methods']);

// Table names cannot be bound as parameters; only the fixed names above ever reach the SQL.
const tableName = (table: MockTable): string => {
  if (!TABLES.has(table)) throw new Error(`not a mock table: ${table}`);
  return table;
};

/**
 * The mock's state in the service's PostgreSQL (the `mock_*` tables), so every replica and every
 * restart sees the same Stripe account. Rows are locked with SELECT ... FOR UPDATE where Stripe
 * would serialise (one intent confirmed, canceled or refunded at a time).
 */
export class SqlMockStore implements MockStore {
  constructor(private readonly sequelize: Sequelize) {}

  /**
   * READ COMMITTED, each pooled connection's session default (`createSequelize` sets it once per
   * connection), so no `SET TRANSACTION ISOLATION LEVEL` round trip per mock call.
   */
  transaction<T>(fn: (tx: MockTx) => Promise<T>): Promise<T> {
    return this.sequelize.transaction((t) => fn(this.tx(t)));
  }

  /**
   * An operation that only writes (a create without a saved card), with its new key and answer, in
   * one autocommit statement instead of a transaction of one statement per row; see `MockStore.writeOnce`.
   */
  async writeOnce(key: string, request: unknown, run: (tx: MockTx) => Promise<MockAnswer>): Promise<MockAnswer | null> {
    const buffer = new WriteBuffer();
    let answer: MockAnswer;
    try {
      answer = await run(buffer.tx());
    } catch (err) {
      if (err instanceof NeedsRead) return null;
      throw err;
    }
    if (buffer.read) return null;
    if (Math.random() < PURGE_CHANCE) await this.sequelize.query(`DELETE FROM mock_idempotency_keys WHERE created_at < now() - ${KEY_RETENTION}`);
    return (await writeOnce(this.sequelize, tableName, key, request, answer, buffer)) ? answer : null;
  }

  /**
   * Marks are gathered for one turn of the event loop and written by one UPDATE (under load every
   * created intent's event is marked: one statement for all of them instead of one each). Resolves
   * once the batch holding this mark is written.
   */
  markDelivery(eventId: string, success: boolean): Promise<void> {
    if (!this.marks) {
      const batch = new Map<string, boolean>();
      this.marks = batch;
      this.marksWritten = new Promise<void>((resolve, reject) =>
        setImmediate(() => {
          this.marks = undefined;
          this.writeMarks(batch).then(resolve, reject);
        }),
      );
    }
    this.marks.set(eventId, (this.marks.get(eventId) ?? false) || success);
    return this.marksWritten!;
  }

  private marks?: Map<string, boolean>;
  private marksWritten?: Promise<void>;

  private async writeMarks(batch: Map<string, boolean>): Promise<void> {
    const replacements: Record<string, unknown> = {};
    const rows = [...batch].map(([id, success], i) => {
      replacements[`id${i}`] = id;
      replacements[`ok${i}`] = success;
      return `(:id${i}, CAST(:ok${i} AS boolean))`;
    });
    // A success is never overwritten by a later failure of a redelivery.
    await new Sql(this.sequelize).exec(
      `UPDATE mock_events e SET delivery_success = (e.delivery_success IS TRUE OR m.success)
         FROM (VALUES ${rows.join(', ')}) AS m(id, success) WHERE e.id = m.id`,
      replacements,
    );
  }

  async listEvents(query: MockEventQuery): Promise<{ data: StripeObject[]; hasMore: boolean }> {
    const limit = Math.min(Math.max(query.limit ?? 10, 1), 100);
    const where: string[] = [];
    const replacements: Record<string, unknown> = { limit: limit + 1 };
    if (query.createdGte !== undefined) {
      where.push('created >= :createdGte');
      replacements.createdGte = query.createdGte;
    }
    if (query.deliverySuccess !== undefined) where.push(query.deliverySuccess ? 'delivery_success IS TRUE' : 'delivery_success IS NOT TRUE');
    if (query.startingAfter) {
      where.push('seq < COALESCE((SELECT seq FROM mock_events WHERE id = :startingAfter), 0)');
      replacements.startingAfter = query.startingAfter;
    }
    const rows = (await this.sequelize.query(
      `SELECT data FROM mock_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT :limit`,
      { replacements, type: QueryTypes.SELECT },
    )) as Array<{ data: StripeObject }>;
    return { data: rows.slice(0, limit).map((r) => r.data), hasMore: rows.length > limit };
  }

  private tx(t: Transaction): MockTx {
    const select = async <R>(sql: string, replacements: Record<string, unknown>): Promise<R[]> =>
      (await this.sequelize.query(sql, { replacements, transaction: t, type: QueryTypes.SELECT })) as R[];
    const exec = async (sql: string, replacements: Record<string, unknown>): Promise<void> => {
      await this.sequelize.query(sql, { replacements, transaction: t });
    };
    const forUpdate = (lock?: boolean) => (lock ? 'FOR UPDATE' : '');

    return {
      findIntent: async (id, options) => {
        const [row] = await select<{ data: StripeObject; amount_refunded_before: number | string }>(
          `SELECT data, amount_refunded_before FROM mock_payment_intents WHERE id = :id ${forUpdate(options?.lock)}`,
          { id },
        );
        return row ? { pi: row.data, refundedBefore: Number(row.amount_refunded_before) } : null;
      },
      insertIntent: (intent: StoredIntent, options) =>
        exec(
          `INSERT INTO mock_payment_intents (id, data, amount_refunded_before) VALUES (:id, CAST(:data AS jsonb), :before)
           ${options?.ifAbsent ? 'ON CONFLICT (id) DO NOTHING' : ''}`,
          { id: intent.pi.id, data: JSON.stringify(intent.pi), before: intent.refundedBefore },
        ),
      saveIntent: (pi) =>
        exec('UPDATE mock_payment_intents SET data = CAST(:data AS jsonb), updated_at = now() WHERE id = :id', { id: pi.id, data: JSON.stringify(pi) }),
      find: async (table, id, options) => {
        const [row] = await select<{ data: StripeObject }>(`SELECT data FROM ${tableName(table)} WHERE id = :id ${forUpdate(options?.lock)}`, { id });
        return row?.data ?? null;
      },
      insert: (table, object, parentId, options) =>
        exec(
          `INSERT INTO ${tableName(table)} (id, parent_id, data) VALUES (:id, :parentId, CAST(:data AS jsonb))
           ${options?.ifAbsent ? 'ON CONFLICT (id) DO NOTHING' : ''}`,
          { id: object.id, parentId, data: JSON.stringify(object) },
        ),
      save: (table, object, parentId) =>
        exec(`UPDATE ${tableName(table)} SET data = CAST(:data AS jsonb), parent_id = :parentId, updated_at = now() WHERE id = :id`, {
          id: object.id,
          parentId,
          data: JSON.stringify(object),
        }),
      children: async (table, parentId) =>
        (await select<{ data: StripeObject }>(`SELECT data FROM ${tableName(table)} WHERE parent_id = :parentId ORDER BY seq`, { parentId })).map(
          (r) => r.data,
        ),
      addEvent: (event) =>
        exec('INSERT INTO mock_events (id, type, created, data) VALUES (:id, :type, :created, CAST(:data AS jsonb))', {
          id: event.id,
          type: event.type,
          created: event.created,
          data: JSON.stringify(event),
        }),
      claimKey: async (key, request) => {
        if (Math.random() < PURGE_CHANCE) await exec(`DELETE FROM mock_idempotency_keys WHERE created_at < now() - ${KEY_RETENTION}`, {});
        // A concurrent holder's uncommitted row makes this INSERT wait for its commit (then conflict) or rollback (then insert).
        const taken = await select<{ key: string }>(
          `INSERT INTO mock_idempotency_keys (key, request) VALUES (:key, CAST(:request AS jsonb))
           ON CONFLICT (key) DO NOTHING RETURNING key`,
          { key, request: JSON.stringify(request ?? null) },
        );
        if (taken.length > 0) return null;
        const [held] = await select<{ request: unknown; answer: MockAnswer | null }>('SELECT request, answer FROM mock_idempotency_keys WHERE key = :key', {
          key,
        });
        return held?.answer ? { request: held.request, answer: held.answer } : null;
      },
      saveAnswer: (key, answer) =>
        exec('UPDATE mock_idempotency_keys SET answer = CAST(:answer AS jsonb) WHERE key = :key', { key, answer: JSON.stringify(answer) }),
    };
  }
}
