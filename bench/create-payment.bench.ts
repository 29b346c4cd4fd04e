/**
 * Throughput and latency of the payments API, end to end over HTTP, against a real running service.
 *   npx tsx bench/create-payment.bench.ts [--db embedded|postgres] [--duration 10] [--connections 10] [--warmup 2] [--timeout 30] [--order-service]
 * See bench/README.md for what is measured and how to read it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import autocannon from 'autocannon';
import { signDevToken } from '../src/shared/auth/jwt-verifier';
import { freshDatabase } from './lib/fresh-database';
import { startOrderServiceStandIn, type OrderServiceStandIn } from './lib/order-service-stand-in';
import { startService, type ServiceProcess } from './lib/service-process';
import { printTable } from './lib/table';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const CREATE_BODY = JSON.stringify({ amount: 2000, currency: 'usd' });
/** With --order-service the order decides the amount: the body names the order only. */
const ORDER_PRICED_BODY = JSON.stringify({ order_id: 'ord_bench' }); // replaced per request by a fresh order id
const READ_SET_SIZE = 200;

interface Options {
  db: 'embedded' | 'postgres';
  duration: number;
  connections: number;
  warmup: number;
  /** Start a local stand-in order service and set ORDER_SERVICE_URL: each create looks its order up. */
  orderService: boolean;
  /** Seconds autocannon waits for an answer before counting a timeout (an error). */
  timeout: number;
}

