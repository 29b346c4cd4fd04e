import cron, { type ScheduledTask } from 'node-cron';
import type { Container } from '../container';
import { reportError } from '../shared/http/error-handler';
import { runWithContext } from '../shared/request-context';
import { purgeIdempotencyKeys } from './purge-idempotency-keys.job';
import { reconcilePayments } from './reconcile-payments.job';

export interface Scheduler {
  stop(): Promise<void>;
}

/** Cron jobs; each is a thin entry point that calls a use case, with its own log context and error report. */
export function startScheduler(c: Container): Scheduler {
  const tasks: ScheduledTask[] = [];
  const schedule = (name: string, expression: string, job: () => Promise<void>) => {
    tasks.push(
      cron.schedule(expression, () =>
        runWithContext({ requestId: `job_${name}_${Date.now()}` }, () => job().catch((err) => reportError(err, { job: name }))),
      { name, noOverlap: true },
      ),
    );
  };
  schedule('purge-idempotency-keys', '17 * * * *', () => purgeIdempotencyKeys(c.idempotency));
  schedule('reconcile-payments', '*/5 * * * *', () => reconcilePayments(c));
  return {
    async stop() {
      await Promise.all(tasks.map((t) => t.stop()));
    },
  };
}
