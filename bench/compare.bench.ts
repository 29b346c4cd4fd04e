/**
 * The service against a bare reference server (bench/reference/), side by side on the same PostgreSQL,
 * with the same load, in one run (issue #7, "How it is measured"):
 *   npm run bench:compare -- [--runs 3] [--duration 10] [--warmup 3] [--connections 16,64] [--soak 60]
 * See bench/README.md for what is measured and how to read it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { signDevToken } from '../src/shared/auth/jwt-verifier';
import { freshDatabase } from './lib/fresh-database';
import { rssMb } from './lib/rss';
import { freePort, inheritedEnv, startNodeProcess, startService, type ServiceProcess } from './lib/service-process';
import { signStripe, succeededEvent } from './lib/stripe-event';
import { printTable } from './lib/table';
import { createReferenceSchema } from './reference/reference-schema';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const CREATE_BODY = JSON.stringify({ amount: 2000, currency: 'usd' });
const SECRET = `whsec_bench_${randomBytes(8).toString('hex')}`;
/** Webhook events go round-robin over this many payments created by the create scenario. */
const WEBHOOK_PAYMENTS = 1000;
const DRAIN_LIMIT_MS = 120_000;
const CREATE = 'POST /v1/payments';
const WEBHOOK = 'POST /v1/webhooks/stripe';
type Path = typeof CREATE | typeof WEBHOOK;
type Server = 'service' | 'reference';

interface Options {
  runs: number;
  duration: number;
  warmup: number;
  connections: number[];
  soak: number;
  poolMax: number;
  /** Seconds autocannon waits for an answer before counting a timeout (and reconnecting). */
  timeout: number;
}

interface Row {
  run: number;
  path: Path;
  server: Server;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  ok: number;
  /** Rows the scenario added (answered ones plus those in flight when the load stopped). */
  stored: number;
  /** Ids answered 2xx, and how many of them have their row (must be all). */
  acked: number;
  ackedStored: number;
  rssStart: number | null;
  rssEnd: number | null;
  drainSeconds?: number;
  dead?: number;
  ratio?: number;
}

interface Target {
  server: Server;
  process: ServiceProcess;
  /** Payments the webhook scenario sends events for. */
  payments: Array<{ id: string; providerPaymentId: string }>;
}

