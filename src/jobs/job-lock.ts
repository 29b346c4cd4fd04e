import { ExecutionError, Redlock, ResourceLockedError } from '@sesamecare-oss/redlock';
import type { Redis } from 'ioredis';
import type { Sequelize } from 'sequelize';
import type { Config } from '../shared/config';
import { logger } from '../shared/logger';

/** What a lock attempt gave: the job ran (with its value), or another holder has the lock. */
export type Locked<T> = { acquired: true; value: T } | { acquired: false };

/** Mutual exclusion of one job's runs across every replica of the service. */
export interface JobLock {
  readonly kind: 'postgres' | 'redis' | 'in-process';
  /**
   * Runs `fn` holding the lock named `job`, or does not run it at all when someone holds it.
   * Never waits for the lock. Errors of `fn` propagate; so does a failure to reach the lock's store
   * (that is a failed run, not a skipped one).
   */
  withLock<T>(job: string, fn: () => Promise<T>): Promise<Locked<T>>;
}

// Namespace of the two-key advisory lock: (JOB_LOCK_NAMESPACE, hashtext(job)). The migrator uses the
// one-key form with 727001, so the two never collide.
const JOB_LOCK_NAMESPACE = 727_002;

interface PgConnection {
  query(sql: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/**
 * A session-level `pg_try_advisory_lock` on a connection taken from the pool for the run.
 * The lock lives as long as the session: if the holder is killed, its TCP connection closes, the
 * backend ends and PostgreSQL releases the lock (no lease to wait for). The job's own queries use
 * other pooled connections, so no transaction is held open across provider calls.
 * Source: https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
export class PostgresAdvisoryJobLock implements JobLock {
  readonly kind = 'postgres' as const;
  constructor(private readonly sequelize: Sequelize) {}

  async withLock<T>(job: string, fn: () => Promise<T>): Promise<Locked<T>> {
    const manager = this.sequelize.connectionManager as unknown as {
      getConnection(): Promise<PgConnection>;
      releaseConnection(c: PgConnection): Promise<void>;
    };
    const connection = await manager.getConnection();
    try {
      const { rows } = await connection.query('SELECT pg_try_advisory_lock($1, hashtext($2)) AS acquired', [JOB_LOCK_NAMESPACE, job]);
      if (rows[0]?.acquired !== true) return { acquired: false };
      try {
        return { acquired: true, value: await fn() };
      } finally {
        await connection
          .query('SELECT pg_advisory_unlock($1, hashtext($2))', [JOB_LOCK_NAMESPACE, job])
          .catch((err: unknown) => logger.warn('could not release a job lock; it goes with the session', { job, err }));
      }
    } finally {
      await manager.releaseConnection(connection);
    }
  }
}

/**
 * A Redis lock with a lease (Redlock algorithm, `@sesamecare-oss/redlock`, on one Redis). The lease
 * (`JOB_LOCK_LEASE_MS`) is extended automatically while the job runs; a holder that dies stops
 * extending it, and the lock lapses at most one lease later. Source: https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
 */
export class RedisJobLock implements JobLock {
  readonly kind = 'redis' as const;
  private readonly redlock: Redlock;

  constructor(
    redis: Redis,
    private readonly leaseMs: number,
  ) {
    // retryCount 0: a held lock means "another replica runs it", never "wait for it".
    this.redlock = new Redlock([redis], { retryCount: 0, automaticExtensionThreshold: Math.min(5_000, Math.floor(leaseMs / 3)) });
    this.redlock.on('error', (err: unknown) => {
      if (!(err instanceof ResourceLockedError)) logger.warn('job lock error', { err });
    });
  }

  async withLock<T>(job: string, fn: () => Promise<T>): Promise<Locked<T>> {
    let started = false;
    try {
      const value = await this.redlock.using([`payments:job-lock:${job}`], this.leaseMs, async (signal) => {
        started = true;
        const value = await fn();
        if (signal.aborted) logger.warn('job lock lease was lost while the job ran', { job, err: signal.error });
        return value;
      });
      return { acquired: true, value };
    } catch (err) {
      if (!started && (await heldByAnother(err))) return { acquired: false };
      throw err;
    }
  }
}

/** An acquisition that failed because the resource is locked, as opposed to Redis being unreachable. */
async function heldByAnother(err: unknown): Promise<boolean> {
  if (err instanceof ResourceLockedError) return true;
  if (!(err instanceof ExecutionError)) return false;
  const attempts = await Promise.all(err.attempts);
  return attempts.some((a) => [...a.votesAgainst.values()].some((e) => e instanceof ResourceLockedError));
}

/** One process only (the embedded database): a set of names in memory. */
export class InProcessJobLock implements JobLock {
  readonly kind = 'in-process' as const;
  private readonly held = new Set<string>();

  async withLock<T>(job: string, fn: () => Promise<T>): Promise<Locked<T>> {
    if (this.held.has(job)) return { acquired: false };
    this.held.add(job);
    try {
      return { acquired: true, value: await fn() };
    } finally {
      this.held.delete(job);
    }
  }
}

/**
 * The lock for this deployment (`JOB_LOCK`): `auto` is Redis when `REDIS_URL` is set, else PostgreSQL.
 * The embedded database is one PGlite session shared by the whole process (a session lock there
 * would be re-entrant and hold the pool's only connection), and serves one instance only: in process.
 */
export function createJobLock(deps: { config: Pick<Config, 'jobs'>; sequelize: Sequelize; redis?: Redis; embedded: boolean }): JobLock {
  const { lock, lockLeaseMs } = deps.config.jobs;
  if (lock === 'redis' || (lock === 'auto' && deps.redis)) {
    if (!deps.redis) throw new Error('JOB_LOCK=redis needs REDIS_URL');
    return new RedisJobLock(deps.redis, lockLeaseMs);
  }
  if (deps.embedded) return new InProcessJobLock();
  return new PostgresAdvisoryJobLock(deps.sequelize);
}
