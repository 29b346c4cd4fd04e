import { serializePayment } from '../../payments';
import { findEventPayment, intentIdOf, paymentIdFromMetadata } from './find-event-payment';
import { ignored, processed, type EventHandler } from './handler.types';

/**
 * charge.dispute.created / updated / closed / funds_withdrawn / funds_reinstated: the payment shows
 * its dispute (status, reason) and the disputed amount. Disputes do not change the payment status.
 */
export const onDispute: EventHandler = async (dispute, ctx) => {
  const payment = await findEventPayment(ctx, { paymentId: paymentIdFromMetadata(dispute), providerPaymentId: intentIdOf(dispute) });
  if (!payment) return ignored('not_ours');
  const firstNews = payment.dispute?.id !== dispute.id;
  const updated = await ctx.payments.update(
    payment.id,
    {
      dispute_id: dispute.id,
      dispute_status: String(dispute.status ?? 'unknown'),
      dispute_reason: typeof dispute.reason === 'string' ? dispute.reason : null,
      amount_disputed: Number(dispute.amount ?? 0),
    },
    ctx.t,
  );
  if (firstNews) await ctx.outbox.append('payment.disputed', payment.id, { payment: serializePayment(updated), dispute_id: dispute.id }, ctx.t);
  return processed(firstNews ? 'dispute_opened' : 'dispute_updated', updated);
};
