import { canMove, isBehind, statusFromIntent } from '../../payments';
import { placeIntentEvent } from './event-order';
import { findEventPayment, paymentIdFromMetadata } from './find-event-payment';
import { ignored, processed, type EventHandler } from './handler.types';

/**
 * payment_intent.created / processing / requires_action / succeeded / payment_failed / canceled /
 * amount_capturable_updated: the intent in the event is applied through the status state machine,
 * unless it is older than the last intent event applied to the payment (see `placeIntentEvent`).
 */
export const onPaymentIntent: EventHandler = async (object, ctx) => {
  const intent = ctx.provider.intentFromEvent(object);
  let payment = await findEventPayment(ctx, { paymentId: paymentIdFromMetadata(object), providerPaymentId: intent.id });
  if (!payment) return ignored('not_ours');
  if (payment.providerPaymentId && payment.providerPaymentId !== intent.id) return ignored('other_intent', payment.id);
  // The amount is ours to decide (the order's, or the client's): an intent charging another amount or
  // currency (changed on the account, by the Dashboard or another integration) never settles the payment.
  if (intent.amount !== payment.amount || intent.currency !== payment.currency) return ignored('amount_mismatch', payment.id);

  const reported = statusFromIntent(intent);
  // Compared under the payment's row lock (findEventPayment), so no other event interleaves.
  const place = placeIntentEvent(payment, reported, { created: ctx.eventCreated, simulated: ctx.source === 'simulate' });
  if (place === 'stale') return processed('stale', payment);

  // The webhook may beat the commit of our own create call: the intent is attached here, announced once.
  payment = await ctx.payments.attachIntent(payment, intent, ctx.t);
  if (place === 'ask_provider') return { kind: 'needs_sync', paymentId: payment.id };

  if (isBehind(payment.status, reported)) {
    // Usually late news; but a processing debit can still fail, and only Stripe can tell which it is.
    return canMove(payment.status, reported) ? { kind: 'needs_sync', paymentId: payment.id } : processed('stale', payment);
  }
  // The event is recorded as applied with the move (one UPDATE), unless the move is refused.
  const applied = { id: ctx.eventId, created: ctx.eventCreated };
  const result = await ctx.payments.applyIntent(payment, intent, { source: ctx.source, eventId: ctx.eventId }, ctx.t, applied);
  if (result.outcome === 'refused') return { kind: 'needs_sync', paymentId: payment.id };
  return processed(result.outcome, result.payment);
};
