import type { Payment, PaymentMove } from './payment.model';
import { isOpen } from './payment-status';

export interface Viewer {
  userId: string;
  role: 'customer' | 'admin';
}

/** The API's payment object. `client_secret` only for the owner, and only while the payment is open. */
export function serializePayment(p: Payment, viewer?: Viewer) {
  const showSecret = viewer !== undefined && viewer.userId === p.userId && isOpen(p.status);
  return {
    id: p.id,
    object: 'payment' as const,
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    amount_refunded: p.amountRefunded,
    order_id: p.orderId,
    user_id: p.userId,
    description: p.description,
    metadata: p.metadata,
    provider: p.provider,
    provider_payment_id: p.providerPaymentId,
    client_secret: showSecret ? p.clientSecret : null,
    payment_method: p.paymentMethod,
    next_action: p.status === 'requires_action' ? p.nextAction : null,
    failure_code: p.failureCode,
    failure_message: p.failureMessage,
    dispute: p.dispute,
    // What the order service said, for admins (support, disputes); customers already see the amount.
    ...(viewer?.role === 'admin' ? { order_check: serializeOrderCheck(p) } : {}),
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

export type PaymentResponse = ReturnType<typeof serializePayment>;

function serializeOrderCheck(p: Payment) {
  return p.orderCheck ? { amount: p.orderCheck.amount, currency: p.orderCheck.currency, checked_at: p.orderCheck.checkedAt.toISOString() } : null;
}

export function serializeMove(m: PaymentMove) {
  return { from: m.from, to: m.to, source: m.source, event_id: m.eventId, at: m.at.toISOString() };
}
