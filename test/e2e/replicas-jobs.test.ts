import { spawn } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import request from 'supertest';
import { ROOT, startService, type ServiceProcess } from '../../bench/lib/service-process';
import { bearer, newUserId, tokenFor } from '../helpers/auth';
import { rows, testDatabaseUrl } from '../helpers/database';
import type { FakeStripe } from '../helpers/fake-stripe';
import { startOwnRedis, type OwnRedis } from '../helpers/own-redis';
import { buildTestApp, withFakeStripe } from '../helpers/test-app';

const JWT_SECRET = 'replica-test-secret-that-is-long-enough-0123456789';
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];

interface JobProcess {
  code: Promise<number | null>;
  stdout(): string;
  kill(): void;
}

/** `scripts/run-job.ts <name>` (what `npm run job -- <name>` runs) in a child process, with only `env` besides PATH etc. */
function runJob(name: string, env: Record<string, string>): JobProcess {
  const childEnv: Record<string, string> = {};
  for (const k of INHERITED) if (process.env[k] !== undefined) childEnv[k] = process.env[k]!;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('scripts', 'run-job.ts'), name], {
    cwd: ROOT,
    env: { ...childEnv, NODE_ENV: 'development', LOG_LEVEL: 'warn', MIGRATE_ON_START: 'false', JWT_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = new Promise<number | null>((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal ? -1 : null))));
  return { code, stdout: () => out, kill: () => child.kill('SIGKILL') };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

interface JobLine {
  message: string;
  job: string;
  tick: string;
  result: string;
}
const jobLines = (service: ServiceProcess, job: string): JobLine[] =>
  service
    .output()
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JobLine)
    .filter((l) => l.message === 'job finished' && l.job === job);

/**
 * Stands in for Stripe: the first request is held open forever (a replica stuck mid-job, holding the
 * job lock), later ones answer 404 at once.
 */
function hangingStripe(): Promise<{ url: string; requests: () => number; close: () => void }> {
  let count = 0;
  const held: ServerResponse[] = [];
  const server: Server = createServer((_req, res) => {
    count += 1;
    if (count === 1) {
      held.push(res);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { type: 'invalid_request_error', code: 'resource_missing', message: 'No such payment_intent' } }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests: () => count,
        close: () => {
          for (const r of held) r.destroy();
          server.closeAllConnections();
          server.close();
        },
      });
    }),
  );
}

/**
 * Replicas as `npm start` runs them (child processes) on one PostgreSQL (and one Redis of the test's
 * own). Needs a PostgreSQL server (DATABASE_URL; CI always has one): the embedded database of a plain
 * run takes one connection, so two processes cannot share it; these are only defined on a server.
 */
