import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../errors';
import { logger } from '../logger';

/**
 * Per-user (else per-IP) request budget per minute. Shared through Redis when configured; otherwise
 * an in-process limiter, which is right only for a single instance. With Redis down or stalled the
 * in-process insurance limiter answers at once (see `connectRedis`), so an outage costs no latency.
 */
export function rateLimit(perMinute: number, redis?: Redis): RequestHandler {
  if (perMinute <= 0) return (_req, _res, next) => next();
  const options = { points: perMinute, duration: 60, keyPrefix: 'payments:ratelimit' };
  const limiter: RateLimiterAbstract = redis
    ? new RateLimiterRedis({
        ...options,
        storeClient: redis,
        // Redis not connected: count in memory at once rather than wait (the client has no offline queue either).
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(options),
      })
    : new RateLimiterMemory(options);

  return async (req, res, next) => {
    const key = req.auth ? `user:${req.auth.userId}` : `ip:${req.ip}`;
    try {
      const state = await limiter.consume(key);
      res.set('X-RateLimit-Remaining', String(state.remainingPoints));
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        res.set('Retry-After', String(Math.ceil(rejection.msBeforeNext / 1000)));
        throw new AppError('rate_limited', 'Too many requests; slow down and retry later');
      }
      // The limiter's store failing must not take the API down with it.
      logger.warn('rate limiter unavailable', { err: rejection });
    }
    next();
  };
}
