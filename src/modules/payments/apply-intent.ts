import type { Transaction } from 'sequelize';
import type { ProviderPaymentIntent } from '../../providers/payment-provider';
import type { Payment } from './payment.model';
import type { MoveContext, MoveResult, PaymentMover } from './payment-mover';
import type { AppliedEvent, PaymentChanges } from './payment.repository';
import type { PaymentStatus } from './payment-status';

/** Our status for a provider PaymentIntent. A declined attempt leaves Stripe at requires_payment_method. */
export function statusFromIntent(intent: ProviderPaymentIntent): PaymentStatus {
  switch (intent.status) {
    case 'requires_payment_method':
      return intent.lastPaymentError ? 'failed' : 'pending';
    case 'requires_confirmation':
      return 'pending';
    case 'requires_action':
      return 'requires_action';
    case 'processing':
    case 'requires_capture':
      return 'processing';
    case 'succeeded':
      return 'succeeded';
    case 'canceled':
      return 'canceled';
  }
}

/**
 * Brings a locked payment in line with what the provider says about its intent. A move the state
 * machine refuses (e.g. `processing` after `succeeded`) changes nothing. `event` (the PaymentIntent
 * event that reported `intent`, if any) is recorded in the move's UPDATE when it writes one.
 */
export async function applyIntent(
  mover: PaymentMover,
  payment: Payment,
  intent: ProviderPaymentIntent,
  ctx: MoveContext,
  t: Transaction,
  event?: AppliedEvent,
): Promise<MoveResult> {
  const target = statusFromIntent(intent);
  // Refund and dispute states sit "after" succeeded; the intent still says succeeded there.
  if (target === 'succeeded' && (payment.status === 'partially_refunded' || payment.status === 'refunded')) {
    return { outcome: 'unchanged', payment };
  }
  const fields: PaymentChanges = {
    provider_payment_id: intent.id,
    client_secret: intent.clientSecret ?? payment.clientSecret,
    payment_method: intent.paymentMethod ?? payment.paymentMethod,
    next_action: intent.nextAction,
    provider_object: intent.raw,
  };
  if (target === 'failed') {
    fields.failure_code = intent.lastPaymentError?.declineCode ?? intent.lastPaymentError?.code ?? 'payment_failed';
    fields.failure_message = intent.lastPaymentError?.message ?? null;
  } else if (target !== 'canceled') {
    fields.failure_code = null;
    fields.failure_message = null;
  }
  return mover.move(payment, target, ctx, t, fields, event);
}