if (process.env.DATABASE_URL) {
  describe('replicas: jobs run once across processes (child processes on one PostgreSQL and one Redis)', function () {
    this.timeout(240_000);
    let redis: OwnRedis;
    let stripe: FakeStripe;
    before(async () => {
      redis = await startOwnRedis();
      stripe = await withFakeStripe();
    });
    after(async () => {
      await redis?.stop();
      await stripe?.stop();
    });

    for (const lock of ['postgres', 'redis'] as const) {
      const lockEnv = (): Record<string, string> => (lock === 'redis' ? { JOB_LOCK: 'redis', REDIS_URL: redis.url, JOB_LOCK_LEASE_MS: '3000' } : { JOB_LOCK: 'postgres' });

      it(`when two replicas fire the same job every second (${lock} lock), then each tick runs on exactly one of them and the other reports skipped_locked`, async () => {
        const job = 'purge-idempotency-keys';
        const env = {
          ...lockEnv(),
          LOG_LEVEL: 'info',
          JOBS_ENABLED: 'true',
          JOB_PURGE_IDEMPOTENCY_CRON: '* * * * * *',
          JOB_RECONCILE_CRON: '0 0 1 1 *',
        };
        const replicas = await Promise.all([0, 1].map(() => startService({ databaseUrl: testDatabaseUrl(), jwtSecret: JWT_SECRET, env, readyTimeoutMs: 180_000 })));
        try {
          const ticksOnBoth = () => {
            const [a, b] = replicas.map((r) => new Set(jobLines(r, job).map((l) => l.tick)));
            return [...a].filter((tick) => b.has(tick));
          };
          await until('three ticks fired on both replicas', () => ticksOnBoth().length >= 3);
          const lines = replicas.flatMap((r) => jobLines(r, job));
          for (const tick of ticksOnBoth()) {
            const results = lines.filter((l) => l.tick === tick).map((l) => l.result);
            expect(results.sort(), `tick ${tick}`).to.deep.equal(['skipped_locked', 'succeeded']);
          }
          // Each replica exports its own count; together one success per tick.
          const metrics = await Promise.all(replicas.map((r) => fetch(`${r.url}/metrics`).then((res) => res.text())));
          expect(metrics.every((m) => m.includes(`job_runs_total{job="${job}",result="skipped_locked"}`) || m.includes(`job_runs_total{job="${job}",result="succeeded"}`))).to.equal(true);
        } finally {
          await Promise.all(replicas.map((r) => r.stop()));
        }
      });

      it(`when a replica is SIGKILLed while holding the reconcile lock (${lock}), then a run meanwhile is skipped_locked and a later one takes the job over and succeeds`, async () => {
        // An open payment idle for an hour, so reconcile calls the (hanging) provider for it.
        const t = buildTestApp({ fakeStripe: stripe });
        const created = await request(t.app).post('/v1/payments').set(bearer(tokenFor(newUserId()))).send({ amount: 2000, currency: 'usd' });
        expect(created.status).to.equal(201);
        await rows(`UPDATE payments SET updated_at = now() - interval '1 hour' WHERE id = :id`, { id: created.body.id });
        const provider = await hangingStripe();
        const env = {
          ...lockEnv(),
          DATABASE_URL: testDatabaseUrl(),
          STRIPE_SECRET_KEY: 'sk_test_replicas',
          STRIPE_API_URL: provider.url,
          STRIPE_TIMEOUT_MS: '120000',
          STRIPE_MAX_NETWORK_RETRIES: '0',
        };
        try {
          const holder = runJob('reconcile-payments', env);
          await until('the holder to be stuck in the provider call', () => provider.requests() >= 1);

          const meanwhile = runJob('reconcile-payments', env);
          expect(await meanwhile.code, meanwhile.stdout()).to.equal(0);
          expect(meanwhile.stdout()).to.contain('reconcile-payments: skipped_locked');

          holder.kill();
          expect(await holder.code).to.equal(-1);

          // PostgreSQL frees the lock with the dead session; Redis after the lease (3 s) lapses.
          let last: JobProcess | undefined;
          await until('a run after the holder died to take the job', async () => {
            last = runJob('reconcile-payments', env);
            await last.code;
            return last.stdout().includes('reconcile-payments: succeeded');
          });
          expect(await last!.code).to.equal(0);
          const [run] = await rows<{ last_result: string }>(`SELECT last_result FROM job_runs WHERE job = 'reconcile-payments'`);
          expect(run.last_result).to.equal('succeeded');
        } finally {
          provider.close();
        }
      });
    }

    it('when `npm run job -- purge-idempotency-keys` is run, then it purges once and exits 0; an unknown job exits 2 naming the jobs', async () => {
      const user = newUserId();
      await rows(
        `INSERT INTO idempotency_keys (user_id, idempotency_key, request_method, request_path, request_fingerprint, created_at)
         VALUES (:user, 'expired', 'POST', '/v1/payments', 'x', now() - interval '2 days'), (:user, 'fresh', 'POST', '/v1/payments', 'y', now())`,
        { user },
      );
      const childEnv: Record<string, string> = {};
      for (const k of INHERITED) if (process.env[k] !== undefined) childEnv[k] = process.env[k]!;
      const npm = (name: string) =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn('npm', ['run', '-s', 'job', '--', name], {
            cwd: ROOT,
            env: { ...childEnv, NODE_ENV: 'development', LOG_LEVEL: 'warn', MIGRATE_ON_START: 'false', DATABASE_URL: testDatabaseUrl(), JOB_LOCK: 'postgres' },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '';
          child.stdout.on('data', (c: Buffer) => (out += c.toString()));
          child.stderr.on('data', (c: Buffer) => (out += c.toString()));
          child.once('exit', (code) => resolve({ code, out }));
        });
      const ran = await npm('purge-idempotency-keys');
      expect(ran.code, ran.out).to.equal(0);
      expect(ran.out).to.contain('purge-idempotency-keys: succeeded');
      expect(await rows(`SELECT idempotency_key FROM idempotency_keys WHERE user_id = :user`, { user })).to.deep.equal([{ idempotency_key: 'fresh' }]);
      const unknown = await npm('no-such-job');
      expect(unknown.code).to.equal(2);
      expect(unknown.out).to.contain('Jobs: purge-idempotency-keys, reconcile-payments');
    });
  });
}
