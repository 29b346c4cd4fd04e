import { Redis } from 'ioredis';
import { logger } from './logger';

/**
 * How long one command may wait for its reply (ms). Redis answers in well under a millisecond; a
 * command still unanswered after this means Redis is stalled, and every caller has a fallback.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 500;

/**
 * A Redis client when REDIS_URL is set (`rediss://` for TLS), safe on the request path: a command
 * never waits for Redis to come back. With the connection down it fails at once (no offline queue),
 * with Redis stalled it fails after `REDIS_COMMAND_TIMEOUT_MS`, and a socket that stops answering is
 * dropped and reconnected, so the status leaves `ready` and callers skip Redis until it is back.
 * Callers (rate limiter, readiness, the events stream) all have their own fallback or retry.
 */
export function connectRedis(url: string): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // A stalled server (paused, partitioned without a reset) keeps the socket open forever otherwise.
    socketTimeout: REDIS_COMMAND_TIMEOUT_MS * 2,
    // Commands in flight when the connection drops fail instead of being resent after a reconnect.
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    lazyConnect: false,
  });
  client.on('error', (err) => logger.warn('redis error', { err: err.message }));
  return client;
}

/**
 * Resolves once `client` is ready, or after `timeoutMs` if it is not (Redis down at start-up is not
 * fatal: readiness says so and callers fall back). Without an offline queue, work issued before the
 * first connection would fail needlessly, so start-up waits this long for it.
 */
export async function redisReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.once('ready', onReady);
  });
}
