import { z } from 'zod';
import { pageLimitSchema } from '../../shared/http/pagination';

/** Stripe's PaymentMethod ids; anything else cannot be one of the caller's cards. */
export const PAYMENT_METHOD_ID = /^pm_[A-Za-z0-9_]{1,250}$/;

/** Nothing to choose: the customer and the card-only, off-session usage are decided by the service. */
export const createSetupIntentSchema = z.strictObject({});

export const listPaymentMethodsQuerySchema = z.strictObject({
  limit: pageLimitSchema,
  starting_after: z.string().regex(PAYMENT_METHOD_ID, 'must be a payment method id (pm_...)').optional(),
});

export type ListPaymentMethodsQuery = z.infer<typeof listPaymentMethodsQuerySchema>;
