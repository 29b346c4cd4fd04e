import type { Sequelize } from 'sequelize';
import { createSequelize } from '../../src/shared/db/database';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/shared/db/embedded-postgres';
import { enableGroupCommit } from '../../src/shared/db/group-commit';
import { migrate } from '../../src/shared/db/migrator';

let embedded: EmbeddedPostgres | undefined;
let sequelize: Sequelize | undefined;
let runDatabase: { adminUrl: string; name: string } | undefined;
let activeUrl: string | undefined;

const RUN_PREFIX = 'payments_test_run_';
const STALE_RUN_SECONDS = 3600;

/**
 * DATABASE_URL when set (CI: the machine's PostgreSQL), else an in-memory PGlite on a loopback port.
 * On a real server each run gets a fresh database of its own next to DATABASE_URL's, so jobs that
 * scan whole tables start from nothing and parallel runs cannot disturb each other. Without the
 * right to create databases, the run uses DATABASE_URL's database and empties its tables first.
 */
export async function startTestDatabase(): Promise<Sequelize> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres();
    url = embedded.url;
  } else {
    url = (await createRunDatabase(url)) ?? url;
  }
  activeUrl = url;
  sequelize = createSequelize(url, { poolMax: embedded ? 1 : 10 });
  await sequelize.authenticate();
  // As the service does on the embedded database (src/shared/db/database.ts).
  if (embedded) enableGroupCommit(sequelize);
  await migrate(sequelize, { lock: !embedded });
  if (!embedded && !runDatabase) {
    await sequelize.query(
      'TRUNCATE payments, payment_status_history, idempotency_keys, refunds, outbox_events, webhook_events, provider_customers RESTART IDENTITY CASCADE',
    );
  }
  return sequelize;
}

async function createRunDatabase(baseUrl: string): Promise<string | undefined> {
  const admin = createSequelize(baseUrl, { poolMax: 1 });
  try {
    const name = `${RUN_PREFIX}${Math.floor(Date.now() / 1000)}_${process.pid}`;
    await dropStaleRunDatabases(admin);
    await admin.query(`CREATE DATABASE "${name}"`);
    runDatabase = { adminUrl: baseUrl, name };
    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    return url.toString();
  } catch {
    return undefined;
  } finally {
    await admin.close();
  }
}

/** Databases left by runs that were killed before their afterAll. */
async function dropStaleRunDatabases(admin: Sequelize): Promise<void> {
  const [found] = (await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE '${RUN_PREFIX}%'`)) as [Array<{ datname: string }>, unknown];
  const now = Math.floor(Date.now() / 1000);
  for (const { datname } of found) {
    const startedAt = Number(datname.slice(RUN_PREFIX.length).split('_')[0]);
    if (now - startedAt > STALE_RUN_SECONDS) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
  }
}

export function testDatabase(): Sequelize {
  if (!sequelize) throw new Error('test database not started (root hook missing?)');
  return sequelize;
}

export function testDatabaseUrl(): string {
  return activeUrl!;
}

export const usesEmbeddedDatabase = () => embedded !== undefined;

export async function stopTestDatabase(): Promise<void> {
  await sequelize?.close();
  await embedded?.stop();
  if (runDatabase) {
    const admin = createSequelize(runDatabase.adminUrl, { poolMax: 1 });
    await admin.query(`DROP DATABASE IF EXISTS "${runDatabase.name}" WITH (FORCE)`).catch(() => undefined);
    await admin.close();
  }
}

/** Rows of a table matching a condition, for asserting what a request wrote. */
export async function rows<T = Record<string, unknown>>(sql: string, replacements: Record<string, unknown> = {}): Promise<T[]> {
  const [result] = await testDatabase().query(sql, { replacements });
  return result as T[];
}

/** A pooled pg client as Sequelize hands it to query hooks: its backend pid and its socket. */
export type PooledConnection = import('pg').Client & { processID: number; connection: { stream: { destroy(): void } } };

/**
 * Kills `connection` as a database restart or failover would (`pg_terminate_backend`; on the embedded
 * database, which has no backends, its socket) and resolves once pg has seen it end.
 */
export async function terminateConnection(connection: PooledConnection): Promise<void> {
  const gone = new Promise((resolve) => connection.once('end', resolve));
  if (usesEmbeddedDatabase()) connection.connection.stream.destroy();
  else await testDatabase().query('SELECT pg_terminate_backend(:pid)', { replacements: { pid: connection.processID } });
  await gone;
}
