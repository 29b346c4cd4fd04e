import type Stripe from 'stripe';
import type {
  IntentStatus,
  ProviderPaymentIntent,
  ProviderPaymentMethod,
  ProviderRefund,
  ProviderSetupIntent,
  SetupIntentStatus,
} from '../payment-provider';

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

const idOf = (value: string | { id: string } | null | undefined): string | null =>
  typeof value === 'string' ? value : (value?.id ?? null);

export function toProviderSetupIntent(si: Stripe.SetupIntent): ProviderSetupIntent {
  return {
    id: si.id,
    status: si.status as SetupIntentStatus,
    // Stripe always returns it to the secret-key holder that created the intent.
    clientSecret: si.client_secret ?? '',
    customerId: idOf(si.customer),
  };
}

export function toProviderPaymentMethod(pm: Stripe.PaymentMethod): ProviderPaymentMethod {
  return {
    id: pm.id,
    type: pm.type,
    customerId: idOf(pm.customer),
    card: pm.card ? { brand: pm.card.brand, last4: pm.card.last4, expMonth: pm.card.exp_month, expYear: pm.card.exp_year } : null,
    created: new Date(pm.created * 1000),
  };
}
