import type { Principal } from '../../shared/auth/jwt-verifier';
import type { Transaction } from 'sequelize';
import { paymentNotFound } from './payment.errors';
import type { Payment } from './payment.model';
import type { PaymentRepository } from './payment.repository';

/** Loads a payment the actor may see: admins see all, customers their own; anything else is 404 (never 403). */
export async function findVisiblePayment(
  payments: PaymentRepository,
  id: string,
  actor: Principal,
  t?: Transaction,
  options: { lock?: boolean } = {},
): Promise<Payment> {
  const payment = /^pay_[A-Za-z0-9]{1,64}$/.test(id) ? await payments.findById(id, t, options) : null;
  if (!payment || (actor.role !== 'admin' && payment.userId !== actor.userId)) throw paymentNotFound();
  return payment;
}
