import type { Transaction } from 'sequelize';
import type { Sql } from '../../shared/db/sql';
import { newId } from '../../shared/ids';

export type RefundStatus = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

/** Refund statuses that count against what remains refundable. */
export const COUNTED_REFUND_STATUSES: readonly RefundStatus[] = ['pending', 'requires_action', 'succeeded'];

export interface Refund {
  id: string;
  paymentId: string;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string | null;
  providerRefundId: string | null;
  failureReason: string | null;
  source: string;
  createdAt: Date;
  updatedAt: Date;
}

interface RefundRow {
  id: string;
  payment_id: string;
  amount: string;
  currency: string;
  status: RefundStatus;
  reason: string | null;
  provider_refund_id: string | null;
  failure_reason: string | null;
  source: string;
  created_at: Date;
  updated_at: Date;
}

const toRefund = (r: RefundRow): Refund => ({
  id: r.id,
  paymentId: r.payment_id,
  amount: Number(r.amount),
  currency: r.currency,
  status: r.status,
  reason: r.reason,
  providerRefundId: r.provider_refund_id,
  failureReason: r.failure_reason,
  source: r.source,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

export interface ProviderRefundFacts {
  /** Our ref_ id when the refund was made through this API (Stripe echoes it in the refund's metadata). */
  ourRefundId?: string | null;
  providerRefundId: string | null;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string | null;
  failureReason: string | null;
}

export class RefundRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Records what the provider says about one refund, once per provider refund id. A refund first
   * seen only as a charge total (no id yet) is adopted by the first event that names it, so it is
   * never counted twice.
   */
  async upsertFromProvider(paymentId: string, facts: ProviderRefundFacts, source: string, t: Transaction): Promise<Refund> {
    if (facts.providerRefundId && facts.ourRefundId) {
      // A refund we asked for: its row exists since before the Stripe call, whatever arrives first.
      const [ours] = await this.sql.returning<RefundRow>(
        `UPDATE refunds SET provider_refund_id = :providerRefundId, status = :status, failure_reason = :failureReason, updated_at = now()
          WHERE id = :ourRefundId AND payment_id = :paymentId
            AND (provider_refund_id IS NULL OR provider_refund_id = :providerRefundId)
          RETURNING *`,
        { ...facts, paymentId },
        t,
      );
      if (ours) return toRefund(ours);
    }
    if (facts.providerRefundId) {
      const [known] = await this.sql.returning<RefundRow>(
        `UPDATE refunds SET status = :status, failure_reason = :failureReason, reason = COALESCE(:reason, reason), updated_at = now()
          WHERE provider_refund_id = :providerRefundId RETURNING *`,
        { ...facts },
        t,
      );
      if (known) return toRefund(known);
      const [adopted] = await this.sql.returning<RefundRow>(
        `UPDATE refunds SET provider_refund_id = :providerRefundId, status = :status, failure_reason = :failureReason,
                reason = COALESCE(:reason, reason), updated_at = now()
          WHERE id = (SELECT id FROM refunds WHERE payment_id = :paymentId AND provider_refund_id IS NULL AND amount = :amount
                         AND source <> 'api'
                      ORDER BY created_at LIMIT 1)
          RETURNING *`,
        { ...facts, paymentId },
        t,
      );
      if (adopted) return toRefund(adopted);
      // One charge total can cover several refunds not named yet (charge.refunded for the second refund
      // beat refund.created for the first): the refund named now takes its share out of that total.
      await this.sql.exec(
        `UPDATE refunds SET amount = amount - :amount, updated_at = now()
          WHERE id = (SELECT id FROM refunds WHERE payment_id = :paymentId AND provider_refund_id IS NULL AND amount > :amount
                         AND status IN (:counted) AND source <> 'api'
                      ORDER BY created_at LIMIT 1)`,
        { amount: facts.amount, paymentId, counted: COUNTED_REFUND_STATUSES },
        t,
      );
    }
    const [inserted] = await this.sql.returning<RefundRow>(
      `INSERT INTO refunds (id, payment_id, amount, currency, status, reason, provider_refund_id, failure_reason, source)
       VALUES (:id, :paymentId, :amount, :currency, :status, :reason, :providerRefundId, :failureReason, :source)
       RETURNING *`,
      { ...facts, id: newId('ref'), paymentId, source },
      t,
    );
    return toRefund(inserted);
  }

  /** A refund requested through the API, before the provider is called: it counts against what remains at once. */
  async insertRequested(r: { paymentId: string; amount: number; currency: string; reason: string | null }, t: Transaction): Promise<Refund> {
    const [row] = await this.sql.returning<RefundRow>(
      `INSERT INTO refunds (id, payment_id, amount, currency, status, reason, source)
       VALUES (:id, :paymentId, :amount, :currency, 'pending', :reason, 'api') RETURNING *`,
      { ...r, id: newId('ref') },
      t,
    );
    return toRefund(row);
  }

  async findById(id: string, t?: Transaction, options: { lock?: boolean } = {}): Promise<Refund | null> {
    const row = await this.sql.one<RefundRow>(`SELECT * FROM refunds WHERE id = :id ${options.lock ? 'FOR UPDATE' : ''}`, { id }, t);
    return row ? toRefund(row) : null;
  }

  /** What the provider answered for a refund we requested (the webhook may have said it already). */
  async recordProviderAnswer(
    id: string,
    answer: { providerRefundId: string | null; status: RefundStatus; failureReason: string | null },
    t: Transaction,
  ): Promise<Refund> {
    const [row] = await this.sql.returning<RefundRow>(
      `UPDATE refunds SET provider_refund_id = COALESCE(provider_refund_id, :providerRefundId),
              status = CASE WHEN provider_refund_id IS NOT NULL AND status <> 'pending' THEN status ELSE :status END,
              failure_reason = COALESCE(:failureReason, failure_reason), updated_at = now()
        WHERE id = :id RETURNING *`,
      { id, ...answer },
      t,
    );
    return toRefund(row);
  }

  /** The sum of refunds that count (pending, requires_action, succeeded). */
  async countedTotal(paymentId: string, t: Transaction): Promise<number> {
    const row = await this.sql.one<{ total: string }>(
      `SELECT COALESCE(sum(amount), 0) AS total FROM refunds WHERE payment_id = :paymentId AND status IN (:statuses)`,
      { paymentId, statuses: COUNTED_REFUND_STATUSES },
      t,
    );
    return Number(row?.total ?? 0);
  }

  async listForPayment(paymentId: string): Promise<Refund[]> {
    const rows = await this.sql.many<RefundRow>(`SELECT * FROM refunds WHERE payment_id = :paymentId ORDER BY created_at, id`, { paymentId });
    return rows.map(toRefund);
  }
}
