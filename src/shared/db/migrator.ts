import path from 'node:path';
import { Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import { logger } from '../logger';

const ROOT = path.resolve(__dirname, '../../..');
// Any constant works; it only has to be the same for every instance of this service.
const MIGRATION_LOCK_ID = 727_001;

interface CliMigration {
  up(queryInterface: unknown, sequelize: typeof Sequelize): Promise<void>;
  down?(queryInterface: unknown, sequelize: typeof Sequelize): Promise<void>;
}

/**
 * Applies the sequelize-cli migrations (and reference-data seeders) at start-up. The same files and
 * bookkeeping tables (`SequelizeMeta`, `SequelizeData`) as `npx sequelize-cli db:migrate`, so either
 * way of migrating sees the other's work.
 */
export async function migrate(sequelize: Sequelize, options: { lock: boolean }): Promise<void> {
  const run = async () => {
    const migrations = await umzugFor(sequelize, 'migrations', 'SequelizeMeta').up();
    const seeds = await umzugFor(sequelize, 'seeders', 'SequelizeData').up();
    const applied = [...migrations, ...seeds].map((m) => m.name);
    if (applied.length > 0) logger.info('database migrated', { applied });
  };
  if (!options.lock) return run();

  // Several instances may start at once; a session advisory lock lets exactly one migrate.
  const connectionManager = sequelize.connectionManager as unknown as {
    getConnection(): Promise<{ query(sql: string): Promise<unknown> }>;
    releaseConnection(c: unknown): Promise<void>;
  };
  const lockConnection = await connectionManager.getConnection();
  try {
    await lockConnection.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_ID})`);
    await run();
  } finally {
    await lockConnection.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_ID})`).catch(() => undefined);
    await connectionManager.releaseConnection(lockConnection);
  }
}

function umzugFor(sequelize: Sequelize, folder: 'migrations' | 'seeders', tableName: string) {
  const queryInterface = sequelize.getQueryInterface();
  return new Umzug({
    migrations: {
      glob: ['*.js', { cwd: path.join(ROOT, folder) }],
      resolve: ({ name, path: file }) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const migration = require(file!) as CliMigration;
        return {
          name,
          up: () => migration.up(queryInterface, Sequelize),
          down: () => migration.down?.(queryInterface, Sequelize) ?? Promise.resolve(),
        };
      },
    },
    storage: new SequelizeStorage({ sequelize, tableName }),
    logger: undefined,
  });
}
