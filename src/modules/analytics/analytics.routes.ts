import { Router } from 'express';
import { requireAdmin } from '../../shared/auth/authenticate.middleware';
import { validate } from '../../shared/http/validate.middleware';
import { analyticsQuerySchema, type AnalyticsQuery } from './analytics.schemas';
import type { Analytics, GetAnalyticsUseCase, GroupSummary } from './get-analytics.use-case';

const serializeGroup = (g: GroupSummary) => ({
  currency: g.currency,
  gross: g.gross,
  refunded: g.refunded,
  net: g.net,
  disputed: g.disputed,
  count: g.count,
  counts: g.counts,
  success_rate: g.successRate,
});

/** The API's analytics object. */
export function serializeAnalytics(a: Analytics) {
  return {
    object: 'analytics' as const,
    from: a.from?.toISOString() ?? null,
    to: a.to?.toISOString() ?? null,
    currencies: a.currencies.map(serializeGroup),
    providers: a.providers.map((p) => ({ provider: p.provider, ...serializeGroup(p) })),
  };
}

/**
 * Mounted at /v1/admin/analytics. The app already puts /v1/admin behind requireAdmin; the router
 * checks again because it shows every user's money and must stay closed wherever it is mounted.
 */
export function analyticsRouter(getAnalytics: GetAnalyticsUseCase): Router {
  const router = Router();
  router.get('/', requireAdmin, validate('query', analyticsQuerySchema), async (req, res) => {
    const analytics = await getAnalytics.execute(req.validated!.query as AnalyticsQuery);
    res.json(serializeAnalytics(analytics));
  });
  return router;
}
