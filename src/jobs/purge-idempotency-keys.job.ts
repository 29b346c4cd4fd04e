import type { IdempotencyStore } from '../modules/idempotency';
import { logger } from '../shared/logger';

/** Keys are kept for the retention window (24 h by default), then deleted. */
export async function purgeIdempotencyKeys(store: IdempotencyStore): Promise<void> {
  const purged = await store.purgeExpired();
  if (purged > 0) logger.info('purged expired idempotency keys', { purged });
}
