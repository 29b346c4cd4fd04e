import os from 'node:os';
import { QueryTypes, type Sequelize } from 'sequelize';
import { reportError } from '../shared/http/error-handler';
import { logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import { runWithContext } from '../shared/request-context';
import type { JobLock } from './job-lock';

/** How a run ended: `skipped_locked` means another replica holds the job's lock or already ran this tick. */
export type JobResult = 'succeeded' | 'failed' | 'skipped_locked';

/** This process, as written in `job_runs.last_holder`: host (the pod's name in Kubernetes) and pid. */
export const JOB_HOLDER = `${os.hostname()}:${process.pid}`;

/**
 * Runs a job once across replicas: takes the job's lock (never waits for it), claims the schedule
 * tick in `job_runs` (a tick already claimed by another replica is skipped, so a fast run on one
 * replica is not repeated by a slower one firing the same tick), runs it, records and counts the
 * result (`job_runs_total{job,result}`, `job_duration_seconds{job}`). Never throws: a failure is
 * reported (logged) and returned as `failed`.
 */
export class JobRunner {
  constructor(private readonly deps: { lock: JobLock; sequelize: Sequelize; metrics: Metrics; holder?: string }) {}

  /**
   * @param tick the schedule time this run is for (node-cron's execution date); a manual run passes now.
   */
  async run(job: string, work: () => Promise<void>, tick: Date = new Date()): Promise<JobResult> {
    const holder = this.deps.holder ?? JOB_HOLDER;
    return runWithContext({ requestId: `job_${job}_${tick.getTime()}` }, async () => {
      const started = process.hrtime.bigint();
      let result: JobResult;
      try {
        const locked = await this.deps.lock.withLock(job, async () => {
          if (!(await this.claimTick(job, tick, holder))) return 'skipped_locked' as const;
          logger.info('job started', { job, tick: tick.toISOString(), lock: this.deps.lock.kind });
          try {
            await work();
          } catch (err) {
            await this.finish(job, holder, 'failed', err);
            throw err;
          }
          await this.finish(job, holder, 'succeeded');
          return 'succeeded' as const;
        });
        result = locked.acquired ? locked.value : 'skipped_locked';
      } catch (err) {
        reportError(err, { job });
        result = 'failed';
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (result !== 'skipped_locked') this.deps.metrics.jobDuration.observe({ job }, seconds);
      this.deps.metrics.jobRuns.inc({ job, result });
      logger.info('job finished', { job, tick: tick.toISOString(), result, duration_ms: Math.round(seconds * 1000), holder });
      return result;
    });
  }

  /** True when this tick of the job was not claimed yet (and now is, by `holder`). */
  private async claimTick(job: string, tick: Date, holder: string): Promise<boolean> {
    const claimed = await this.deps.sequelize.query(
      `INSERT INTO job_runs (job, last_tick, last_holder, last_started_at)
       VALUES (:job, :tick, :holder, now())
       ON CONFLICT (job) DO UPDATE
          SET last_tick = EXCLUDED.last_tick, last_holder = EXCLUDED.last_holder, last_started_at = now(),
              last_finished_at = NULL, last_result = NULL, last_error = NULL
        WHERE job_runs.last_tick < EXCLUDED.last_tick
       RETURNING job`,
      { replacements: { job, tick: tick.toISOString(), holder }, type: QueryTypes.SELECT },
    );
    return claimed.length === 1;
  }

  private async finish(job: string, holder: string, result: 'succeeded' | 'failed', err?: unknown): Promise<void> {
    const message = err === undefined ? null : String(err instanceof Error ? err.message : err).slice(0, 1000);
    await this.deps.sequelize
      .query(
        `UPDATE job_runs SET last_finished_at = now(), last_result = :result, last_error = :message
          WHERE job = :job AND last_holder = :holder`,
        { replacements: { job, holder, result, message } },
      )
      .catch((e: unknown) => logger.warn('could not record a job run', { job, err: e }));
  }
}
