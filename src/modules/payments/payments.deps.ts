import type { Sequelize } from 'sequelize';
import type { PaymentProvider } from '../../providers/payment-provider';
import type { Metrics } from '../../shared/metrics';
import type { IdempotencyStore } from '../idempotency';
import type { OrderLookup } from '../orders';
import type { PaymentMover } from './payment-mover';
import type { PaymentRepository } from './payment.repository';

/** What the payment use cases need; built once in `payments.module.ts`. */
export interface PaymentsDeps {
  sequelize: Sequelize;
  payments: PaymentRepository;
  mover: PaymentMover;
  provider: PaymentProvider;
  idempotency: IdempotencyStore;
  metrics: Metrics;
  /** Set when ORDER_SERVICE_URL is: the order decides a payment's amount. */
  orders?: OrderLookup;
}
