import { AppError } from '../../shared/errors';
import { checkAmount, formatMinor } from '../../shared/money';
import type { OrderLookup } from '../orders';
import type { OrderCheck } from './payment.model';
import type { CreatePaymentBody } from './payment.schemas';

/** The amount a payment is created for, and where it came from. */
export interface Price {
  /** Minor units. */
  amount: number;
  currency: string;
  /** The order service's answer, when it decided the price; null when the client's amount is used. */
  orderCheck: OrderCheck | null;
}

/**
 * Decides what a new payment charges (issue #9, Stripe: "always decide how much to charge on the
 * server side"). With an order service and an `order_id`, the order decides: an order the service
 * does not have, or of another user than `userId` (who will own the payment, admins included), is
 * 404 `order_not_found`; an order that is not `pending`, or whose amount Stripe would refuse, is 409
 * `order_not_payable`; a client `amount`/`currency` other than the order's is 422 `amount_mismatch`.
 * Without an order service or an `order_id`, the client's amount (validated at the edge) is used.
 * Lookup faults propagate (503 `order_service_unavailable`, 502 `order_service_invalid_response`).
 */
export async function priceOf(input: CreatePaymentBody, userId: string, orders?: OrderLookup): Promise<Price> {
  if (!orders || !input.order_id) {
    // The edge schema requires both in this case (createPaymentSchema, or orderPricedPaymentSchema without order_id).
    return { amount: input.amount!, currency: input.currency!, orderCheck: null };
  }
  const order = await orders.findOrder(input.order_id, userId);
  const checkedAt = new Date();
  // Another user's order answers like a missing one (API.md: 404, not 403), so ids cannot be probed.
  if (!order || order.user_id !== userId) {
    throw new AppError('order_not_found', `No such order: ${input.order_id}`, { param: 'order_id' });
  }
  if (order.status !== 'pending') {
    throw new AppError('order_not_payable', `Order ${order.id} is ${order.status}; only a pending order can be paid`, {
      param: 'order_id',
      details: { order_status: order.status },
    });
  }
  if (input.currency !== undefined && input.currency !== order.currency) {
    throw new AppError('amount_mismatch', `currency '${input.currency}' does not match the order's '${order.currency}'`, { param: 'currency' });
  }
  if (input.amount !== undefined && input.amount !== order.amount) {
    throw new AppError('amount_mismatch', `amount ${input.amount} does not match the order's ${order.amount} (${formatMinor(order.amount, order.currency)})`, {
      param: 'amount',
    });
  }
  const problem = checkAmount(order.amount, order.currency);
  if (problem) {
    throw new AppError('order_not_payable', `Order ${order.id} cannot be charged: ${problem.message}`, {
      param: 'order_id',
      details: { order_status: order.status },
    });
  }
  return { amount: order.amount, currency: order.currency, orderCheck: { amount: order.amount, currency: order.currency, checkedAt } };
}
