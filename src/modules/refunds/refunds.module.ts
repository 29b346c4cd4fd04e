import type { Router } from 'express';
import type { Sequelize } from 'sequelize';
import type { PaymentProvider } from '../../providers/payment-provider';
import { Sql } from '../../shared/db/sql';
import type { Metrics } from '../../shared/metrics';
import type { OutboxRepository } from '../events';
import type { IdempotencyStore } from '../idempotency';
import type { PaymentsModule } from '../payments';
import { CreateRefundUseCase } from './create-refund.use-case';
import { ReconcileRefundsUseCase } from './reconcile-refunds.use-case';
import { RefundReconcileQueueRepository } from './refund-reconcile-queue.repository';
import { RefundRepository } from './refund.repository';
import { refundsRouter } from './refunds.routes';

export interface RefundsModule {
  router: Router;
  refunds: RefundRepository;
  /** Re-reads refunds still pending at the provider (the reconcile job). */
  reconcile: ReconcileRefundsUseCase;
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
    ledger: deps.payments.ledger,
    refunds,
    outbox: deps.outbox,
    provider: deps.provider,
    idempotency: deps.idempotency,
    metrics: deps.metrics,
  });
  const reconcile = new ReconcileRefundsUseCase({
    sequelize: deps.sequelize,
    provider: deps.provider,
    metrics: deps.metrics,
    queue: new RefundReconcileQueueRepository(sql),
    refunds,
    ledger: deps.payments.ledger,
    outbox: deps.outbox,
  });
  return { router: refundsRouter({ payments: deps.payments.payments, refunds, create, idempotency: deps.idempotency }), refunds, reconcile };
}
