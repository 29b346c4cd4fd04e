import type { PaymentStatus } from '../payments';
import { CAPTURED_STATUSES, type AnalyticsRepository, type GroupTotals } from './analytics.repository';
import type { AnalyticsQuery } from './analytics.schemas';

/** What a group of payments (one currency, or one provider in one currency) brought in. */
export interface GroupSummary extends Omit<GroupTotals, 'provider'> {
  /** gross - refunded; disputed money is shown apart, since a dispute can still be won. */
  net: number;
  /** Captured / (captured + failed + canceled), 4 decimals; null when no payment has settled either way. */
  successRate: number | null;
}

/** The admin analytics for one window. */
export interface Analytics {
  from: Date | null;
  to: Date | null;
  currencies: GroupSummary[];
  providers: Array<GroupSummary & { provider: string }>;
}

// Open payments (pending, requires_action, processing) have no outcome yet: they would only dilute the rate.
const UNSUCCESSFUL: readonly PaymentStatus[] = ['failed', 'canceled'];

/** Totals per currency and per provider in each currency, by the payments' current status. */
export class GetAnalyticsUseCase {
  constructor(private readonly analytics: AnalyticsRepository) {}

  async execute(query: AnalyticsQuery): Promise<Analytics> {
    const { byCurrency, byProvider } = await this.analytics.totals(query);
    return {
      from: query.from ?? null,
      to: query.to ?? null,
      currencies: byCurrency.map(({ provider: _all, ...totals }) => summarize(totals)),
      providers: byProvider.map(({ provider, ...totals }) => ({ provider: provider!, ...summarize(totals) })),
    };
  }
}

function summarize(totals: Omit<GroupTotals, 'provider'>): GroupSummary {
  const sumOf = (statuses: readonly PaymentStatus[]) => statuses.reduce((n, s) => n + totals.counts[s], 0);
  const captured = sumOf(CAPTURED_STATUSES);
  const settled = captured + sumOf(UNSUCCESSFUL);
  return {
    ...totals,
    net: totals.gross - totals.refunded,
    successRate: settled === 0 ? null : Math.round((captured / settled) * 10_000) / 10_000,
  };
}
