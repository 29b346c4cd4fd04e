import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import { logger } from '../logger';

/** The folder holding migrations/ and seeders/: the repository root (tsx) or dist/'s parent (compiled). */
function findRoot(): string {
  const candidates = [path.resolve(__dirname, '../../..'), path.resolve(__dirname, '../../../..')];
  const root = candidates.find((dir) => existsSync(path.join(dir, 'migrations')));
  if (!root) throw new Error(`migrations/ not found (looked in ${candidates.join(', ')})`);
  return root;
}
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
  const root = findRoot();
  // A build that lost its migrations must not start on an empty schema and fail every request.
  if (!readdirSync(path.join(root, 'migrations')).some((f) => f.endsWith('.js'))) {
    throw new Error(`No migrations in ${path.join(root, 'migrations')}`);
  }
  const run = async () => {
    const migrations = await umzugFor(sequelize, root, 'migrations', 'SequelizeMeta').up();
    const seeds = await umzugFor(sequelize, root, 'seeders', 'SequelizeData').up();
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

function umzugFor(sequelize: Sequelize, root: string, folder: 'migrations' | 'seeders', tableName: string) {
  const queryInterface = sequelize.getQueryInterface();
  return new Umzug({
    migrations: {
      glob: ['*.js', { cwd: path.join(root, folder) }],
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
    // modelName too: umzug otherwise reuses its `SequelizeMeta` model and records seeders there.
    storage: new SequelizeStorage({ sequelize, tableName, modelName: tableName }),
    logger: undefined,
  });
}
