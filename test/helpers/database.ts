import type { Sequelize } from 'sequelize';
import { createSequelize } from '../../src/shared/db/database';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/shared/db/embedded-postgres';
import { migrate } from '../../src/shared/db/migrator';

let embedded: EmbeddedPostgres | undefined;
let sequelize: Sequelize | undefined;

/** DATABASE_URL when set (CI: the machine's PostgreSQL), else an in-memory PGlite served on a loopback port. */
export async function startTestDatabase(): Promise<Sequelize> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres();
    url = embedded.url;
  }
  sequelize = createSequelize(url, { poolMax: embedded ? 1 : 10 });
  await sequelize.authenticate();
  await migrate(sequelize, { lock: !embedded });
  return sequelize;
}

export function testDatabase(): Sequelize {
  if (!sequelize) throw new Error('test database not started (root hook missing?)');
  return sequelize;
}

export function testDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? embedded!.url;
}

export const usesEmbeddedDatabase = () => embedded !== undefined;

export async function stopTestDatabase(): Promise<void> {
  await sequelize?.close();
  await embedded?.stop();
}

/** Rows of a table matching a condition, for asserting what a request wrote. */
export async function rows<T = Record<string, unknown>>(sql: string, replacements: Record<string, unknown> = {}): Promise<T[]> {
  const [result] = await testDatabase().query(sql, { replacements });
  return result as T[];
}
