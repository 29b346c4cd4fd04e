import type { Router } from 'express';
import type { Sequelize } from 'sequelize';
import type { PaymentProvider } from '../../providers/payment-provider';
import { Sql } from '../../shared/db/sql';
import type { Metrics } from '../../shared/metrics';
import type { OutboxRepository } from '../events';
import type { IdempotencyStore } from '../idempotency';
import type { PaymentsModule } from '../payments';
import { CreateRefundUseCase } from './create-refund.use-case';
import { RefundRepository } from './refund.repository';
import { refundsRouter } from './refunds.routes';

export interface RefundsModule {
  router: Router;
  refunds: RefundRepository;
}

export function createRefundsModule(deps: {
  sequelize: Sequelize;
  provider: PaymentProvider;
  idempotency: IdempotencyStore;
  metrics: Metrics;
  payments: PaymentsModule;
  outbox: OutboxRepository;
}): RefundsModule {
  const sql = new Sql(deps.sequelize);
  const refunds = new RefundRepository(sql);
  const create = new CreateRefundUseCase({
    sequelize: deps.sequelize,
    payments: deps.payments.payments,
    refunds,
    mover: deps.payments.mover,
    outbox: deps.outbox,
    provider: deps.provider,
    idempotency: deps.idempotency,
    metrics: deps.metrics,
  });
  return { router: refundsRouter({ payments: deps.payments.payments, refunds, create, idempotency: deps.idempotency }), refunds };
}
