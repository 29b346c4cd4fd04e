import { applyRefundTotal } from '../../refunds';
import { findEventPayment, intentIdOf, notAboutPayment, paymentIdFromMetadata } from './find-event-payment';
import { ignored, processed, type EventHandler, type StripeObject } from './handler.types';
import { refundFacts, refundMisfit } from './on-refund.handler';

/**
 * charge.refunded carries the charge: its refunds (when Stripe includes them) are recorded one by
 * one; any part of `amount_refunded` no refund names yet is held as one refund without a provider
 * id, which the refund.* event adopts when it arrives, so nothing is counted twice.
 */
export const onChargeRefunded: EventHandler = async (charge, ctx) => {
  const payment = await findEventPayment(ctx, { paymentId: paymentIdFromMetadata(charge), providerPaymentId: intentIdOf(charge) });
  if (!payment) return ignored('not_ours');
  const mismatch = notAboutPayment(charge, payment);
  if (mismatch) return ignored(mismatch, payment.id);

  const listed = ((charge.refunds as { data?: StripeObject[] } | undefined)?.data ?? []).filter((r) => r?.object === 'refund');
  for (const refund of listed) {
    const facts = refundFacts(refund);
    // A listed refund that cannot be this charge's is skipped; amount_refunded (capped) still counts.
    if (!refundMisfit(facts, payment)) await ctx.refunds.upsertFromProvider(payment.id, facts, ctx.source, ctx.t);
  }

  const reported = Math.min(Number(charge.amount_refunded ?? 0), payment.amount);
  const known = await ctx.refunds.countedTotal(payment.id, ctx.t);
  if (reported > known) {
    await ctx.refunds.upsertFromProvider(
      payment.id,
      { providerRefundId: null, amount: reported - known, currency: payment.currency, status: 'succeeded', reason: null, failureReason: null },
      ctx.source,
      ctx.t,
    );
  }
  const updated = await applyRefundTotal(ctx, payment, { source: ctx.source, eventId: ctx.eventId }, ctx.t);
  return processed('refund_recorded', updated);
};
