import cron, { type ScheduledTask } from 'node-cron';
import type { Container } from '../container';
import { createJobLock } from './job-lock';
import { JobRunner } from './job-runner';
import { jobDefinitions } from './jobs.registry';

export interface Scheduler {
  stop(): Promise<void>;
}

/**
 * Cron jobs; each is a thin entry point that calls a use case. Every replica schedules every job, and
 * the JobRunner makes each tick run once across them (lock + tick claim, see job-runner.ts).
 * @param options.embedded true on the embedded database (one instance: the lock is in process)
 */
export function startScheduler(c: Container, options: { embedded?: boolean } = {}): Scheduler {
  const runner = new JobRunner({
    lock: createJobLock({ config: c.config, sequelize: c.sequelize, redis: c.redis, embedded: options.embedded ?? false }),
    sequelize: c.sequelize,
    metrics: c.metrics,
  });
  const tasks: ScheduledTask[] = jobDefinitions(c).map((job) =>
    cron.schedule(
      job.cron,
      async (context) => {
        // The schedule time, not the firing time: replicas firing the same tick claim the same row.
        await runner.run(job.name, job.run, new Date(Math.floor(context.date.getTime() / 1000) * 1000));
      },
      { name: job.name, noOverlap: true },
    ),
  );
  return {
    async stop() {
      await Promise.all(tasks.map((t) => t.stop()));
    },
  };
}
