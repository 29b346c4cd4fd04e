import type { Payment, PaymentStatus } from '../../payments';

/** What a PaymentIntent event may do to a payment, given the last PaymentIntent event applied to it. */
export type EventOrderVerdict =
  /** Created before the last applied event: older news, recorded and never applied. */
  | 'stale'
  /** Would move the payment around the retry loop and cannot be placed in time: ask the provider. */
  | 'ask_provider'
  | 'apply';

/**
 * Places a PaymentIntent event in the payment's timeline. Stripe does not deliver events in order
 * (https://docs.stripe.com/webhooks#event-ordering); its `created` (unix seconds) is the order, and
 * events of the same second go by arrival (the worker applies them in that order).
 *
 * "Failed is retryable" lets `failed` move back to `requires_action` or `processing`, and an open
 * payment fail; an old event doing that would reopen a payment or fail a live retry. Such a move is
 * applied only from an event strictly newer than the last one applied; when that cannot be told (the
 * same second, or the current status came from an API call rather than an event), the intent is
 * fetched and the provider's answer wins. Simulator events are made now, in order: always newer.
 */
export function placeIntentEvent(
  payment: Pick<Payment, 'status' | 'lastEvent'>,
  reported: PaymentStatus,
  event: { created: number; simulated: boolean },
): EventOrderVerdict {
  const last = payment.lastEvent;
  if (last && event.created < last.created) return 'stale';
  if (!aroundRetryLoop(payment.status, reported)) return 'apply';
  const newer = event.simulated || (last !== null && event.created > last.created);
  return newer ? 'apply' : 'ask_provider';
}

function aroundRetryLoop(from: PaymentStatus, to: PaymentStatus): boolean {
  if (from === 'failed') return to === 'requires_action' || to === 'processing';
  return to === 'failed' && from === 'requires_action';
}
