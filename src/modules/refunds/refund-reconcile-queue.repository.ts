import type { Sql } from '../../shared/db/sql';

/** As for payments: the first retry after 2.5 to 5 minutes, then doubling up to 3 to 6 hours. */
const BACKOFF_BASE_SECONDS = 5 * 60;
const BACKOFF_CAP_SECONDS = 6 * 60 * 60;

/** A refund the provider has not finished, as reconcile needs it. */
export interface OpenRefund {
  id: string;
  paymentId: string;
  providerRefundId: string;
  status: 'pending' | 'requires_action';
}

/**
 * Which refunds the reconcile job re-reads, and when again: refunds the provider holds (they have
 * its id) still `pending` or `requires_action`, untouched for a while. Taking one pushes its next
 * check back (exponential backoff in `reconcile_attempts`), so those that stay open cannot fill
 * every batch; taking it is also the claim across replicas (SKIP LOCKED).
 */
export class RefundReconcileQueueRepository {
  constructor(private readonly sql: Sql) {}

  async claimDue(minAgeSeconds: number, limit: number): Promise<OpenRefund[]> {
    const rows = await this.sql.returning<{ id: string; payment_id: string; provider_refund_id: string; status: OpenRefund['status'] }>(
      `UPDATE refunds SET reconcile_attempts = reconcile_attempts + 1,
              reconcile_next_at = now() + make_interval(secs => LEAST(:cap, :base * power(2, reconcile_attempts)) * (0.5 + random() / 2))
        WHERE id IN (
          SELECT id FROM refunds
           WHERE status IN ('pending', 'requires_action') AND provider_refund_id IS NOT NULL
             AND updated_at < now() - make_interval(secs => :minAgeSeconds)
             AND (reconcile_next_at IS NULL OR reconcile_next_at <= now())
           ORDER BY reconcile_attempts, updated_at
           LIMIT :limit
           FOR UPDATE SKIP LOCKED)
        RETURNING id, payment_id, provider_refund_id, status`,
      { minAgeSeconds, limit, base: BACKOFF_BASE_SECONDS, cap: BACKOFF_CAP_SECONDS },
    );
    return rows.map((r) => ({ id: r.id, paymentId: r.payment_id, providerRefundId: r.provider_refund_id, status: r.status }));
  }

  /** Clears the backoff of a refund the provider has finished. */
  async resetIfSettled(id: string): Promise<void> {
    await this.sql.exec(
      `UPDATE refunds SET reconcile_attempts = 0, reconcile_next_at = NULL WHERE id = :id AND status NOT IN ('pending', 'requires_action')`,
      { id },
    );
  }
}
