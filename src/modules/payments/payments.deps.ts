import type { Sequelize } from 'sequelize';
import type { PaymentProvider } from '../../providers/payment-provider';
import type { Metrics } from '../../shared/metrics';
import type { OutboxRepository } from '../events';
import type { IdempotencyStore } from '../idempotency';
import type { OrderLookup } from '../orders';
import type { PaymentLedger } from './payment-ledger';
import type { PaymentMover } from './payment-mover';
import type { PaymentRepository } from './payment.repository';

/** What the payment use cases need; built once in `payments.module.ts`. */
export interface PaymentsDeps {
  sequelize: Sequelize;
  payments: PaymentRepository;
  mover: PaymentMover;
  ledger: PaymentLedger;
  /** For statements that write their outbox events themselves (a create's phase 3 in one statement). */
  outbox?: OutboxRepository;
  provider: PaymentProvider;
  idempotency: IdempotencyStore;
  metrics: Metrics;
  /** Set when ORDER_SERVICE_URL is: the order decides a payment's amount. */
  orders?: OrderLookup;
  /** Each user's provider customer (from the payment-methods module); without it, saved cards are not offered. */
  customers?: PaymentCustomers;
}

/** The port to the user's provider customer, for paying with a saved card or saving one. */
export interface PaymentCustomers {
  /** The user's customer id, or null when they have none yet. */
  find(userId: string): Promise<string | null>;
  /** The user's customer id, created at the provider on first need. */
  ensure(userId: string): Promise<string>;
}
