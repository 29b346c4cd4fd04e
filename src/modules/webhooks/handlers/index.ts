import type { EventHandler } from './handler.types';
import { onChargeRefunded } from './on-charge-refunded.handler';
import { onDispute } from './on-dispute.handler';
import { onPaymentIntent } from './on-payment-intent.handler';
import { onRefund } from './on-refund.handler';

/** Event type -> handler. Types not listed are stored, answered 200 and logged once. */
export const EVENT_HANDLERS: Readonly<Record<string, EventHandler>> = {
  'payment_intent.created': onPaymentIntent,
  'payment_intent.processing': onPaymentIntent,
  'payment_intent.requires_action': onPaymentIntent,
  'payment_intent.succeeded': onPaymentIntent,
  'payment_intent.payment_failed': onPaymentIntent,
  'payment_intent.canceled': onPaymentIntent,
  'payment_intent.amount_capturable_updated': onPaymentIntent,
  'charge.refunded': onChargeRefunded,
  'refund.created': onRefund,
  'refund.updated': onRefund,
  'refund.failed': onRefund,
  'charge.dispute.created': onDispute,
  'charge.dispute.updated': onDispute,
  'charge.dispute.closed': onDispute,
  'charge.dispute.funds_withdrawn': onDispute,
  'charge.dispute.funds_reinstated': onDispute,
};

/** The handler for an event type; own keys only, so 'constructor' or '__proto__' is just an unknown type. */
export function handlerFor(type: string): EventHandler | undefined {
  return Object.hasOwn(EVENT_HANDLERS, type) ? EVENT_HANDLERS[type] : undefined;
}

export type { EventHandler, HandlerContext, HandlerResult } from './handler.types';
export { PaymentNotYetKnownError } from './handler.types';
export { paymentIdFromMetadata } from './find-event-payment';
