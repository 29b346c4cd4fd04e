import { Redis } from 'ioredis';
import { logger } from './logger';

/** A Redis client when REDIS_URL is set (`rediss://` for TLS); commands fail fast instead of queueing forever. */
export function connectRedis(url: string): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    enableOfflineQueue: true,
    lazyConnect: false,
  });
  client.on('error', (err) => logger.warn('redis error', { err: err.message }));
  return client;
}
