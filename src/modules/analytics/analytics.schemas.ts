import { z } from 'zod';
import { SUPPORTED_CURRENCIES } from '../../shared/money';

/** Providers a payment can have been made with (payments.provider). */
export const ANALYTICS_PROVIDERS = ['stripe', 'mock'] as const;

const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).transform((s) => new Date(s));

/**
 * `GET /v1/admin/analytics` query. The window is half-open, `[from, to)`, on payments.created_at, so
 * consecutive windows (a day, then the next) count every payment exactly once.
 */
export const analyticsQuerySchema = z
  .strictObject({
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
    currency: z
      .string()
      .regex(/^[a-z]{3}$/, 'must be a lowercase ISO 4217 code such as usd')
      .refine((c) => SUPPORTED_CURRENCIES.includes(c), { params: { code: 'currency_not_supported' }, error: (i) => `Currency '${String(i.input)}' is not supported` })
      .optional(),
    provider: z.enum(ANALYTICS_PROVIDERS).optional(),
  })
  .superRefine((q, ctx) => {
    // An inverted window is a caller's mistake, not an empty answer: say so rather than return zeros.
    if (q.from && q.to && q.from > q.to) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must not be after to', params: { code: 'parameter_invalid' } });
    }
  });

/** The validated query: dates already parsed. */
export type AnalyticsQuery = z.infer<typeof analyticsQuerySchema>;