function parseArgs(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const integer = (name: string, fallback: number, min: number): number => {
    const raw = value(name);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min} (got ${raw})`);
    return n;
  };
  const connections = (value('connections') ?? '16,64').split(',').map((c) => Number(c.trim()));
  if (connections.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`--connections must be a comma list of integers >= 1`);
  const opts = {
    runs: integer('runs', 3, 0),
    duration: integer('duration', 10, 1),
    warmup: integer('warmup', 3, 0),
    connections,
    soak: integer('soak', 0, 0),
    poolMax: integer('pool', 10, 1),
    timeout: integer('timeout', 30, 1),
  };
  if (opts.runs === 0 && opts.soak === 0) throw new Error('nothing to do: --runs 0 needs --soak N');
  return opts;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(', ');
const mb = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(0));

/** Set from `--timeout` in main(). */
let answerTimeoutSeconds = 30;

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) =>
    autocannon({ timeout: answerTimeoutSeconds, ...options }, (err, result) => (err ? reject(err) : resolve(result))),
  );
}

/** What one connection last sent: the Idempotency-Key (creates) or the event id (webhooks). */
interface Sent {
  id?: string;
}

/**
 * `connections` keep-alive clients for `duration` s; every create has a new Idempotency-Key, every event
 * a new id. The ids answered 2xx are added to `acked` (one request in flight per connection, so the
 * connection's context says which request an answer is for).
 */
function drive(target: Target, path: Path, connections: number, duration: number, token: string, acked?: string[]): Promise<autocannon.Result> {
  const onResponse = (status: number, _body: string, context: object) => {
    const id = (context as Sent).id;
    if (acked && id && status >= 200 && status < 300) acked.push(id);
  };
  if (path === CREATE) {
    return run({
      url: target.process.url,
      connections,
      duration,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      requests: [
        {
          method: 'POST',
          path: '/v1/payments',
          body: CREATE_BODY,
          setupRequest: (req, context) => {
            const key = randomUUID();
            (context as Sent).id = key;
            return { ...req, headers: { ...req.headers, 'idempotency-key': key } };
          },
          onResponse,
        },
      ],
    });
  }
  let next = 0;
  return run({
    url: target.process.url,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/v1/webhooks/stripe',
        setupRequest: (req, context) => {
          const body = succeededEvent(target.payments[next++ % target.payments.length]);
          (context as Sent).id = (JSON.parse(body) as { id: string }).id;
          return { ...req, body, headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body, SECRET) } };
        },
        onResponse,
      },
    ],
  });
}

/** Rows stored by one server on one path: payments for creates, received events for webhooks. */
async function countStored(db: Client, server: Server, path: Path): Promise<number> {
  const sql =
    path === CREATE
      ? server === 'service'
        ? 'SELECT count(*) AS n FROM payments'
        : 'SELECT count(*) AS n FROM ref_payments'
      : server === 'service'
        ? `SELECT count(*) AS n FROM webhook_events WHERE type = 'payment_intent.succeeded'`
        : `SELECT count(*) AS n FROM ref_webhook_events`;
  return Number((await db.query<{ n: string }>(sql)).rows[0].n);
}

/**
 * How many of the ids answered 2xx have their row: a payment behind the Idempotency-Key, or the event.
 * Must be all of them (an answer without a row is a lost write).
 */
async function countAckedStored(db: Client, server: Server, path: Path, acked: string[]): Promise<number> {
  const sql =
    path === CREATE
      ? server === 'service'
        ? `SELECT count(*) AS n FROM idempotency_keys k JOIN payments p ON p.id = k.payment_id WHERE k.idempotency_key = ANY($1::text[])`
        : `SELECT count(*) AS n FROM ref_idempotency_keys k JOIN ref_payments p ON p.id = k.payment_id WHERE k.idempotency_key = ANY($1::text[])`
      : server === 'service'
        ? `SELECT count(*) AS n FROM webhook_events WHERE id = ANY($1::text[])`
        : `SELECT count(*) AS n FROM ref_webhook_events WHERE id = ANY($1::text[])`;
  return Number((await db.query<{ n: string }>(sql, [acked])).rows[0].n);
}

/**
 * autocannon stops with up to one request per connection in flight; the server still finishes those.
 * Waits until the row count has not moved for 500 ms (at most 30 s) and returns it.
 */
async function settledCount(db: Client, server: Server, path: Path): Promise<number> {
  let last = await countStored(db, server, path);
  const started = Date.now();
  while (Date.now() - started < 30_000) {
    await sleep(500);
    const now = await countStored(db, server, path);
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** Events not yet applied (pending, processing or waiting for a retry) and dead ones, in the service's inbox. */
async function inbox(db: Client): Promise<{ waiting: number; dead: number }> {
  const { rows } = await db.query<{ waiting: string; dead: string }>(
    `SELECT count(*) FILTER (WHERE state IN ('pending', 'processing', 'retrying')) AS waiting,
            count(*) FILTER (WHERE state = 'dead') AS dead FROM webhook_events`,
  );
  return { waiting: Number(rows[0].waiting), dead: Number(rows[0].dead) };
}

/** Seconds from now until the service's inbox has nothing waiting (Infinity after DRAIN_LIMIT_MS). */
async function timeToDrain(db: Client): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < DRAIN_LIMIT_MS) {
    if ((await inbox(db)).waiting === 0) return (Date.now() - started) / 1000;
    await sleep(100);
  }
  return Infinity;
}

async function measure(run: number, target: Target, path: Path, connections: number, opts: Options, token: string, db: Client): Promise<Row> {
  const before = await countStored(db, target.server, path);
  const rssStart = rssMb(target.process.pid);
  process.stderr.write(`  run ${run}: ${path} -> ${target.server}, ${connections} connections, ${opts.duration}s (load ${load()})\n`);
  const acked: string[] = [];
  const result = await drive(target, path, connections, opts.duration, token, acked);
  if (process.env.BENCH_DEBUG) process.stderr.write(JSON.stringify({ ...result, latency: undefined, requests: result.requests }) + '\n');
  const row: Row = {
    run,
    path,
    server: target.server,
    connections,
    rps: result.requests.total / (result.duration || opts.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    ok: result['2xx'],
    stored: 0,
    acked: 0,
    ackedStored: 0,
    rssStart,
    rssEnd: null,
  };
  if (target.server === 'service' && path === WEBHOOK) {
    row.drainSeconds = await timeToDrain(db);
    row.dead = (await inbox(db)).dead;
  }
  row.stored = (await settledCount(db, target.server, path)) - before;
  row.acked = acked.length;
  row.ackedStored = await countAckedStored(db, target.server, path, acked);
  row.rssEnd = rssMb(target.process.pid);
  const statuses = Object.entries(result.statusCodeStats ?? {}).map(([status, s]) => `${status}: ${s.count}`).join(', ');
  process.stderr.write(`    ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, statuses {${statuses}}, errors ${row.errors}, stored ${row.stored}\n`);
  if (row.non2xx > 0 && target.server === 'service') process.stderr.write(`    service output: ${target.process.output().slice(-3).join(' | ')}\n`);
  return row;
}

async function paymentsFor(db: Client, server: Server): Promise<Target['payments']> {
  const table = server === 'service' ? 'payments' : 'ref_payments';
  const { rows } = await db.query<{ id: string; provider_payment_id: string }>(
    `SELECT id, provider_payment_id FROM ${table} WHERE provider_payment_id IS NOT NULL ORDER BY created_at DESC LIMIT ${WEBHOOK_PAYMENTS}`,
  );
  if (rows.length === 0) throw new Error(`no ${server} payment to send webhook events for`);
  return rows.map((r) => ({ id: r.id, providerPaymentId: r.provider_payment_id }));
}

/** Starts the service and the reference on a fresh database, both with `poolMax` connections. */
async function startBoth(url: string, opts: Options, jwtSecret: string): Promise<Target[]> {
  await createReferenceSchema(url);
  const service = await startService({
    databaseUrl: url,
    jwtSecret,
    env: { STRIPE_WEBHOOK_SECRET: SECRET, MOCK_LATENCY_MS: '0', DB_POOL_MAX: String(opts.poolMax) },
  });
  const port = await freePort();
  const reference = await startNodeProcess({
    entry: 'bench/reference/reference-server.ts',
    env: { ...inheritedEnv(), NODE_ENV: 'production', PORT: String(port), DATABASE_URL: url, STRIPE_WEBHOOK_SECRET: SECRET, REF_POOL_MAX: String(opts.poolMax) },
  }).catch(async (err) => {
    await service.stop();
    throw err;
  });
  return [
    { server: 'service', process: service, payments: [] },
    { server: 'reference', process: reference, payments: [] },
  ];
}

async function oneRun(runNo: number, opts: Options, baseUrl: string): Promise<Row[]> {
  const database = await freshDatabase(baseUrl);
  const jwtSecret = randomBytes(32).toString('hex');
  const token = signDevToken(jwtSecret, { sub: `bench_${randomBytes(6).toString('hex')}`, role: 'customer' }, 3600);
  const db = new Client({ connectionString: database.url });
  let targets: Target[] = [];
  const rows: Row[] = [];
  try {
    targets = await startBoth(database.url, opts, jwtSecret);
    await db.connect();
    const top = Math.max(...opts.connections);
    process.stderr.write(`run ${runNo}: service ${targets[0].process.url} (pid ${targets[0].process.pid}), reference ${targets[1].process.url}; load ${load()}\n`);

    // Each warm-up ends with a request in flight on every connection; they are finished before measuring.
    if (opts.warmup > 0) {
      for (const t of targets) {
        await drive(t, CREATE, top, opts.warmup, token);
        await settledCount(db, t.server, CREATE);
      }
    }
    for (const connections of opts.connections) {
      for (const t of targets) rows.push(await measure(runNo, t, CREATE, connections, opts, token, db));
    }
    // The creates' own payment_intent.created events are applied before webhooks are measured.
    await timeToDrain(db);
    for (const t of targets) t.payments = await paymentsFor(db, t.server);
    if (opts.warmup > 0) {
      for (const t of targets) {
        await drive(t, WEBHOOK, top, opts.warmup, token);
        await settledCount(db, t.server, WEBHOOK);
      }
      await timeToDrain(db);
    }
    for (const connections of opts.connections) {
      for (const t of targets) rows.push(await measure(runNo, t, WEBHOOK, connections, opts, token, db));
    }
  } finally {
    await db.end().catch(() => undefined);
    for (const t of targets) await t.process.stop();
    await database.drop();
  }
  for (const row of rows) {
    if (row.server !== 'service') continue;
    const ref = rows.find((r) => r.server === 'reference' && r.path === row.path && r.connections === row.connections);
    if (ref && ref.rps > 0) row.ratio = row.rps / ref.rps;
  }
  return rows;
}

/** `--soak N`: the service alone, creates at 64 connections for N s, RSS; another N s, RSS: the growth. */
async function soak(seconds: number, baseUrl: string): Promise<boolean> {
  const database = await freshDatabase(baseUrl);
  const jwtSecret = randomBytes(32).toString('hex');
  const token = signDevToken(jwtSecret, { sub: `bench_${randomBytes(6).toString('hex')}`, role: 'customer' }, 3600);
  const db = new Client({ connectionString: database.url });
  let service: ServiceProcess | undefined;
  const table: string[][] = [];
  let ok = true;
  try {
    service = await startService({ databaseUrl: database.url, jwtSecret, env: { STRIPE_WEBHOOK_SECRET: SECRET, MOCK_LATENCY_MS: '0' } });
    await db.connect();
    const target: Target = { server: 'service', process: service, payments: [] };
    const rss: Array<number | null> = [rssMb(service.pid)];
    table.push(['start', '-', '-', '-', '-', '-', mb(rss[0]), '-']);
    for (const phase of [1, 2]) {
      process.stderr.write(`soak ${phase}/2: ${CREATE}, 64 connections, ${seconds}s (load ${load()})\n`);
      const acked: string[] = [];
      const result = await drive(target, CREATE, 64, seconds, token, acked);
      const stored = await countAckedStored(db, 'service', CREATE, acked);
      rss.push(rssMb(service.pid));
      ok &&= result.errors + result.timeouts === 0 && result.non2xx === 0 && stored === result['2xx'] && acked.length === result['2xx'];
      table.push([
        `after ${phase * seconds}s`,
        String(result.requests.total),
        (result.requests.total / (result.duration || seconds)).toFixed(0),
        String(result.latency.p50),
        String(result.latency.p99),
        `${result.errors + result.timeouts}/${result.non2xx}`,
        mb(rss[phase]),
        `${stored}/${result['2xx']}`,
      ]);
    }
    process.stdout.write(`\n### RSS soak: ${CREATE} at 64 connections, 2 x ${seconds}s (load at end ${load()})\n\n`);
    printTable(['phase', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'errors/non-2xx', 'RSS MB', '2xx with row/2xx'], table);
    const growth = rss[2] !== null && rss[1] !== null ? rss[2] - rss[1] : null;
    process.stdout.write(`\nRSS growth over the second ${seconds}s: ${growth === null ? '-' : `${growth.toFixed(1)} MB`} (target: < 300 MB after the first, no growth after)\n`);
  } finally {
    await db.end().catch(() => undefined);
    await service?.stop();
    await database.drop();
  }
  return ok;
}

