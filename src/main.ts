import type { Server } from 'node:http';
import path from 'node:path';
import { createApp } from './app';
import { buildContainer } from './container';
import { startScheduler } from './jobs/scheduler';
import { createProvider } from './providers/create-provider';
import { ConfigError, loadConfig } from './shared/config';
import { connectDatabase } from './shared/db/database';
import { migrate } from './shared/db/migrator';
import { reportError } from './shared/http/error-handler';
import { logger } from './shared/logger';
import { connectRedis } from './shared/redis';

/** Composition root: config -> database -> redis -> provider -> HTTP + jobs; SIGTERM drains. */
async function main(): Promise<void> {
  const config = loadConfig();
  logger.level = config.logLevel;

  const db = await connectDatabase(config);
  // MIGRATE_ON_START=false: a migration Job ran them before the rollout (k8s/migrate-job.yaml).
  if (config.migrateOnStart) await migrate(db.sequelize, { lock: !db.embedded });
  const redis = config.redisUrl ? connectRedis(config.redisUrl) : undefined;
  const provider = createProvider(config, db.sequelize);
  const container = buildContainer({ config, sequelize: db.sequelize, redis, provider });
  const app = createApp(container);
  const scheduler = config.jobsEnabled ? startScheduler(container, { embedded: db.embedded }) : undefined;
  // The webhook worker always runs: events must be applied even where cron jobs are turned off.
  container.webhooks.worker.start();
  container.events.dispatcher.start();

  const server: Server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  // Slow or stalled clients are cut off instead of holding sockets forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  const url = config.publicUrl ?? `http://localhost:${config.port}`;
  logger.info('payments-service started', {
    url,
    database: db.embedded ? `embedded PGlite in ${path.resolve(config.database.dataDir)}` : 'DATABASE_URL',
    redis: redis ? 'REDIS_URL' : 'in-process stand-ins',
    provider: config.provider,
  });
  process.stdout.write(
    `\npayments-service is running at ${url}  (API docs: ${url}/docs, contract: ${url}/openapi.json)\n` +
      `Get a token:  npm run token -- --user u_1            (customer)\n` +
      `              npm run token -- --user admin_1 --admin  (admin)\n` +
      `Then:         curl -H "Authorization: Bearer <token>" ${url}/v1/payments\n\n`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    // Stop accepting connections; in-flight requests finish, idle keep-alive sockets close.
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await scheduler?.stop();
    await container.webhooks.worker.stop();
    await container.events.dispatcher.stop();
    await redis?.quit().catch(() => undefined);
    await db.close();
    clearTimeout(force);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

process.on('unhandledRejection', (reason) => reportError(reason, { source: 'unhandledRejection' }));

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    reportError(err, { source: 'startup' });
  }
  process.exit(1);
});
