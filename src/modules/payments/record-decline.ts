import type { ProviderDeclinedError } from '../../providers/payment-provider';
import { withTransaction } from '../../shared/db/database';
import { declineReason } from './payment.errors';
import type { Payment } from './payment.model';
import type { MoveSource } from './payment-status';
import type { PaymentsDeps } from './payments.deps';

/**
 * A decline whose error does not carry the PaymentIntent (Stripe's 402 card error need not include
 * `payment_intent`) is still a final answer: the payment becomes `failed` with the decline code, the
 * same as when the intent comes along. The intent's own events bring the rest of it later.
 * Returns the payment as it is after the move (a move the state machine refuses changes nothing).
 */
export function recordDeclineWithoutIntent(
  deps: Pick<PaymentsDeps, 'sequelize' | 'payments' | 'mover'>,
  paymentId: string,
  err: ProviderDeclinedError,
  source: MoveSource,
): Promise<Payment> {
  return withTransaction(deps.sequelize, async (t) => {
    const current = (await deps.payments.findById(paymentId, t, { lock: true }))!;
    const fields = { failure_code: declineReason(err.error), failure_message: err.error.message || null };
    return (await deps.mover.move(current, 'failed', { source }, t, fields)).payment;
  });
}
