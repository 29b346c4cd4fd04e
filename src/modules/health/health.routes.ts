import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Sequelize } from 'sequelize';
import type { Lifecycle } from '../../shared/lifecycle';
import type { Metrics } from '../../shared/metrics';

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref()),
  ]);
}

/**
 * Liveness, readiness (naming what is down; 503 `draining` once SIGTERM has started the drain) and
 * Prometheus metrics; no auth.
 */
export function healthRouter(deps: { sequelize: Sequelize; redis?: Redis; metrics: Metrics; lifecycle?: Lifecycle }): Router {
  const router = Router();

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/ready', async (req, res) => {
    if (deps.lifecycle?.draining) {
      res.status(503).set('Retry-After', '5').json({
        error: { type: 'api_error', code: 'service_unavailable', message: 'Not ready: shutting down', request_id: req.id },
        status: 'draining',
      });
      return;
    }
    const checks: Record<string, 'up' | 'down' | 'not_configured'> = {};
    checks.database = await withTimeout(deps.sequelize.query('SELECT 1')).then(() => 'up' as const, () => 'down' as const);
    checks.redis = deps.redis
      ? await withTimeout(deps.redis.ping()).then(() => 'up' as const, () => 'down' as const)
      : 'not_configured';
    const down = Object.entries(checks).filter(([, state]) => state === 'down').map(([name]) => name);
    if (down.length === 0) {
      res.json({ status: 'ready', checks });
      return;
    }
    res.status(503).set('Retry-After', '5').json({
      error: {
        type: 'api_error',
        code: 'service_unavailable',
        message: `Not ready: ${down.join(', ')} down`,
        request_id: req.id,
      },
      status: 'unavailable',
      down,
      checks,
    });
  });

  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return router;
}
