import type { Container } from '../container';
import { catchUpEvents } from './catch-up-events.job';
import { purgeIdempotencyKeys } from './purge-idempotency-keys.job';
import { reconcilePayments } from './reconcile-payments.job';

/** A cron job: its name (the lock's, the metrics' `job` label, `npm run job -- <name>`), schedule and work. */
export interface JobDefinition {
  name: string;
  /** node-cron expression, from config (validated at start-up). */
  cron: string;
  run(): Promise<void>;
}

/** Every cron job of the service, scheduled by `startScheduler` and runnable once by `npm run job -- <name>`. */
export function jobDefinitions(c: Container): JobDefinition[] {
  return [
    { name: 'purge-idempotency-keys', cron: c.config.jobs.purgeIdempotencyCron, run: () => purgeIdempotencyKeys(c.idempotency) },
    { name: 'reconcile-payments', cron: c.config.jobs.reconcileCron, run: () => reconcilePayments(c) },
    { name: 'catch-up-events', cron: c.config.catchUp.cron, run: () => catchUpEvents(c.webhooks) },
  ];
}
