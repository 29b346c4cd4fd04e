import { z } from 'zod';
import { MAX_AMOUNT } from '../../shared/money';

export const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

export const createRefundSchema = z.strictObject({
  amount: z
    .number({ error: (i) => (i.input === undefined ? undefined : 'must be an integer in the minor unit') })
    .int('must be an integer in the minor unit')
    .positive('must be positive')
    .max(MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`)
    .optional(),
  reason: z.enum(REFUND_REASONS).optional(),
});

export type CreateRefundBody = z.infer<typeof createRefundSchema>;
