import { expect } from 'chai';
import { QueryTypes, type QueryOptions, type Transaction } from 'sequelize';
import { withTransaction } from '../../../src/shared/db/database';
import { testDatabase, usesEmbeddedDatabase } from '../../helpers/database';

/** The statements a Sequelize instance sends while `fn` runs, as their SQL text. */
async function statementsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const sequelize = testDatabase();
  const sent: string[] = [];
  sequelize.addHook('afterQuery', 'record-statements', (_options: QueryOptions, query: unknown) => {
    const { sql } = query as { sql?: string };
    if (sql) sent.push(sql);
  });
  try {
    await fn();
  } finally {
    sequelize.removeHook('afterQuery', 'record-statements');
  }
  return sent;
}

/** The isolation level in effect inside transaction `t` (PostgreSQL's `transaction_isolation` setting). */
async function isolationOf(t: Transaction): Promise<string> {
  const [row] = await testDatabase().query<{ level: string }>(`SELECT current_setting('transaction_isolation') AS level`, {
    transaction: t,
    type: QueryTypes.SELECT,
  });
  return row.level;
}

describe('transactions and their isolation level', () => {
  it('when a use case runs a transaction, then it is READ COMMITTED and costs START and COMMIT only (no SET TRANSACTION round trip)', async () => {
    let level: string | undefined;
    const sent = await statementsDuring(() =>
      withTransaction(testDatabase(), async (t) => {
        level = await isolationOf(t);
      }),
    );
    expect(level).to.equal('read committed');
    expect(sent.filter((s) => /SET TRANSACTION/i.test(s))).to.deep.equal([]);
    expect(sent.filter((s) => /^(START TRANSACTION|BEGIN|COMMIT)/i.test(s))).to.have.length(2);
  });

  it("when the database's default isolation is SERIALIZABLE, then a newly pooled connection's transactions still run READ COMMITTED", async () => {
    const sequelize = testDatabase();
    // PostgreSQL: a per-database default, applied to new backends. PGlite is one backend behind every
    // socket, so its session default is the one a new connection would inherit.
    const setDefault = usesEmbeddedDatabase()
      ? (level: string) => sequelize.query(`SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL ${level}`)
      : (level: string) =>
          sequelize.query(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation = %L', current_database(), '${level.toLowerCase()}'); END $$`);
    const reconnect = () => (sequelize.connectionManager as unknown as { pool: { destroyAllNow(): Promise<void> } }).pool.destroyAllNow();
    await setDefault('SERIALIZABLE');
    try {
      await reconnect();
      const level = await withTransaction(sequelize, async (t) => {
      return isolationOf(t);
      });
      expect(level).to.equal('read committed');
    } finally {
      await setDefault('READ COMMITTED');
      await reconnect();
    }
  });
});
