import type { Sql } from '../../shared/db/sql';
import { PAYMENT_STATUSES, type PaymentStatus } from '../payments';

/** Statuses of payments whose money was captured: refunds and disputes happen after success. */
export const CAPTURED_STATUSES: readonly PaymentStatus[] = ['succeeded', 'partially_refunded', 'refunded'];

/** Which payments to total; `from` inclusive, `to` exclusive, on created_at. */
export interface AnalyticsFilters {
  from?: Date;
  to?: Date;
  currency?: string;
  provider?: 'stripe' | 'mock';
}

/** Totals of one group of payments, in the group's currency's minor unit. */
export interface GroupTotals {
  currency: string;
  /** Null on a per-currency row (all providers together). */
  provider: string | null;
  /** Every payment in the group, whatever its status. */
  count: number;
  /** Amount of the captured payments (CAPTURED_STATUSES). */
  gross: number;
  refunded: number;
  disputed: number;
  /** Payments per current status; every status is present. */
  counts: Record<PaymentStatus, number>;
}

interface TotalsRow {
  currency: string;
  provider: string | null;
  by_currency: number;
  count: string;
  gross: string;
  refunded: string;
  disputed: string;
  [status: `n_${string}`]: string;
}

// The aliases come from the constant status list, never from input; the values are bound.
const STATUS_COUNTS = PAYMENT_STATUSES.map((s) => `count(*) FILTER (WHERE status = :status_${s}) AS n_${s}`).join(',\n       ');
const STATUS_VALUES = Object.fromEntries(PAYMENT_STATUSES.map((s) => [`status_${s}`, s]));

/** Aggregates over payments for the admin analytics. Money is never summed across currencies. */
export class AnalyticsRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Per-currency and per-(provider, currency) totals from one statement: both groupings come from the
   * same snapshot, so a currency's totals always equal the sum of its provider rows, even while
   * payments move (two queries under READ COMMITTED could disagree).
   */
  async totals(filters: AnalyticsFilters): Promise<{ byCurrency: GroupTotals[]; byProvider: GroupTotals[] }> {
    const where: string[] = [];
    const values: Record<string, unknown> = { ...STATUS_VALUES, captured: CAPTURED_STATUSES };
    if (filters.from) (where.push('created_at >= :from'), (values.from = filters.from));
    if (filters.to) (where.push('created_at < :to'), (values.to = filters.to));
    if (filters.currency) (where.push('currency = :currency'), (values.currency = filters.currency));
    if (filters.provider) (where.push('provider = :provider'), (values.provider = filters.provider));
    const rows = await this.sql.many<TotalsRow>(
      `SELECT currency, provider, GROUPING(provider) AS by_currency,
       count(*) AS count,
       COALESCE(sum(amount) FILTER (WHERE status IN (:captured)), 0) AS gross,
       COALESCE(sum(amount_refunded), 0) AS refunded,
       COALESCE(sum(amount_disputed), 0) AS disputed,
       ${STATUS_COUNTS}
       FROM payments ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      GROUP BY GROUPING SETS ((currency), (currency, provider))
      ORDER BY currency, provider`,
      values,
    );
    const byCurrency: GroupTotals[] = [];
    const byProvider: GroupTotals[] = [];
    for (const row of rows) {
      const totals = toTotals(row);
      if (Number(row.by_currency) === 1) byCurrency.push({ ...totals, provider: null });
      else byProvider.push(totals);
    }
    return { byCurrency, byProvider };
  }
}

// pg answers bigint and numeric as strings; sums of 8-digit amounts stay far below 2^53.
function toTotals(row: TotalsRow): GroupTotals {
  const counts = Object.fromEntries(PAYMENT_STATUSES.map((s) => [s, Number(row[`n_${s}`])])) as Record<PaymentStatus, number>;
  return {
    currency: row.currency,
    provider: row.provider,
    count: Number(row.count),
    gross: Number(row.gross),
    refunded: Number(row.refunded),
    disputed: Number(row.disputed),
    counts,
  };
}
