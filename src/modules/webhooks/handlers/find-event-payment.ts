import type { Payment } from '../../payments';
import { PaymentNotYetKnownError, type HandlerContext, type StripeObject } from './handler.types';

const OUR_PAYMENT_ID = /^pay_[A-Za-z0-9]+$/;

/** Our payment id from a Stripe object's metadata, if it carries one. */
export function paymentIdFromMetadata(object: StripeObject): string | null {
  const id = (object.metadata as Record<string, unknown> | undefined)?.payment_id;
  return typeof id === 'string' && OUR_PAYMENT_ID.test(id) ? id : null;
}

/**
 * Finds (and locks) the payment an object is about: by our id in its metadata, else by its
 * PaymentIntent id. Null means "not ours". A metadata id we do not have yet throws, so the event waits.
 */
export async function findEventPayment(
  ctx: HandlerContext,
  ref: { paymentId: string | null; providerPaymentId: string | null },
): Promise<Payment | null> {
  if (ref.paymentId) {
    const payment = await ctx.payments.lock(ref.paymentId, ctx.t);
    if (!payment) throw new PaymentNotYetKnownError(ref.paymentId);
    return payment;
  }
  if (ref.providerPaymentId) return ctx.payments.lockByIntent(ref.providerPaymentId, ctx.t);
  return null;
}

export const intentIdOf = (object: StripeObject): string | null => {
  const pi = object.payment_intent;
  if (typeof pi === 'string') return pi;
  if (pi && typeof pi === 'object' && typeof (pi as { id?: unknown }).id === 'string') return (pi as { id: string }).id;
  return null;
};

/**
 * The handler's answer when a charge, refund or dispute names `payment` but is not about it: null
 * when the object's PaymentIntent is the payment's own, else the reason to ignore the event.
 * `metadata.payment_id` is only a hint (anyone can copy it, e.g. a connected account's charge); the
 * PaymentIntent is what ties a provider object to a payment. A payment whose intent id is not
 * committed yet makes the event wait (retry), like a payment we do not have yet.
 */
export function notAboutPayment(object: StripeObject, payment: Payment): 'other_intent' | null {
  if (!payment.providerPaymentId) throw new PaymentNotYetKnownError(payment.id);
  return intentIdOf(object) === payment.providerPaymentId ? null : 'other_intent';
}
