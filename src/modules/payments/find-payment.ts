import type { Principal } from '../../shared/auth/jwt-verifier';
import type { Transaction } from 'sequelize';
import { paymentNotFound } from './payment.errors';
import type { Payment } from './payment.model';
import type { PaymentRepository } from './payment.repository';

/**
 * What other modules may read of payments: one payment by id, outside any transaction (locking and
 * writing go through `PaymentLedger`).
 */
export interface PaymentReads {
  findById(id: string): Promise<Payment | null>;
}

/** Loads a payment the actor may see: admins see all, customers their own; anything else is 404 (never 403). */
export async function findVisiblePayment(
  payments: Pick<PaymentRepository, 'findById'>,
  id: string,
  actor: Principal,
  t?: Transaction,
  options: { lock?: boolean } = {},
): Promise<Payment> {
  const payment = /^pay_[A-Za-z0-9]{1,64}$/.test(id) ? await payments.findById(id, t, options) : null;
  if (!payment || (actor.role !== 'admin' && payment.userId !== actor.userId)) throw paymentNotFound();
  return payment;
}
