import type { Server } from 'node:http';
import path from 'node:path';
import { createApp } from './app';
import { buildContainer } from './container';
import { startScheduler } from './jobs/scheduler';
import { createProvider } from './providers/create-provider';
import { ConfigError, configWarnings, loadConfig } from './shared/config';
import { connectDatabase } from './shared/db/database';
import { migrate } from './shared/db/migrator';
import { ConnectionDrain } from './shared/http/connection-drain';
import { reportError } from './shared/http/error-handler';
import { logger } from './shared/logger';
import { connectRedis, redisReady } from './shared/redis';

// At most this long (ms) for unlocking abandoned idempotency keys once the shutdown timeout has run out.
const FORCED_RELEASE_MS = 2_000;

/** Composition root: config -> database -> redis -> provider -> HTTP + jobs; SIGTERM drains. */
async function main(): Promise<void> {
  const config = loadConfig();
  logger.level = config.logLevel;
  for (const warning of configWarnings(config)) logger.warn(warning);

  const db = await connectDatabase(config);
  // MIGRATE_ON_START=false: a migration Job ran them before the rollout (k8s/migrate-job.yaml).
  if (config.migrateOnStart) await migrate(db.sequelize, { lock: !db.embedded });
  const redis = config.redisUrl ? connectRedis(config.redisUrl) : undefined;
  // The client has no offline queue: give it a moment to connect before work is sent through it.
  if (redis && !(await redisReady(redis, 3_000))) logger.warn('redis not reachable at start-up; serving without it until it is');
  const provider = createProvider(config, db.sequelize);
  const container = buildContainer({ config, sequelize: db.sequelize, redis, provider });
  const app = createApp(container);
  const scheduler = config.jobsEnabled ? startScheduler(container, { embedded: db.embedded }) : undefined;
  // The webhook worker always runs: events must be applied even where cron jobs are turned off.
  container.webhooks.worker.start();
  container.events.dispatcher.start();

  const server: Server = app.listen(config.port, config.host);
  const connections = new ConnectionDrain(server);
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
      (config.checkoutPageEnabled ? `Checkout page:  ${url}/checkout  (pay with the test card 4242 4242 4242 4242)\n` : '') +
      `Get a token:  npm run token -- --user u_1            (customer)\n` +
      `              npm run token -- --user admin_1 --admin  (admin)\n` +
      `Then:         curl -H "Authorization: Bearer <token>" ${url}/v1/payments\n\n`,
  );

  let stopping = false;
  // Out of time: unlock the keys of requests still running (their retries resume the work), then go.
  const forceExit = async () => {
    logger.error('shutdown timed out; exiting', { open_connections: connections.openConnections });
    const released = await Promise.race([
      container.idempotency.releaseHeld(),
      new Promise<number>((resolve) => setTimeout(() => resolve(-1), FORCED_RELEASE_MS).unref()),
    ]).catch(() => -1);
    if (released !== 0) logger.warn('idempotency keys of abandoned requests', { released });
    connections.destroyAll();
    process.exit(1);
  };
  // Stop accepting, finish what is in hand, and exit 0. Requests in flight finish and are answered
  // with `Connection: close`; /ready answers 503; the pollers stop between items.
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const since = Date.now();
    logger.info('shutting down', { signal });
    container.lifecycle.beginDrain();
    const force = setTimeout(() => void forceExit(), config.shutdownTimeoutMs).unref();
    await Promise.all([
      connections.drain(),
      scheduler?.stop(),
      container.webhooks.worker.stop(),
      container.events.dispatcher.stop(),
    ]);
    await redis?.quit().catch(() => undefined);
    await db.close();
    clearTimeout(force);
    logger.info('stopped', { drain_ms: Date.now() - since });
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