interface Row {
  scenario: string;
  db: string;
  connections: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

function parseArgs(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const integer = (name: string, fallback: number, min = 1): number => {
    const raw = value(name);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min} (got ${raw})`);
    return n;
  };
  const db = value('db') ?? (process.env.DATABASE_URL ? 'postgres' : 'embedded');
  if (db !== 'embedded' && db !== 'postgres') throw new Error(`--db must be embedded or postgres (got ${db})`);
  return {
    db,
    duration: integer('duration', 10),
    connections: integer('connections', 10),
    warmup: integer('warmup', 2, 0),
    orderService: argv.includes('--order-service'),
    timeout: integer('timeout', 30),
  };
}

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

function toRow(scenario: string, opts: Options, result: autocannon.Result): Row {
  return {
    scenario,
    db: opts.db,
    connections: opts.connections,
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/**
 * Every request carries a fresh Idempotency-Key, so each one creates a payment (no replays). The first
 * READ_SET_SIZE ids created are pushed to `keep` for the read scenario.
 */
function createPayments(url: string, token: string, opts: Options, duration: number, keep?: string[]): Promise<autocannon.Result> {
  return run({
    url,
    connections: opts.connections,
    duration,
    timeout: opts.timeout,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests: [
      {
        method: 'POST',
        path: '/v1/payments',
        body: opts.orderService ? ORDER_PRICED_BODY : CREATE_BODY,
        setupRequest: (req) => {
          req.headers = { ...req.headers, 'idempotency-key': randomUUID() };
          // One order is paid once (order-payment-guard.ts): a new payment needs a new order.
          if (opts.orderService) req.body = JSON.stringify({ order_id: `ord_bench_${randomUUID()}` });
          return req;
        },
        onResponse: (status, body) => {
          if (keep && status === 201 && keep.length < READ_SET_SIZE) keep.push((JSON.parse(body) as { id: string }).id);
        },
      },
    ],
  });
}

/** GET /v1/payments/:id round-robin over payments the same user owns. */
function readPayments(url: string, token: string, opts: Options, ids: string[]): Promise<autocannon.Result> {
  let next = 0;
  return run({
    url,
    connections: opts.connections,
    duration: opts.duration,
    timeout: opts.timeout,
    headers: { authorization: `Bearer ${token}` },
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          req.path = `/v1/payments/${ids[next++ % ids.length]}`;
          return req;
        },
      },
    ],
  });
}

function printRows(rows: Row[]): void {
  printTable(
    ['scenario', 'db', 'connections', 'requests', 'req/s avg', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
    rows.map((r) => [
      r.scenario,
      r.db,
      String(r.connections),
      String(r.requests),
      r.rps.toFixed(0),
      String(r.p50),
      String(r.p99),
      String(r.non2xx),
      String(r.errors),
    ]),
  );
}

function describeStatuses(result: autocannon.Result): string {
  const stats = result.statusCodeStats ?? {};
  return Object.entries(stats)
    .map(([status, s]) => `${status}: ${s.count ?? 0}`)
    .join(', ');
}

/** The service's own account of the lookups (order_lookup_duration_seconds): how much of a create they took. */
async function lookupLatency(url: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name}\\{result="found"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const count = value('order_lookup_duration_seconds_count');
  const sum = value('order_lookup_duration_seconds_sum');
  return `Order lookups (found): ${count}, mean ${((sum / count) * 1000).toFixed(1)} ms, retries and breaker included`;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  // A fresh database per run: rows from earlier runs (or a test run truncating `test`) skew nothing.
  const database = opts.db === 'postgres' ? await freshDatabase(process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL) : undefined;
  const databaseUrl = database?.url;
  const jwtSecret = randomBytes(32).toString('hex');
  const token = signDevToken(jwtSecret, { sub: `bench_${randomBytes(6).toString('hex')}`, role: 'customer' }, 3600);

  process.stderr.write(
    `Starting the service (db: ${opts.db}${databaseUrl ? ` ${databaseUrl.replace(/\/\/[^@]*@/, '//***@')}` : ', fresh temp DATA_DIR'}, mock provider)...\n`,
  );
  let service: ServiceProcess | undefined;
  let orders: OrderServiceStandIn | undefined;
  try {
    const started = Date.now();
    if (opts.orderService) orders = await startOrderServiceStandIn();
    service = await startService({ databaseUrl, jwtSecret, env: orders ? { ORDER_SERVICE_URL: orders.url } : {} });
    process.stderr.write(`Ready in ${((Date.now() - started) / 1000).toFixed(1)}s at ${service.url}\n`);
    const rows: Row[] = [];

    if (opts.warmup > 0) {
      process.stderr.write(`Warm-up: ${opts.warmup}s of POST /v1/payments (not reported)\n`);
      await createPayments(service.url, token, opts, opts.warmup);
      // autocannon stops with a request in flight on every connection; the service still finishes them.
      // One more create, queued behind them, returns once that backlog is done, so it is not measured.
      await fetch(`${service.url}/v1/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: CREATE_BODY,
        signal: AbortSignal.timeout(120_000),
      });
    }

    process.stderr.write(`POST /v1/payments: ${opts.duration}s, ${opts.connections} connections, a new Idempotency-Key per request\n`);
    const ids: string[] = [];
    const created = await createPayments(service.url, token, opts, opts.duration, ids);
    rows.push(toRow(opts.orderService ? 'POST /v1/payments (order lookup)' : 'POST /v1/payments', opts, created));
    if (created.non2xx > 0) process.stderr.write(`  statuses: ${describeStatuses(created)}\n`);

    if (ids.length === 0) {
      process.stderr.write(`no payment was created within the ${opts.timeout}s timeout: the read scenario is skipped\n`);
    } else {
      process.stderr.write(`GET /v1/payments/:id: ${opts.duration}s, ${opts.connections} connections, over ${ids.length} payments\n`);
      const read = await readPayments(service.url, token, opts, ids);
      rows.push(toRow('GET /v1/payments/:id', opts, read));
      if (read.non2xx > 0) process.stderr.write(`  statuses: ${describeStatuses(read)}\n`);
    }

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    process.stdout.write(`\nNode ${process.version}, ${os.cpus().length} x ${cpu.trim()}, ${os.platform()} ${os.release()}\n\n`);
    printRows(rows);
    if (orders) {
      process.stdout.write(`\nOrder service stand-in: ${orders.lookups} lookups, ${orders.notifications} notifications\n`);
      process.stdout.write(`${await lookupLatency(service.url)}\n`);
    }
    process.stdout.write(`\nLoad average: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')} (the machine is shared: read the numbers with it)\n`);
    if (ids.length === 0 || rows.some((r) => r.non2xx > 0 || r.errors > 0)) process.exitCode = 1;
  } finally {
    if (service) {
      const stopping = Date.now();
      await service.stop();
      process.stderr.write(`Service stopped in ${((Date.now() - stopping) / 1000).toFixed(1)}s\n`);
    }
    await orders?.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
