/**
 * Applies the migrations and reference data, then exits: the Kubernetes migration Job
 * (k8s/migrate-job.yaml) runs it once before a rollout, and the replicas start with
 * MIGRATE_ON_START=false. Holds the same advisory lock as a migrating start-up, so the two never race.
 *   node dist/src/cli/migrate.js        (in the image)
 * Exits 0 when the schema is up to date, 1 on failure, 2 on bad configuration.
 */
import { ConfigError, loadConfig } from '../shared/config';
import { connectDatabase } from '../shared/db/database';
import { migrate } from '../shared/db/migrator';
import { logger } from '../shared/logger';

async function main(): Promise<void> {
  const config = loadConfig();
  logger.level = config.logLevel;
  const db = await connectDatabase(config);
  try {
    await migrate(db.sequelize, { lock: !db.embedded });
    logger.info('migrations applied');
  } finally {
    await db.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
