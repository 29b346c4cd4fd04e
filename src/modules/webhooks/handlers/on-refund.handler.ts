import { serializePayment, type Payment } from '../../payments';
import { applyRefundTotal, type ProviderRefundFacts, type RefundStatus } from '../../refunds';
import { findEventPayment, intentIdOf, notAboutPayment, paymentIdFromMetadata } from './find-event-payment';
import { ignored, processed, type EventHandler, type StripeObject } from './handler.types';

const REFUND_STATUSES: RefundStatus[] = ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'];

export function refundFacts(refund: StripeObject): ProviderRefundFacts {
  const status = REFUND_STATUSES.includes(refund.status as RefundStatus) ? (refund.status as RefundStatus) : 'pending';
  const ourRefundId = (refund.metadata as Record<string, unknown> | undefined)?.refund_id;
  return {
    ourRefundId: typeof ourRefundId === 'string' && /^ref_[A-Za-z0-9]+$/.test(ourRefundId) ? ourRefundId : null,
    providerRefundId: refund.id,
    amount: Number(refund.amount),
    currency: String(refund.currency),
    status,
    reason: typeof refund.reason === 'string' ? refund.reason : null,
    failureReason: typeof refund.failure_reason === 'string' ? refund.failure_reason : null,
  };
}

/**
 * Why a provider refund cannot be one of `payment`'s, or null when it can: Stripe refunds a charge in
 * the charge's currency, an integer amount in minor units of at most what was charged
 * (https://docs.stripe.com/api/refunds/object). A refund row that breaks this would overstate what
 * was refunded (`GET .../refunds`, analytics), so such a refund is never stored.
 */
export function refundMisfit(facts: ProviderRefundFacts, payment: Payment): 'invalid_amount' | 'currency_mismatch' | null {
  if (!Number.isSafeInteger(facts.amount) || facts.amount <= 0 || facts.amount > payment.amount) return 'invalid_amount';
  if (facts.currency.toLowerCase() !== payment.currency) return 'currency_mismatch';
  return null;
}

/** refund.created / refund.updated / refund.failed (dashboard refunds included): one row per Stripe refund. */
export const onRefund: EventHandler = async (refund, ctx) => {
  const payment = await findEventPayment(ctx, { paymentId: paymentIdFromMetadata(refund), providerPaymentId: intentIdOf(refund) });
  if (!payment) return ignored('not_ours');
  const mismatch = notAboutPayment(refund, payment);
  if (mismatch) return ignored(mismatch, payment.id);
  const facts = refundFacts(refund);
  const misfit = refundMisfit(facts, payment);
  if (misfit) return ignored(misfit, payment.id);
  const row = await ctx.refunds.upsertFromProvider(payment.id, facts, ctx.source, ctx.t);
  const updated = await applyRefundTotal(ctx, payment, { source: ctx.source, eventId: ctx.eventId }, ctx.t);
  if (row.status === 'failed' && ctx.eventType === 'refund.failed') {
    await ctx.outbox.append(
      'refund.failed',
      updated,
      { refund_id: row.id, provider_refund_id: row.providerRefundId, amount: row.amount, payment: serializePayment(updated) },
      ctx.t,
    );
  }
  return processed('refund_recorded', updated);
};