/**
 * Nothing lost: every id answered 2xx has its row, and the only rows beyond those are the requests still
 * in flight when autocannon stopped (at most one per connection).
 */
function intact(r: Row): boolean {
  return r.acked === r.ok && r.ackedStored === r.acked && r.stored >= r.acked && r.stored - r.acked <= r.connections;
}

function printRun(rows: Row[]): void {
  printTable(
    ['path', 'server', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors/non-2xx', 'ratio svc/ref', '2xx with row/2xx', 'rows stored (in flight at stop)', 'RSS MB start->end', 'backlog applied (s)', 'dead'],
    rows.map((r) => [
      r.path,
      r.server,
      String(r.connections),
      r.rps.toFixed(0),
      String(r.p50),
      String(r.p99),
      `${r.errors}/${r.non2xx}`,
      r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
      `${r.ackedStored}/${r.ok}${intact(r) ? '' : ' MISMATCH'}`,
      `${r.stored} (${r.stored - r.acked >= 0 ? '+' : ''}${r.stored - r.acked})`,
      `${mb(r.rssStart)}->${mb(r.rssEnd)}`,
      r.drainSeconds === undefined ? '' : Number.isFinite(r.drainSeconds) ? r.drainSeconds.toFixed(1) : `> ${DRAIN_LIMIT_MS / 1000}`,
      r.dead === undefined ? '' : String(r.dead),
    ]),
  );
}

/** Issue #7's targets for the service, per path and connection count. */
function target(path: Path, connections: number): { ratio: number; p99?: number } {
  if (path === CREATE) return { ratio: 0.5, p99: connections === 64 ? 80 : undefined };
  return { ratio: 1.0, p99: connections === 64 ? 50 : undefined };
}

function printMedians(all: Row[], runs: number): void {
  const keys = [...new Set(all.map((r) => `${r.path}|${r.connections}`))];
  const table = keys.map((key) => {
    const [path, c] = key.split('|') as [Path, string];
    const connections = Number(c);
    const svc = all.filter((r) => r.server === 'service' && r.path === path && r.connections === connections);
    const ref = all.filter((r) => r.server === 'reference' && r.path === path && r.connections === connections);
    const ratio = median(svc.map((r) => r.ratio ?? 0));
    const p99 = median(svc.map((r) => r.p99));
    const goal = target(path, connections);
    const met = ratio >= goal.ratio && (goal.p99 === undefined || p99 < goal.p99);
    return [
      path,
      String(connections),
      median(svc.map((r) => r.rps)).toFixed(0),
      median(ref.map((r) => r.rps)).toFixed(0),
      `${ratio.toFixed(2)}x`,
      svc.map((r) => `${(r.ratio ?? 0).toFixed(2)}`).join(' / '),
      p99.toFixed(0),
      median(ref.map((r) => r.p99)).toFixed(0),
      path === WEBHOOK ? median(svc.map((r) => r.drainSeconds ?? 0)).toFixed(1) : '',
      `>= ${goal.ratio}x${goal.p99 ? `, p99 < ${goal.p99} ms` : ''}: ${met ? 'met' : 'NOT met'}`,
    ];
  });
  process.stdout.write(`\n### Medians over ${runs} run(s)\n\n`);
  printTable(
    ['path', 'conns', 'service req/s', 'reference req/s', 'median ratio', 'ratios per run', 'service p99 ms', 'reference p99 ms', 'backlog applied (s)', 'target (issue #7)'],
    table,
  );
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  answerTimeoutSeconds = opts.timeout;
  const baseUrl = process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL;
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  process.stdout.write(
    `## bench:compare: service vs bare Express 5 + pg reference\n\n` +
      `Node ${process.version}, ${os.cpus().length} x ${cpu}; PostgreSQL ${baseUrl.replace(/\/\/[^@]*@/, '//***@')} (fresh database per run); ` +
      `${opts.duration}s per scenario after ${opts.warmup}s warm-up; pool ${opts.poolMax} on both; load average at start ${load()}\n`,
  );
  const all: Row[] = [];
  for (let i = 1; i <= opts.runs; i += 1) {
    const rows = await oneRun(i, opts, baseUrl);
    all.push(...rows);
    process.stdout.write(`\n### Run ${i} of ${opts.runs} (load average after: ${load()})\n\n`);
    printRun(rows);
  }
  if (opts.runs > 0) printMedians(all, opts.runs);
  let ok = all.every((r) => r.errors === 0 && r.non2xx === 0 && intact(r) && (r.dead ?? 0) === 0 && Number.isFinite(r.drainSeconds ?? 0));
  if (opts.soak > 0) ok = (await soak(opts.soak, baseUrl)) && ok;
  if (!ok) {
    process.stderr.write('\nSome requests failed, rows did not match 2xx answers, an event died, or the backlog did not drain: see above.\n');
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`bench:compare failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
