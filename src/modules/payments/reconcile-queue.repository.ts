import type { Sql } from '../../shared/db/sql';
import { toPayment, type Payment, type PaymentRow } from './payment.model';

/** The first retry of a candidate reconcile could not settle comes after 2.5 to 5 minutes (one or two runs). */
export const RECONCILE_BACKOFF_BASE_SECONDS = 5 * 60;
/** Later retries double, up to 3 to 6 hours apart. */
export const RECONCILE_BACKOFF_CAP_SECONDS = 6 * 60 * 60;

/**
 * Which open payments the reconcile job checks, and when again. Taking a candidate pushes its next
 * check back at once (exponential in `reconcile_attempts`, jittered into the upper half of the
 * window), so a payment the provider cannot answer for, or that stays open after the check, never
 * fills the next batch; taking it is also the claim (SKIP LOCKED), so two replicas never check the
 * same payment in one pass. A settled payment's count is reset.
 */
export class ReconcileQueueRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Up to `limit` payments open (pending, requires_action, processing) and untouched for
   * `minAgeSeconds`, whose backoff is over: never-tried ones first, then the longest idle.
   */
  async claimDue(minAgeSeconds: number, limit: number): Promise<Payment[]> {
    const rows = await this.sql.returning<PaymentRow>(
      `UPDATE payments SET reconcile_attempts = reconcile_attempts + 1,
              reconcile_next_at = now() + make_interval(secs => LEAST(:cap, :base * power(2, reconcile_attempts)) * (0.5 + random() / 2))
        WHERE id IN (
          SELECT id FROM payments
           WHERE status IN ('pending', 'requires_action', 'processing')
             AND updated_at < now() - make_interval(secs => :minAgeSeconds)
             AND (reconcile_next_at IS NULL OR reconcile_next_at <= now())
           ORDER BY reconcile_attempts, updated_at
           LIMIT :limit
           FOR UPDATE SKIP LOCKED)
        RETURNING *`,
      { minAgeSeconds, limit, base: RECONCILE_BACKOFF_BASE_SECONDS, cap: RECONCILE_BACKOFF_CAP_SECONDS },
    );
    return rows.map(toPayment).sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime());
  }

  /** Clears the backoff of a payment that is no longer open (it was settled). */
  async resetIfSettled(paymentId: string): Promise<void> {
    await this.sql.exec(
      `UPDATE payments SET reconcile_attempts = 0, reconcile_next_at = NULL
        WHERE id = :paymentId AND status NOT IN ('pending', 'requires_action', 'processing')`,
      { paymentId },
    );
  }
}
