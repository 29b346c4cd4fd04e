import path from 'node:path';
import pg from 'pg';
import { Sequelize, type Transaction } from 'sequelize';
import type { Config } from '../config';
import { logger } from '../logger';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { enableGroupCommit } from './group-commit';

export interface Database {
  sequelize: Sequelize;
  /** True when running on the in-process PGlite database. */
  embedded: boolean;
  close(): Promise<void>;
}

export async function connectDatabase(config: Pick<Config, 'database'>): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.database.url;
  if (!url) {
    embedded = await startEmbeddedPostgres(path.resolve(config.database.dataDir, 'pglite'));
    url = embedded.url;
  }
  const sequelize = createSequelize(url, {
    // PGlite is a single connection: more pooled clients would only queue in its multiplexer.
    poolMax: embedded ? 1 : config.database.poolMax,
    ssl: config.database.ssl,
  });
  await sequelize.authenticate();
  // One engine behind one connection: autocommit statements arriving together share a commit.
  if (embedded) enableGroupCommit(sequelize);
  return {
    sequelize,
    embedded: Boolean(embedded),
    async close() {
      await sequelize.close();
      await embedded?.stop();
    },
  };
}

/**
 * pg's Client listening for 'error' from its birth. Sequelize adds its own listener only once the
 * connection is up, and pg reads ReadyForQuery and a FATAL that follows it (a backend terminated by a
 * failover, a PostgreSQL restart or pg_terminate_backend while the pool opens a connection) from one
 * TCP chunk synchronously: with no listener yet, that 'error' is an uncaught exception that ends the
 * process. Here it marks the client invalid, as Sequelize's listener does, so the pool discards it.
 */
class ListenedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', (err) => {
      (this as unknown as { _invalid: boolean })._invalid = true;
      logger.warn('database connection lost', { err: err.message });
    });
  }
}

/** The `pg` module as Sequelize uses it, with `ListenedClient` for its Client. */
const PG_DIALECT_MODULE = { ...pg, Client: ListenedClient };

export function createSequelize(url: string, options: { poolMax: number; ssl?: boolean }): Sequelize {
  return new Sequelize(url, {
    dialect: 'postgres',
    dialectModule: PG_DIALECT_MODULE,
    // Checked per statement (LOG_LEVEL is applied after start-up): no log entry is built at all unless debug is on.
    logging: (sql) => {
      if (logger.isDebugEnabled()) logger.debug('sql', { sql });
    },
    pool: { max: options.poolMax, min: 0, acquire: 10_000, idle: 10_000 },
    dialectOptions: {
      ...(options.ssl ? { ssl: { require: true, rejectUnauthorized: true } } : {}),
      // Bound every statement so a stuck query cannot pin a pooled connection forever.
      statement_timeout: 15_000,
      connectionTimeoutMillis: 5_000,
    },
    define: { underscored: true, timestamps: true, createdAt: 'created_at', updatedAt: 'updated_at' },
    hooks: {
      // READ COMMITTED is set once per connection as the session default, so a transaction needs no
      // `SET TRANSACTION ISOLATION LEVEL` round trip of its own (Sequelize sends it separately after
      // `START TRANSACTION` whenever `isolationLevel` is passed). Setting it here rather than trusting
      // PostgreSQL's default keeps the level the code relies on even if the database's
      // `default_transaction_isolation` was changed (PostgreSQL docs, "SET TRANSACTION").
      afterConnect: async (connection: unknown) => {
        await (connection as { query(sql: string): Promise<unknown> }).query(SESSION_ISOLATION);
      },
    },
  });
}

const SESSION_ISOLATION = 'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED';

/**
 * Runs `fn` in a READ COMMITTED transaction that commits when it resolves and rolls back when it throws.
 * The level is each pooled connection's session default (see `createSequelize`), so the transaction
 * costs `START TRANSACTION` and `COMMIT` only: no per-transaction `SET TRANSACTION` round trip.
 */
export function withTransaction<T>(sequelize: Sequelize, fn: (t: Transaction) => Promise<T>): Promise<T> {
  return sequelize.transaction(fn);
}
