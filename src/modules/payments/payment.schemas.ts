import { z } from 'zod';
import { pageLimitSchema } from '../../shared/http/pagination';
import { checkAmount, MAX_AMOUNT, SUPPORTED_CURRENCIES } from '../../shared/money';
import { PAYMENT_STATUSES } from './payment-status';

/** Stripe's metadata limits. Our own payment_id and order_id ride in the same object, so they count. */
export const METADATA_MAX_KEYS = 50;
export const METADATA_KEY_MAX = 40;
export const METADATA_VALUE_MAX = 500;
const RESERVED_METADATA_KEYS = ['payment_id', 'order_id'];

const boundedText = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    // Control characters have no place in ids or descriptions and break logs and dashboards.
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');

export const orderIdSchema = boundedText(255)
  .min(1, 'must not be empty')
  // The id is a path segment at the order service (/v1/orders/{id}); URL parsing resolves these two.
  .refine((id) => id !== '.' && id !== '..', 'must not be "." or ".."');

// PostgreSQL's jsonb cannot hold U+0000, nor a lone UTF-16 surrogate (JSON.stringify writes it as
// `\ud800`, which jsonb refuses): the row's INSERT fails, so these are refused up front instead of a
// 500 on every retry. Other control characters (a newline in a note) are fine in metadata, as at Stripe.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const storableInJsonb = (text: string) => !text.includes('\u0000') && !LONE_SURROGATE.test(text);
const NOT_STORABLE = 'must be valid Unicode text without the NUL character';

const metadataSchema = z
  .record(
    z
      .string()
      .min(1, 'keys must not be empty')
      .max(METADATA_KEY_MAX, `keys must be at most ${METADATA_KEY_MAX} characters`)
      .regex(/^[^[\]]+$/, 'keys must not contain square brackets')
      .refine(storableInJsonb, `keys ${NOT_STORABLE}`),
    z.string().max(METADATA_VALUE_MAX, `values must be at most ${METADATA_VALUE_MAX} characters`).refine(storableInJsonb, `values ${NOT_STORABLE}`),
  )
  .superRefine((metadata, ctx) => {
    const keys = Object.keys(metadata);
    const reserved = keys.find((k) => RESERVED_METADATA_KEYS.includes(k));
    if (reserved) {
      ctx.addIssue({ code: 'custom', path: [reserved], message: `metadata.${reserved} is set by the service` });
    }
    const limit = METADATA_MAX_KEYS - RESERVED_METADATA_KEYS.length;
    if (keys.length > limit) {
      ctx.addIssue({
        code: 'custom',
        message: `metadata can have at most ${limit} keys (Stripe allows ${METADATA_MAX_KEYS}; payment_id and order_id are reserved)`,
      });
    }
  });

export const paymentMethodSchema = z.string().regex(/^pm_[A-Za-z0-9_]{1,250}$/, "must be a PaymentMethod id such as 'pm_card_visa'");

export const createPaymentSchema = z
  .strictObject({
    amount: z
      .number({ error: (i) => (i.input === undefined ? undefined : 'must be an integer in the minor unit') })
      .int('must be an integer in the minor unit (e.g. 2000 for 20.00 usd)')
      .positive('must be positive')
      // Before `.max` so the answer carries Stripe's code; `.max` keeps the bound in the OpenAPI schema.
      .refine((n) => n <= MAX_AMOUNT, { params: { code: 'amount_too_large' }, message: `Amount must be at most ${MAX_AMOUNT} in minor units` })
      .max(MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`),
    currency: z
      .string()
      .regex(/^[a-z]{3}$/, 'must be a lowercase ISO 4217 code such as usd')
      .refine((c) => SUPPORTED_CURRENCIES.includes(c), { params: { code: 'currency_not_supported' }, error: (i) => `Currency '${String(i.input)}' is not supported` }),
    order_id: orderIdSchema.optional(),
    description: boundedText(1000).nullable().optional(),
    metadata: metadataSchema.optional(),
    payment_method: paymentMethodSchema.optional(),
    // Stripe's name and values: save the card this payment is made with on the caller's customer.
    setup_future_usage: z.enum(['on_session', 'off_session']).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.amount === undefined || body.currency === undefined) return; // priced by the order (orderPricedPaymentSchema)
    const problem = checkAmount(body.amount, body.currency);
    if (problem) ctx.addIssue({ code: 'custom', path: ['amount'], message: problem.message, params: { code: problem.code } });
  });

const FROM_ORDER =
  'With the order service configured (ORDER_SERVICE_URL) and an order_id, optional: taken from the order; when sent it must equal the order\'s (422 amount_mismatch). Otherwise required.';

/**
 * POST /v1/payments when ORDER_SERVICE_URL is set: `amount` and `currency` may be left out when an
 * `order_id` is given (the order decides them); without an `order_id` they stay required.
 */
export const orderPricedPaymentSchema = createPaymentSchema
  // safeExtend keeps the refinements above; its types only allow narrowing a field, hence the cast
  // (the body type is spelled out below).
  .safeExtend({
    amount: createPaymentSchema.shape.amount.optional().describe(`Minor units. ${FROM_ORDER}`),
    currency: createPaymentSchema.shape.currency.optional().describe(`Lowercase ISO 4217. ${FROM_ORDER}`),
  } as unknown as Pick<typeof createPaymentSchema.shape, 'amount' | 'currency'>)
  .superRefine((body, ctx) => {
    if (body.order_id) return;
    for (const field of ['amount', 'currency'] as const) {
      if (body[field] === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: `Missing required param: ${field} (no order_id to take it from)`, params: { code: 'parameter_missing' } });
      }
    }
  });

/** The body of POST /v1/payments; `amount` and `currency` are absent only when the order decides them. */
export type CreatePaymentBody = Omit<z.infer<typeof createPaymentSchema>, 'amount' | 'currency'> & { amount?: number; currency?: string };

export const confirmPaymentSchema = z.strictObject({ payment_method: paymentMethodSchema });
export type ConfirmPaymentBody = z.infer<typeof confirmPaymentSchema>;

export const cancelPaymentSchema = z.strictObject({});

const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).transform((s) => new Date(s));

export const listPaymentsQuerySchema = z.strictObject({
  limit: pageLimitSchema,
  starting_after: z.string().max(100).optional(),
  status: z.enum(PAYMENT_STATUSES).optional(),
  order_id: orderIdSchema.optional(),
  created_gte: isoDate.optional(),
  created_lte: isoDate.optional(),
  user_id: z.string().min(1).max(255).optional(),
  q: z.string().min(1).max(255).optional(),
  sort: z.enum(['created_at', '-created_at', 'amount', '-amount']).default('-created_at'),
});

export type ListPaymentsQuery = z.infer<typeof listPaymentsQuerySchema>;

export const paymentIdParamsSchema = z.object({ id: z.string() });
