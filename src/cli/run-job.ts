/**
 * Runs one cron job once, now, with the same lock as the scheduled runs (and the same configuration
 * as the service: DATABASE_URL, REDIS_URL, JOB_LOCK, ...):
 *   npm run job -- reconcile-payments              (from a checkout: scripts/run-job.ts)
 *   node dist/src/cli/run-job.js reconcile-payments   (in the image, e.g. kubectl exec)
 * Prints `<job>: succeeded | failed | skipped_locked` and exits 0 (succeeded, or skipped because
 * another replica holds the lock), 1 (failed) or 2 (unknown job or bad configuration).
 */
import { buildContainer } from '../container';
import { createJobLock } from '../jobs/job-lock';
import { JobRunner } from '../jobs/job-runner';
import { jobDefinitions } from '../jobs/jobs.registry';
import { createProvider } from '../providers/create-provider';
import { ConfigError, loadConfig } from '../shared/config';
import { connectDatabase } from '../shared/db/database';
import { migrate } from '../shared/db/migrator';
import { logger } from '../shared/logger';
import { connectRedis, redisReady } from '../shared/redis';

async function main(): Promise<number> {
  const name = process.argv[2];
  const config = loadConfig();
  logger.level = config.logLevel;
  const db = await connectDatabase(config);
  const redis = config.redisUrl ? connectRedis(config.redisUrl) : undefined;
  // The client has no offline queue: a lock command sent before the first connection fails at once,
  // so a one-shot run waits for it as main.ts does (Redis down: the redis lock then fails the run).
  if (redis && !(await redisReady(redis, 3_000))) logger.warn('redis not reachable; a redis job lock will fail');
  try {
    if (config.migrateOnStart) await migrate(db.sequelize, { lock: !db.embedded });
    const container = buildContainer({ config, sequelize: db.sequelize, redis, provider: createProvider(config, db.sequelize) });
    const jobs = jobDefinitions(container);
    const job = jobs.find((j) => j.name === name);
    if (!job) {
      process.stderr.write(`Unknown job ${JSON.stringify(name ?? '')}. Jobs: ${jobs.map((j) => j.name).join(', ')}\n`);
      return 2;
    }
    const runner = new JobRunner({
      lock: createJobLock({ config, sequelize: db.sequelize, redis, embedded: db.embedded }),
      sequelize: db.sequelize,
      metrics: container.metrics,
    });
    const result = await runner.run(job.name, job.run);
    process.stdout.write(`${job.name}: ${result}\n`);
    return result === 'failed' ? 1 : 0;
  } finally {
    await redis?.quit().catch(() => undefined);
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
