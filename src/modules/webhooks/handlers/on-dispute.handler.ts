import { findEventPayment, intentIdOf, notAboutPayment, paymentIdFromMetadata } from './find-event-payment';
import { ignored, processed, type EventHandler } from './handler.types';

const CLOSED_DISPUTE_STATUSES = new Set(['won', 'lost', 'warning_closed', 'prevented']);

/** How far a dispute has come: a late event for the same dispute never takes it back. */
function disputeRank(status: string | undefined): number {
  if (!status) return -1;
  if (CLOSED_DISPUTE_STATUSES.has(status)) return 2;
  return status.endsWith('under_review') ? 1 : 0;
}

/**
 * charge.dispute.created / updated / closed / funds_withdrawn / funds_reinstated: the payment shows
 * its dispute (status, reason) and the disputed amount. Disputes do not change the payment status.
 */
export const onDispute: EventHandler = async (dispute, ctx) => {
  const payment = await findEventPayment(ctx, { paymentId: paymentIdFromMetadata(dispute), providerPaymentId: intentIdOf(dispute) });
  if (!payment) return ignored('not_ours');
  const mismatch = notAboutPayment(dispute, payment);
  if (mismatch) return ignored(mismatch, payment.id);
  const status = String(dispute.status ?? 'unknown');
  const firstNews = payment.dispute?.id !== dispute.id;
  if (!firstNews && disputeRank(status) < disputeRank(payment.dispute?.status)) return processed('stale', payment);
  const { payment: updated, opened } = await ctx.payments.recordDispute(
    payment,
    { id: dispute.id, status, reason: typeof dispute.reason === 'string' ? dispute.reason : null, amount: Number(dispute.amount ?? 0) },
    ctx.t,
  );
  return processed(opened ? 'dispute_opened' : 'dispute_updated', updated);
};
