import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redlock } from '@sesamecare-oss/redlock';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import request from 'supertest';
import type { Sequelize } from 'sequelize';
import { InProcessJobLock, PostgresAdvisoryJobLock, RedisJobLock, type JobLock } from '../../../src/jobs/job-lock';
import { JobRunner } from '../../../src/jobs/job-runner';
import { jobDefinitions } from '../../../src/jobs/jobs.registry';
import { loadConfig } from '../../../src/shared/config';
import { createSequelize } from '../../../src/shared/db/database';
import { createMetrics, type Metrics } from '../../../src/shared/metrics';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows, testDatabase, testDatabaseUrl } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { startOwnRedis, type OwnRedis } from '../../helpers/own-redis';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';

const jobName = () => `test-job-${randomBytes(4).toString('hex')}`;

/** A promise and the function that settles it: a job that runs until the test lets it finish. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/**
 * While `a` runs `job` (held open by the test), `b`'s next tick is skipped_locked; once `a`'s run
 * ends, `b`'s following tick runs.
 */
async function expectOneRunAtATime(job: string, a: JobRunner, b: JobRunner): Promise<void> {
  const running = gate();
  const started = gate();
  const first = a.run(
    job,
    async () => {
      started.open();
      await running.opened;
    },
    new Date('2026-11-29T12:05:00Z'),
  );
  await started.opened;
  expect(await b.run(job, async () => undefined, new Date('2026-11-29T12:10:00Z'))).to.equal('skipped_locked');
  running.open();
  expect(await first).to.equal('succeeded');
  expect(await b.run(job, async () => undefined, new Date('2026-11-29T12:15:00Z'))).to.equal('succeeded');
}

