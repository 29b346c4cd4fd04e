import type { Refund } from './refund.repository';

/** The API's refund object. */
export function serializeRefund(r: Refund) {
  return {
    id: r.id,
    object: 'refund' as const,
    payment_id: r.paymentId,
    amount: r.amount,
    currency: r.currency,
    status: r.status,
    reason: r.reason,
    provider_refund_id: r.providerRefundId,
    failure_reason: r.failureReason,
    source: r.source,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}
