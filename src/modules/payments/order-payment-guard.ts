import type { Transaction } from 'sequelize';
import { AppError } from '../../shared/errors';
import type { Payment } from './payment.model';
import type { PaymentRepository } from './payment.repository';
import { isOpen } from './payment-status';

/** 409 `order_already_paid`: the order has a payment whose money moved (or is moving), named in `payment_id`. */
export const orderAlreadyPaid = (orderId: string, paid: Payment) =>
  new AppError('order_already_paid', `Order ${orderId} is ${isOpen(paid.status) ? 'being paid' : 'already paid'} by payment ${paid.id} (${paid.status})`, {
    param: 'order_id',
    details: { payment_id: paid.id, payment_status: paid.status },
  });

/**
 * One order, one charge: the rule every create with an `order_id` passes, whatever its
 * Idempotency-Key (a new key per attempt must not pay the order twice). Takes the (user, order)
 * transaction-scoped advisory lock, so concurrent creates on any replica are decided one at a time,
 * then:
 * - a succeeded, partially_refunded or refunded payment of the order: 409 `order_already_paid`;
 * - an open payment (see `findOpenForOrder`) for the same amount (minor units) and currency: it is
 *   the answer (the caller returns it with 200 instead of creating one);
 * - an open payment for another amount or currency: 409 `order_payment_conflict`;
 * - else (no payment, or only canceled ones and failed ones that can never be retried): null, create.
 * Call inside the transaction that inserts the payment, so the lock covers the insert.
 */
export async function claimOrder(
  payments: PaymentRepository,
  userId: string,
  orderId: string,
  price: { amount: number; currency: string },
  t: Transaction,
): Promise<Payment | null> {
  await payments.lockOrder(userId, orderId, t);
  const paid = await payments.findPaidForOrder(userId, orderId, t);
  if (paid) throw orderAlreadyPaid(orderId, paid);
  const open = await payments.findOpenForOrder(userId, orderId, t);
  if (!open) return null;
  if (open.amount === price.amount && open.currency === price.currency) return open;
  throw new AppError('order_payment_conflict', `Order ${orderId} already has an open payment for another amount`, {
    param: 'order_id',
    details: { payment_id: open.id },
  });
}

/**
 * How long a confirm holds its order (seconds): longer than a provider call with its SDK retries, so
 * the claim outlives the call it covers; a process that dies holding it frees the order after this.
 */
export const CONFIRM_CLAIM_SECONDS = 120;

/**
 * The confirm side of the rule, under the order's lock and before the provider is called: confirming
 * a payment while another payment of the same order is processing, succeeded, partially_refunded or
 * refunded, or is being confirmed right now (on any replica), is 409 `order_already_paid`. Otherwise
 * the payment claims the order (`confirm_claimed_until`) for the provider call; the caller ends the
 * claim with `setConfirmClaim(id, null)` when the call is over. Payments without an order are not checked.
 */
export async function claimOrderForConfirm(payments: PaymentRepository, payment: Payment, t: Transaction): Promise<void> {
  if (!payment.orderId) return;
  await payments.lockOrder(payment.userId, payment.orderId, t);
  const other = await payments.findConfirmBlocker(payment.userId, payment.orderId, payment.id, t);
  if (other) throw orderAlreadyPaid(payment.orderId, other);
  await payments.setConfirmClaim(payment.id, CONFIRM_CLAIM_SECONDS, t);
}
