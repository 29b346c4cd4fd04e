import type { Redis } from 'ioredis';
import type { Sequelize } from 'sequelize';
import { IdempotencyStore } from './modules/idempotency';
import { createPaymentsModule, type PaymentsModule } from './modules/payments';
import type { PaymentProvider } from './providers/payment-provider';
import { JwtVerifier } from './shared/auth/jwt-verifier';
import type { Config } from './shared/config';
import { Sql } from './shared/db/sql';
import { createMetrics, type Metrics } from './shared/metrics';

export interface Infrastructure {
  config: Readonly<Config>;
  sequelize: Sequelize;
  redis?: Redis;
  provider: PaymentProvider;
  metrics?: Metrics;
}

/** Every module, wired once. The HTTP app and the jobs are built from the same container. */
export interface Container extends Infrastructure {
  metrics: Metrics;
  verifier: JwtVerifier;
  idempotency: IdempotencyStore;
  payments: PaymentsModule;
}

export function buildContainer(infra: Infrastructure): Container {
  const { config, sequelize, provider } = infra;
  const metrics = infra.metrics ?? createMetrics();
  const sql = new Sql(sequelize);
  const idempotency = new IdempotencyStore(sequelize, sql, config.idempotency);
  const payments = createPaymentsModule({ sequelize, provider, idempotency, metrics }, idempotency);
  return { ...infra, metrics, verifier: new JwtVerifier(config.jwt), idempotency, payments };
}