async function runsOf(metrics: Metrics, job: string): Promise<Record<string, number>> {
  const { values } = await metrics.jobRuns.get();
  return Object.fromEntries(values.filter((v) => v.labels.job === job).map((v) => [String(v.labels.result), v.value]));
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('jobs run once across replicas (job lock + tick claim)', () => {
  /** One replica: its own lock instance and metrics, the shared database. */
  const replica = (lock: JobLock, sequelize: Sequelize = testDatabase()) => {
    const metrics = createMetrics();
    return { metrics, runner: new JobRunner({ lock, sequelize, metrics, holder: `replica-${randomBytes(3).toString('hex')}` }) };
  };

  it('when two replicas fire the same tick at once, then the job runs once, the other reports skipped_locked, and job_runs records the run', async () => {
    const job = jobName();
    const tick = new Date('2026-11-29T12:05:00Z');
    const a = replica(new InProcessJobLock());
    const b = replica(new InProcessJobLock());
    let ran = 0;
    const work = async () => {
      ran += 1;
    };

    const results = await Promise.all([a.runner.run(job, work, tick), b.runner.run(job, work, tick)]);

    expect(ran).to.equal(1);
    expect(results.sort()).to.deep.equal(['skipped_locked', 'succeeded']);
    const [row] = await rows<{ last_tick: Date; last_result: string; last_finished_at: Date | null }>('SELECT * FROM job_runs WHERE job = :job', { job });
    expect(row.last_tick.toISOString()).to.equal(tick.toISOString());
    expect(row.last_result).to.equal('succeeded');
    expect(row.last_finished_at).to.be.an.instanceOf(Date);
    const counted = { ...(await runsOf(a.metrics, job)) };
    for (const [result, n] of Object.entries(await runsOf(b.metrics, job))) counted[result] = (counted[result] ?? 0) + n;
    expect(counted).to.deep.equal({ succeeded: 1, skipped_locked: 1 });
    // The next tick runs again.
    expect(await b.runner.run(job, work, new Date('2026-11-29T12:10:00Z'))).to.equal('succeeded');
    expect(ran).to.equal(2);
  });

  it('when the job throws, then the run is failed: job_runs keeps the message, job_runs_total{result="failed"} and job_duration_seconds count it', async () => {
    const job = jobName();
    const { runner, metrics } = replica(new InProcessJobLock());
    const result = await runner.run(job, async () => {
      throw new Error('provider unreachable');
    });
    expect(result).to.equal('failed');
    expect(await rows('SELECT last_result, last_error FROM job_runs WHERE job = :job', { job })).to.deep.equal([
      { last_result: 'failed', last_error: 'provider unreachable' },
    ]);
    expect(await runsOf(metrics, job)).to.deep.equal({ failed: 1 });
    const duration = await metrics.jobDuration.get();
    expect(duration.values.find((v) => v.labels.job === job && v.metricName === 'job_duration_seconds_count')?.value).to.equal(1);
  });

  describe('with the Redis lock (a redis-server of the test own)', () => {
    let server: OwnRedis;
    const clients: Redis[] = [];
    const client = () => {
      const c = new Redis(server.url, { maxRetriesPerRequest: 1 });
      clients.push(c);
      return c;
    };
    before(async function () {
      this.timeout(60_000);
      server = await startOwnRedis();
    });
    after(async () => {
      for (const c of clients) c.disconnect();
      await server?.stop();
    });

    it('when a run is still going on one replica and another fires the next tick, then that one is skipped_locked; once the first ends, the next tick runs', async () => {
      const job = jobName();
      const a = replica(new RedisJobLock(client(), 5_000));
      const b = replica(new RedisJobLock(client(), 5_000));
      await expectOneRunAtATime(job, a.runner, b.runner);
    });

    it('when a run outlasts the lease, then the lease is extended while it runs and no other replica gets in', async () => {
      const job = jobName();
      const a = replica(new RedisJobLock(client(), 3_000));
      const b = replica(new RedisJobLock(client(), 3_000));
      const running = gate();
      const started = gate();
      const first = a.runner.run(job, async () => {
        started.open();
        await running.opened;
      });
      await started.opened;
      await sleep(7_000); // beyond two leases: only the automatic extension keeps the lock
      expect(await b.runner.run(job, async () => undefined)).to.equal('skipped_locked');
      running.open();
      expect(await first).to.equal('succeeded');
    });

    it('when the holder died holding the lock (its lease is never renewed), then runs are skipped until the lease lapses and then the next run takes it', async () => {
      const job = jobName();
      // The dead replica: took the lock with a 2 s lease and then stopped existing (no release, no extension).
      await new Redlock([client()], { retryCount: 0 }).acquire([`payments:job-lock:${job}`], 2_000);
      const { runner } = replica(new RedisJobLock(client(), 5_000));
      let ran = 0;
      expect(await runner.run(job, async () => void (ran += 1))).to.equal('skipped_locked');
      await until('the lease to lapse', async () => (await runner.run(job, async () => void (ran += 1))) === 'succeeded');
      expect(ran).to.equal(1);
    });

    it('when Redis is unreachable, then the run is failed (not skipped) and the job did not run', async () => {
      const down = await startOwnRedis();
      const unreachable = new Redis(down.url, { maxRetriesPerRequest: 1 });
      unreachable.on('error', () => undefined);
      clients.push(unreachable);
      await down.stop();
      const { runner, metrics } = replica(new RedisJobLock(unreachable, 5_000));
      const job = jobName();
      let ran = 0;
      expect(await runner.run(job, async () => void (ran += 1))).to.equal('failed');
      expect(ran).to.equal(0);
      expect(await runsOf(metrics, job)).to.deep.equal({ failed: 1 });
    });
  });

  // Needs a PostgreSQL server (DATABASE_URL; CI always has one): session advisory locks are per
  // connection there, while the embedded database is one shared PGlite session (one instance only: the
  // service uses the in-process lock on it), so these are only defined when the suite runs on a server.
  if (process.env.DATABASE_URL) describe('with the PostgreSQL advisory lock (two connection pools, as two replicas)', () => {
    const pools: Sequelize[] = [];
    const pool = () => {
      const p = createSequelize(testDatabaseUrl(), { poolMax: 3 });
      pools.push(p);
      return p;
    };
    after(async () => {
      for (const p of pools) await p.close().catch(() => undefined);
    });

    it('when a run holds the advisory lock on one replica and another fires, then it is skipped_locked; after release the next tick runs', async () => {
      const job = jobName();
      const poolA = pool();
      const poolB = pool();
      const a = replica(new PostgresAdvisoryJobLock(poolA), poolA);
      const b = replica(new PostgresAdvisoryJobLock(poolB), poolB);
      await expectOneRunAtATime(job, a.runner, b.runner);
    });

    it("when the holder's session ends (its backend terminated, as when the process is SIGKILLed), then the lock is released with it", async () => {
      const job = jobName();
      const poolA = pool();
      const poolB = pool();
      const a = replica(new PostgresAdvisoryJobLock(poolA), poolA);
      const b = replica(new PostgresAdvisoryJobLock(poolB), poolB);
      const running = gate();
      const started = gate();
      const first = a.runner.run(job, async () => {
        started.open();
        await running.opened;
      });
      await started.opened;
      expect(await b.runner.run(job, async () => undefined)).to.equal('skipped_locked');
      const holders = await rows<{ pid: number }>(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 727002 AND objid = hashtext(:job)::oid AND granted`,
        { job },
      );
      expect(holders).to.have.length(1);
      await rows('SELECT pg_terminate_backend(:pid)', { pid: holders[0].pid });
      // pg_terminate_backend only signals the backend; the lock goes when it has exited.
      await until('the terminated session to release the lock', async () => (await b.runner.run(job, async () => undefined)) === 'succeeded');
      running.open();
      await first;
    });
  });

  describe('schedules and the reconcile age are configuration', () => {
    let stripe: FakeStripe;
    before(async () => {
      stripe = await withFakeStripe();
    });
    after(() => stripe.stop());

    it('when a cron expression is not valid, then the configuration is refused naming the variable; valid ones (5 or 6 fields) are kept', () => {
      expect(() => loadConfig({ JOB_RECONCILE_CRON: 'every five minutes' })).to.throw(/JOB_RECONCILE_CRON: not a valid cron expression/);
      expect(() => loadConfig({ JOB_PURGE_IDEMPOTENCY_CRON: '61 * * * *' })).to.throw(/JOB_PURGE_IDEMPOTENCY_CRON/);
      expect(() => loadConfig({ JOB_LOCK: 'redis' })).to.throw(/JOB_LOCK=redis needs REDIS_URL/);
      const config = loadConfig({ JOB_RECONCILE_CRON: '*/30 * * * * *', RECONCILE_MIN_AGE_SECONDS: '60', MIGRATE_ON_START: 'false' });
      expect(config.jobs.reconcileCron).to.equal('*/30 * * * * *');
      expect(config.jobs.purgeIdempotencyCron).to.equal('17 * * * *');
      expect(config.reconcile.minAgeSeconds).to.equal(60);
      expect(config.migrateOnStart).to.equal(false);
      expect(loadConfig({}).reconcile.minAgeSeconds).to.equal(600);
    });

    it('when RECONCILE_MIN_AGE_SECONDS=60, then the reconcile job settles a payment idle for 2 minutes (the default 10 would leave it)', async () => {
      const t = buildTestApp({ fakeStripe: stripe, env: { RECONCILE_MIN_AGE_SECONDS: '60' } });
      const defaults = buildTestApp({ fakeStripe: stripe });
      const created = await request(t.app).post('/v1/payments').set(bearer(tokenFor(newUserId()))).send({ amount: 2000, currency: 'usd' });
      expect(created.status).to.equal(201);
      stripe.setStatus(created.body.provider_payment_id, 'succeeded');
      await rows(`UPDATE payments SET updated_at = now() - interval '2 minutes' WHERE id = :id`, { id: created.body.id });
      const reconcile = (app: typeof t) => jobDefinitions(app.container).find((j) => j.name === 'reconcile-payments')!;

      await reconcile(defaults).run();
      expect(await rows('SELECT status FROM payments WHERE id = :id', { id: created.body.id })).to.deep.equal([{ status: 'pending' }]);
      await reconcile(t).run();
      expect(await rows('SELECT status FROM payments WHERE id = :id', { id: created.body.id })).to.deep.equal([{ status: 'succeeded' }]);
    });
  });
});
