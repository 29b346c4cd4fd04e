import type { Redis } from 'ioredis';
import { Gauge } from 'prom-client';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { Metrics } from '../../shared/metrics';

/**
 * Gauges read from the database at scrape time (each replica answers for the whole database, so
 * dashboards take `max` over instances, not `sum`):
 * - `payments_by_status{status}`: payments per status; an index-only scan of `payments_open_idx (status, updated_at)`.
 * - `service_dependency_up{dependency}`: 1 when the database (Redis, when configured) answers, as `/ready` checks.
 * - `outbox_delivery_oldest_pending_age_seconds`: age of the oldest delivery still pending (0 when none),
 *   seconds; `outbox_deliveries_state_idx (state, created_at)` answers it.
 * Read-only SQL on purpose: metrics must not go through a module's write paths. A failing query
 * leaves the last values (the scrape still answers).
 */
export function registerOpsGauges(deps: { sequelize: Sequelize; redis?: Redis; metrics: Metrics }): void {
  const { sequelize, redis, metrics } = deps;
  new Gauge({
    name: 'service_dependency_up',
    help: 'Whether a dependency answers (database, redis): 1 up, 0 down; what /ready checks',
    labelNames: ['dependency'],
    registers: [metrics.registry],
    async collect() {
      const up = (check: Promise<unknown>) => withTimeout(check).then(() => 1, () => 0);
      this.set({ dependency: 'database' }, await up(sequelize.query('SELECT 1')));
      if (redis) this.set({ dependency: 'redis' }, await up(redis.ping()));
    },
  });
  new Gauge({
    name: 'payments_by_status',
    help: 'Payments by current status (read from the database at scrape time)',
    labelNames: ['status'],
    registers: [metrics.registry],
    async collect() {
      const counted = await sequelize
        .query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM payments GROUP BY status', { type: QueryTypes.SELECT })
        .catch(() => undefined);
      if (!counted) return;
      this.reset();
      for (const { status, n } of counted) this.set({ status }, Number(n));
    },
  });
  new Gauge({
    name: 'outbox_delivery_oldest_pending_age_seconds',
    help: 'Age of the oldest event delivery still pending, seconds (0 when none is pending)',
    registers: [metrics.registry],
    async collect() {
      const [row] = await sequelize
        .query<{ age: string | null }>(
          `SELECT EXTRACT(EPOCH FROM now() - min(created_at)) AS age FROM outbox_deliveries WHERE state = 'pending'`,
          { type: QueryTypes.SELECT },
        )
        .catch(() => [undefined]);
      if (row) this.set(Math.max(0, Number(row.age ?? 0)));
    },
  });
}

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref()),
  ]);
}
