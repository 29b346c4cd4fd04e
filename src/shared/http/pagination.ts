import { z } from 'zod';

/** `?limit=1..100`, default 20, as every list in API.md takes it. */
export const pageLimitSchema = z.coerce
  .number({ error: 'must be an integer between 1 and 100' })
  .int('must be an integer between 1 and 100')
  .min(1, 'must be an integer between 1 and 100')
  .max(100, 'must be an integer between 1 and 100')
  .default(20);
