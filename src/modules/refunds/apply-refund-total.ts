import type { Transaction } from 'sequelize';
import type { MoveSource, Payment, PaymentMover, PaymentRepository } from '../payments';
import type { RefundRepository } from './refund.repository';

/**
 * Recomputes a payment's refunded amount from its refund rows (each provider refund counted once)
 * and moves it to partially_refunded or refunded. A refund proves the charge succeeded, so a payment
 * still open is first moved to succeeded (the succeeded event may simply not have arrived yet).
 */
export async function applyRefundTotal(
  deps: { refunds: RefundRepository; mover: PaymentMover; payments: PaymentRepository },
  payment: Payment,
  ctx: { source: MoveSource; eventId?: string | null },
  t: Transaction,
): Promise<Payment> {
  const total = Math.min(await deps.refunds.countedTotal(payment.id, t), payment.amount);
  if (total === payment.amountRefunded) return payment;

  let current = payment;
  if (total > 0 && ['pending', 'requires_action', 'processing', 'failed'].includes(current.status)) {
    current = (await deps.mover.move(current, 'succeeded', ctx, t)).payment;
  }
  const target = total === 0 ? null : total >= current.amount ? 'refunded' : 'partially_refunded';
  if (target) {
    const moved = await deps.mover.move(current, target, ctx, t, { amount_refunded: total });
    if (moved.outcome !== 'refused') return moved.payment;
  }
  // A refund that failed after being counted lowers the total; the status stays where it is.
  return deps.payments.update(current.id, { amount_refunded: total }, t);
}
