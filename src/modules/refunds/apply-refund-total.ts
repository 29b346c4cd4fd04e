import type { Transaction } from 'sequelize';
import type { MoveContext, Payment, PaymentLedger } from '../payments';
import type { RefundRepository } from './refund.repository';

/**
 * Brings a locked payment's refunded amount in line with its refund rows: the total that counts
 * (pending, requires_action and succeeded refunds, each provider refund once) is summed here, and
 * the payments module writes it (`PaymentLedger.applyRefundTotal`, which also moves the status).
 * Returns the payment as it is after the write.
 */
export async function applyRefundTotal(
  deps: { refunds: RefundRepository; payments: PaymentLedger },
  payment: Payment,
  ctx: MoveContext,
  t: Transaction,
): Promise<Payment> {
  return deps.payments.applyRefundTotal(payment, await deps.refunds.countedTotal(payment.id, t), ctx, t);
}
