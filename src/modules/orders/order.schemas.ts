import { z } from 'zod';
import { MAX_AMOUNT, SUPPORTED_CURRENCIES } from '../../shared/money';

export const ORDER_STATUSES = ['pending', 'paid', 'canceled'] as const;

/**
 * The order service's answer to `GET /v1/orders/{order_id}` (API.md, "The order service"):
 * `{"id": "ord_42", "user_id": "u_1", "amount": 2000, "currency": "usd", "status": "pending"}`.
 * `amount` is a positive integer in the currency's minor unit (Stripe's ceiling applies); `currency`
 * a lowercase code from our allow-list. Other fields are ignored (the service may add some).
 * Anything else is a broken contract, answered 502 and never charged.
 */
export const orderSchema = z.object({
  id: z.string().min(1).max(255),
  user_id: z.string().min(1).max(255),
  amount: z.number().int().positive().max(MAX_AMOUNT),
  currency: z.string().refine((c) => SUPPORTED_CURRENCIES.includes(c), 'not a supported currency'),
  status: z.enum(ORDER_STATUSES),
});

export type Order = z.infer<typeof orderSchema>;
