import { expect } from 'chai';
import type { QueryOptions, Sequelize } from 'sequelize';
import { createSequelize } from '../../../src/shared/db/database';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../../src/shared/db/embedded-postgres';
import { enableGroupCommit } from '../../../src/shared/db/group-commit';
import { Sql } from '../../../src/shared/db/sql';

// Its own in-memory PGlite, as the embedded default runs it (one connection, group commit on),
// whatever database the rest of the suite uses.
describe('group commit on the embedded database (autocommit statements arriving together share one commit)', () => {
  let embedded: EmbeddedPostgres;
  let sequelize: Sequelize;
  let sql: Sql;
  let sent: string[] = [];

  before(async () => {
    embedded = await startEmbeddedPostgres();
    sequelize = createSequelize(embedded.url, { poolMax: 1 });
    enableGroupCommit(sequelize);
    sql = new Sql(sequelize);
    await sequelize.query(`CREATE TABLE gc_items (id integer PRIMARY KEY, label text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    sequelize.addHook('afterQuery', 'gc-record', (_options: QueryOptions, query: unknown) => {
      sent.push(String((query as { sql?: string }).sql ?? ''));
    });
  });

  after(async () => {
    await sequelize.close();
    await embedded.stop();
  });

  beforeEach(async () => {
    await sequelize.query('TRUNCATE gc_items');
    sent = [];
  });

  it('when 20 inserts are sent at once, then they travel as one query and each caller gets its own RETURNING row', async () => {
    const rows = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sql.returning<{ id: number; label: string }>(`INSERT INTO gc_items (id, label) VALUES (:id, :label) RETURNING id, label`, { id: i, label: `item ${i}'s` }),
      ),
    );

    expect(rows.map((r) => r[0])).to.deep.equal(Array.from({ length: 20 }, (_, i) => ({ id: i, label: `item ${i}'s` })));
    const writes = sent.filter((s) => s.includes('INSERT INTO gc_items'));
    expect(writes, 'one query carried all twenty').to.have.length(1);
    expect(writes[0].match(/INSERT INTO gc_items/g)).to.have.length(20);
    const [{ n }] = await sql.many<{ n: number }>(`SELECT count(DISTINCT created_at)::int AS n FROM gc_items`);
    expect(n, 'one transaction, one commit: one now() for all').to.equal(1);
  });

  it('when one statement of a group fails, then it alone gets its error and every other statement is written once with its own result', async () => {
    await sql.exec(`INSERT INTO gc_items (id, label) VALUES (7, 'taken')`);
    sent = [];

    const outcomes = await Promise.allSettled(
      [5, 6, 7, 8].map((id) => sql.returning<{ id: number }>(`INSERT INTO gc_items (id, label) VALUES (:id, 'new') RETURNING id`, { id })),
    );

    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason.name).to.equal('SequelizeUniqueConstraintError');
    expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o as PromiseFulfilledResult<Array<{ id: number }>>).value[0].id)).to.deep.equal([5, 6, 8]);
    const stored = await sql.many<{ id: number; label: string }>(`SELECT id, label FROM gc_items ORDER BY id`);
    expect(stored).to.deep.equal([
      { id: 5, label: 'new' },
      { id: 6, label: 'new' },
      { id: 7, label: 'taken' },
      { id: 8, label: 'new' },
    ]);
  });

  it('when reads and writes are mixed in a group, then each read sees the writes sent before it, as one after another would', async () => {
    const [, read, , count] = await Promise.all([
      sql.exec(`INSERT INTO gc_items (id, label) VALUES (1, 'a')`),
      sql.many<{ label: string }>(`SELECT label FROM gc_items WHERE id = :id`, { id: 1 }),
      sql.exec(`UPDATE gc_items SET label = 'b' WHERE id = 1`),
      sql.one<{ n: number }>(`SELECT count(*)::int AS n FROM gc_items WHERE label = 'b'`),
    ]);

    expect(read).to.deep.equal([{ label: 'a' }]);
    expect(count).to.deep.equal({ n: 1 });
  });

  it('when a text holds several statements, then it is sent on its own, never inside a group', async () => {
    await Promise.all([
      sql.exec(`INSERT INTO gc_items (id, label) VALUES (1, 'a')`),
      sql.exec(`INSERT INTO gc_items (id, label) VALUES (2, 'b'); INSERT INTO gc_items (id, label) VALUES (3, 'c')`),
      sql.exec(`INSERT INTO gc_items (id, label) VALUES (4, 'd')`),
    ]);

    expect(sent.filter((s) => s.includes('(2, ')).map((s) => s.match(/INSERT/g)!.length)).to.deep.equal([2]);
    expect((await sql.many(`SELECT id FROM gc_items`)).length).to.equal(4);
  });
});
