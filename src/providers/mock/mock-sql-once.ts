import type { Sequelize } from 'sequelize';
import { Sql } from '../../shared/db/sql';
import type { MockAnswer, MockTable, MockTx, StoredIntent } from './mock-store';
import type { StripeObject } from './stripe-objects';

/** Thrown by the write buffer when the operation reads: it needs a real transaction. */
export class NeedsRead extends Error {
  constructor() {
    super('the mock operation reads: run it in a transaction');
  }
}

type Insert = { table: 'mock_payment_intents' | MockTable; id: string; parentId: string | null; data: StripeObject; before: number; ifAbsent: boolean };

/**
 * A `MockTx` that reads nothing and keeps the writes, so an operation that only writes (a create
 * without a saved card) can be sent as one statement with its idempotency key (`writeOnce`). Any read
 * throws `NeedsRead` and sets `read` (the operation may catch the error; its answer is void all the same); a save of an object written by the same operation updates the pending insert
 * (a statement's CTEs do not see each other's rows).
 */
export class WriteBuffer {
  readonly inserts: Insert[] = [];
  readonly events: StripeObject[] = [];
  /** Set by any read, even one whose error the operation caught (e.g. "no such card"): the buffer's answer is then void. */
  read = false;

  tx(): MockTx {
    const pending = (id: string) => this.inserts.find((i) => i.id === id);
    const needsRead = (): NeedsRead => {
      this.read = true;
      return new NeedsRead();
    };
    const read = async (): Promise<never> => {
      throw needsRead();
    };
    return {
      findIntent: read,
      find: read,
      children: read,
      claimKey: read,
      saveAnswer: read,
      insertIntent: async (intent: StoredIntent, options) => {
        this.inserts.push({ table: 'mock_payment_intents', id: intent.pi.id as string, parentId: null, data: intent.pi, before: intent.refundedBefore, ifAbsent: Boolean(options?.ifAbsent) });
      },
      saveIntent: async (pi) => {
        const insert = pending(pi.id as string);
        if (!insert) throw needsRead();
        insert.data = pi;
      },
      insert: async (table, object, parentId, options) => {
        this.inserts.push({ table, id: object.id as string, parentId, data: object, before: 0, ifAbsent: Boolean(options?.ifAbsent) });
      },
      save: async (table, object, parentId) => {
        const insert = pending(object.id as string);
        if (!insert || insert.table !== table) throw needsRead();
        insert.data = object;
        insert.parentId = parentId;
      },
      addEvent: async (event) => {
        this.events.push(event);
      },
    };
  }
}

/**
 * Writes `key` with its `answer` and the buffer's objects and events in one autocommit statement
 * (one round trip), all only if the key is new. False when the key existed: nothing was written, and
 * the caller takes the transactional path, which waits for a holder and gives the key's own answer.
 * Table names come from the buffer's fixed set (`tableName`), never from input.
 */
export async function writeOnce(
  sequelize: Sequelize,
  tableName: (table: MockTable) => string,
  key: string,
  request: unknown,
  answer: MockAnswer,
  buffer: WriteBuffer,
): Promise<boolean> {
  const replacements: Record<string, unknown> = { key, request: JSON.stringify(request ?? null), answer: JSON.stringify(answer) };
  const gate = 'WHERE EXISTS (SELECT 1 FROM k)';
  const ctes = buffer.inserts.map((row, i) => {
    replacements[`id${i}`] = row.id;
    replacements[`data${i}`] = JSON.stringify(row.data);
    const onConflict = row.ifAbsent ? 'ON CONFLICT (id) DO NOTHING' : '';
    if (row.table === 'mock_payment_intents') {
      replacements[`before${i}`] = row.before;
      return `w${i} AS (INSERT INTO mock_payment_intents (id, data, amount_refunded_before)
                SELECT :id${i}, CAST(:data${i} AS jsonb), :before${i} ${gate} ${onConflict})`;
    }
    replacements[`parent${i}`] = row.parentId;
    return `w${i} AS (INSERT INTO ${tableName(row.table)} (id, parent_id, data) SELECT :id${i}, :parent${i}, CAST(:data${i} AS jsonb) ${gate} ${onConflict})`;
  });
  if (buffer.events.length > 0) {
    // One INSERT from a VALUES list: its rows are inserted, and their `seq` drawn, in the list's order.
    const values = buffer.events.map((event, i) => {
      replacements[`eid${i}`] = event.id;
      replacements[`etype${i}`] = event.type;
      replacements[`ecreated${i}`] = event.created;
      replacements[`edata${i}`] = JSON.stringify(event);
      return `(:eid${i}, :etype${i}, CAST(:ecreated${i} AS bigint), :edata${i})`;
    });
    ctes.push(`ev AS (INSERT INTO mock_events (id, type, created, data)
                SELECT v.id, v.type, v.created, CAST(v.data AS jsonb) FROM (VALUES ${values.join(', ')}) AS v(id, type, created, data) ${gate})`);
  }
  const rows = await new Sql(sequelize).returning<{ n: number }>(
    `WITH k AS (INSERT INTO mock_idempotency_keys (key, request, answer) VALUES (:key, CAST(:request AS jsonb), CAST(:answer AS jsonb))
                ON CONFLICT (key) DO NOTHING RETURNING key)
     ${ctes.map((c) => `, ${c}`).join('')}
     SELECT count(*)::int AS n FROM k`,
    replacements,
  );
  return Number(rows[0]?.n ?? 0) > 0;
}
