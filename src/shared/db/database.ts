import path from 'node:path';
import { Sequelize, Transaction } from 'sequelize';
import type { Config } from '../config';
import { logger } from '../logger';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';

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
  return {
    sequelize,
    embedded: Boolean(embedded),
    async close() {
      await sequelize.close();
      await embedded?.stop();
    },
  };
}

export function createSequelize(url: string, options: { poolMax: number; ssl?: boolean }): Sequelize {
  return new Sequelize(url, {
    dialect: 'postgres',
    logging: (sql) => logger.debug('sql', { sql }),
    pool: { max: options.poolMax, min: 0, acquire: 10_000, idle: 10_000 },
    dialectOptions: {
      ...(options.ssl ? { ssl: { require: true, rejectUnauthorized: true } } : {}),
      // Bound every statement so a stuck query cannot pin a pooled connection forever.
      statement_timeout: 15_000,
      connectionTimeoutMillis: 5_000,
    },
    define: { underscored: true, timestamps: true, createdAt: 'created_at', updatedAt: 'updated_at' },
  });
}

/** Runs `fn` in a READ COMMITTED transaction that commits when it resolves and rolls back when it throws. */
export function withTransaction<T>(sequelize: Sequelize, fn: (t: Transaction) => Promise<T>): Promise<T> {
  return sequelize.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED }, fn);
}
