/**
 * How long a catch-up of 10,000 missed provider events takes (issue #8): the mock provider holds
 * 10,000 events it never delivered (the webhook was down), and `catch-up-events` lists them
 * (GET /v1/events semantics, 100 a page), stores those the inbox lacks and the worker applies them.
 *   npx tsx bench/catch-up.bench.ts [--events 10000] [--payments 500] [--runs 3] [--rps 0]
 * Each run uses a fresh database next to DATABASE_URL's (default postgres://postgres@127.0.0.1:5432/test).
 *
 * The events: per payment (created through the API and confirmed with a bank debit, then settled at
 * the mock) payment_intent.created, .processing and .succeeded, the last one moving the payment;
 * the rest (to reach --events) are events of a type the service does not handle (stored as ignored),
 * bulk-inserted into mock_events as undelivered. In process (no HTTP hop to the mock): what is
 * measured is the listing, the de-duplication and the inserts, then the worker's applying.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createApp } from '../src/app';
import { buildContainer } from '../src/container';
import { MockProvider } from '../src/providers/mock/mock-provider';
import { signDevToken } from '../src/shared/auth/jwt-verifier';
import { loadConfig } from '../src/shared/config';
import { createSequelize } from '../src/shared/db/database';
import { migrate } from '../src/shared/db/migrator';
import { logger } from '../src/shared/logger';
import { freshDatabase } from './lib/fresh-database';
import { printTable } from './lib/table';

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const EVENTS = Number(option('events', '10000'));
const PAYMENTS = Number(option('payments', '500'));
const RUNS = Number(option('runs', '3'));
const RPS = option('rps', '0');
const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface RunResult {
  catchUpMs: number;
  appliedMs: number;
  pages: number;
  stored: number;
}

async function oneRun(): Promise<RunResult> {
  const db = await freshDatabase(BASE_URL);
  const sequelize = createSequelize(db.url, { poolMax: 10 });
  try {
    await migrate(sequelize, { lock: true });
    const jwtSecret = randomBytes(16).toString('hex');
    const config = loadConfig({
      NODE_ENV: 'development',
      DATABASE_URL: db.url,
      JWT_SECRET: jwtSecret,
      PAYMENT_PROVIDER: 'mock',
      RATE_LIMIT_PER_MINUTE: '0',
      JOBS_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      CATCH_UP_MAX_EVENTS: String(EVENTS * 2),
      CATCH_UP_REQUESTS_PER_SECOND: RPS,
    });
    const provider = new MockProvider({ latencyMs: 0, successRate: 1, sequelize });
    const container = buildContainer({ config, sequelize, provider });
    provider.events.removeAllListeners('event'); // the webhook outage: nothing the mock emits is delivered
    const app = createApp(container);
    const token = `Bearer ${signDevToken(jwtSecret, { sub: 'bench_catch_up', role: 'customer' })}`;

    for (let i = 0; i < PAYMENTS; i += 1) {
      const created = await request(app).post('/v1/payments').set('Authorization', token).send({ amount: 2000, currency: 'usd' });
      const confirmed = await request(app)
        .post(`/v1/payments/${created.body.id}/confirm`)
        .set('Authorization', token)
        .send({ payment_method: 'pm_usBankAccount_success' });
      if (confirmed.body.status !== 'processing') throw new Error(`seed: ${confirmed.status} ${confirmed.text}`);
      await provider.simulate(confirmed.body.provider_payment_id, 'succeed');
    }
    const [[{ count }]] = (await sequelize.query('SELECT count(*)::int AS count FROM mock_events')) as [Array<{ count: number }>, unknown];
    const filler = EVENTS - count;
    if (filler > 0) {
      await sequelize.query(
        `INSERT INTO mock_events (id, type, created, data)
         SELECT 'evt_fill_' || g, 'customer.updated', extract(epoch from now())::bigint,
                jsonb_build_object('id', 'evt_fill_' || g, 'object', 'event', 'type', 'customer.updated', 'livemode', false,
                                   'created', extract(epoch from now())::bigint, 'api_version', '2025-09-30.clover', 'pending_webhooks', 1,
                                   'data', jsonb_build_object('object', jsonb_build_object('id', 'cus_fill_' || g, 'object', 'customer')))
           FROM generate_series(1, :filler) AS g`,
        { replacements: { filler } },
      );
    }
    const pending = async () =>
      ((await sequelize.query("SELECT count(*)::int AS n FROM webhook_events WHERE state IN ('pending', 'processing', 'retrying')")) as [Array<{ n: number }>, unknown])[0][0].n;

    const started = process.hrtime.bigint();
    const result = await container.webhooks.catchUp.execute();
    const caughtUp = process.hrtime.bigint();
    while ((await container.webhooks.worker.drain()) > 0 || (await pending()) > 0) {
      /* until every stored event is applied */
    }
    const applied = process.hrtime.bigint();
    const [[moves]] = (await sequelize.query(
      "SELECT count(*)::int AS n FROM payment_status_history WHERE to_status = 'succeeded' AND source = 'webhook'",
    )) as [Array<{ n: number }>, unknown];
    if (result.stored !== EVENTS || moves.n !== PAYMENTS) throw new Error(`expected ${EVENTS} stored and ${PAYMENTS} moves, got ${result.stored} and ${moves.n}`);
    await container.webhooks.worker.stop();
    return { catchUpMs: Number(caughtUp - started) / 1e6, appliedMs: Number(applied - started) / 1e6, pages: result.pages, stored: result.stored };
  } finally {
    await sequelize.close();
    await db.drop();
  }
}

async function main(): Promise<void> {
  logger.level = 'warn';
  const results: RunResult[] = [];
  for (let i = 0; i < RUNS; i += 1) results.push(await oneRun());
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  printTable(
    ['run', 'events stored', 'GET /v1/events pages', 'catch-up (list + store) ms', 'until all applied ms'],
    [
      ...results.map((r, i) => [String(i + 1), String(r.stored), String(r.pages), r.catchUpMs.toFixed(0), r.appliedMs.toFixed(0)]),
      ['median', '', '', median(results.map((r) => r.catchUpMs)).toFixed(0), median(results.map((r) => r.appliedMs)).toFixed(0)],
    ],
  );
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
