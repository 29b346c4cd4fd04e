import type { Router } from 'express';
import { Sql } from '../../shared/db/sql';
import type { OutboxRepository } from '../events';
import type { IdempotencyStore } from '../idempotency';
import { CancelPaymentUseCase } from './cancel-payment.use-case';
import { ConfirmPaymentUseCase } from './confirm-payment.use-case';
import { CreatePaymentUseCase } from './create-payment.use-case';
import { PaymentLedger } from './payment-ledger';
import { PaymentMover } from './payment-mover';
import { PaymentRepository } from './payment.repository';
import { PaymentsController } from './payments.controller';
import type { PaymentsDeps } from './payments.deps';
import { paymentsRouter } from './payments.routes';
import { createPaymentSchema, orderPricedPaymentSchema } from './payment.schemas';
import { ReadPaymentsUseCase } from './read-payments.use-case';
import { ReconcilePaymentsUseCase } from './reconcile-payments.use-case';
import { ReconcileQueueRepository } from './reconcile-queue.repository';
import { SyncPaymentUseCase } from './sync-payment.use-case';

export interface PaymentsModule {
  router: Router;
  /**
   * The repository, for this module and for tests; other modules see it only as `PaymentReads`
   * (read-only) and write through `ledger`.
   */
  payments: PaymentRepository;
  /** The one door for other modules' writes to payments, in their own transaction. */
  ledger: PaymentLedger;
  sync: SyncPaymentUseCase;
  reconcile: ReconcilePaymentsUseCase;
}

export function createPaymentsModule(
  deps: Omit<PaymentsDeps, 'payments' | 'mover' | 'ledger'>,
  idempotency: IdempotencyStore,
  outbox: OutboxRepository,
): PaymentsModule {
  const sql = new Sql(deps.sequelize);
  const payments = new PaymentRepository(sql);
  const mover = new PaymentMover(payments, outbox, deps.metrics);
  const ledger = new PaymentLedger(payments, mover, outbox);
  const full: PaymentsDeps = { ...deps, payments, mover, ledger, outbox };
  const create = new CreatePaymentUseCase(full);
  const sync = new SyncPaymentUseCase(full);
  const controller = new PaymentsController({
    create,
    confirm: new ConfirmPaymentUseCase(full),
    cancel: new CancelPaymentUseCase(full),
    read: new ReadPaymentsUseCase(payments),
  });
  return {
    router: paymentsRouter(controller, idempotency, deps.orders ? orderPricedPaymentSchema : createPaymentSchema),
    payments,
    ledger,
    sync,
    reconcile: new ReconcilePaymentsUseCase({ queue: new ReconcileQueueRepository(sql), sync, create }),
  };
}
