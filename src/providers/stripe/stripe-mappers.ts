import type Stripe from 'stripe';
import type { IntentStatus, ProviderPaymentIntent, ProviderRefund } from '../payment-provider';

export function toProviderIntent(pi: Stripe.PaymentIntent): ProviderPaymentIntent {
  const error = pi.last_payment_error;
  return {
    id: pi.id,
    status: pi.status as IntentStatus,
    amount: pi.amount,
    currency: pi.currency,
    clientSecret: pi.client_secret ?? null,
    paymentMethod: typeof pi.payment_method === 'string' ? pi.payment_method : (pi.payment_method?.id ?? null),
    lastPaymentError: error
      ? { code: error.code ?? undefined, declineCode: error.decline_code ?? undefined, message: error.message ?? undefined }
      : null,
    nextAction: (pi.next_action as Record<string, unknown> | null) ?? null,
    metadata: (pi.metadata as Record<string, string>) ?? {},
    raw: pi as unknown as Record<string, unknown>,
  };
}

const REFUND_STATUSES: ReadonlyArray<ProviderRefund['status']> = ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'];

export function toProviderRefund(refund: Stripe.Refund): ProviderRefund {
  const status = REFUND_STATUSES.find((s) => s === refund.status) ?? 'pending';
  return { id: refund.id, status, amount: refund.amount, failureReason: refund.failure_reason ?? null };
}
