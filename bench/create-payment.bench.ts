/**
 * Throughput and latency of the payments API, end to end over HTTP, against a real running service.
 *   npx tsx bench/create-payment.bench.ts [--db embedded|postgres] [--duration 10] [--connections 10] [--warmup 2]
 * See bench/README.md for what is measured and how to read it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import autocannon from 'autocannon';
import { signDevToken } from '../src/shared/auth/jwt-verifier';
import { startService, type ServiceProcess } from './lib/service-process';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const CREATE_BODY = JSON.stringify({ amount: 2000, currency: 'usd' });
const READ_SET_SIZE = 200;

interface Options {
  db: 'embedded' | 'postgres';
  duration: number;
  connections: number;
  warmup: number;
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
  const positive = (name: string, fallback: number, min = 1): number => {
    const raw = value(name);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min} (got ${raw})`);
    return n;
  };
  const db = value('db') ?? (process.env.DATABASE_URL ? 'postgres' : 'embedded');
  if (db !== 'embedded' && db !== 'postgres') throw new Error(`--db must be embedded or postgres (got ${db})`);
  return { db, duration: positive('duration', 10), connections: positive('connections', 10), warmup: positive('warmup', 2, 0) };
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

/** Every request carries a fresh Idempotency-Key, so each one creates a payment (no replays). */
function createPayments(url: string, token: string, opts: Options, duration: number): Promise<autocannon.Result> {
  return run({
    url,
    connections: opts.connections,
    duration,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests: [
      {
        method: 'POST',
        path: '/v1/payments',
        body: CREATE_BODY,
        setupRequest: (req) => {
          req.headers = { ...req.headers, 'idempotency-key': randomUUID() };
          return req;
        },
      },
    ],
  });
}

async function seedPayments(url: string, token: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const res = await fetch(`${url}/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: CREATE_BODY,
    });
    if (res.status !== 201) throw new Error(`seeding a payment answered ${res.status}: ${await res.text()}`);
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

/** GET /v1/payments/:id round-robin over payments the same user owns. */
function readPayments(url: string, token: string, opts: Options, ids: string[]): Promise<autocannon.Result> {
  let next = 0;
  return run({
    url,
    connections: opts.connections,
    duration: opts.duration,
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

function printTable(rows: Row[]): void {
  const header = ['scenario', 'db', 'connections', 'requests', 'req/s avg', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'];
  const cells = rows.map((r) => [
    r.scenario,
    r.db,
    String(r.connections),
    String(r.requests),
    r.rps.toFixed(0),
    String(r.p50),
    String(r.p99),
    String(r.non2xx),
    String(r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`${[line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n')}\n`);
}

function describeStatuses(result: autocannon.Result): string {
  const stats = result.statusCodeStats ?? {};
  return Object.entries(stats)
    .map(([status, s]) => `${status}: ${s.count ?? 0}`)
    .join(', ');
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const databaseUrl = opts.db === 'postgres' ? (process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL) : undefined;
  const jwtSecret = randomBytes(32).toString('hex');
  const token = signDevToken(jwtSecret, { sub: `bench_${randomBytes(6).toString('hex')}`, role: 'customer' }, 3600);

  process.stderr.write(
    `Starting the service (db: ${opts.db}${databaseUrl ? ` ${databaseUrl.replace(/\/\/[^@]*@/, '//***@')}` : ', fresh temp DATA_DIR'}, mock provider)...\n`,
  );
  let service: ServiceProcess | undefined;
  try {
    service = await startService({ databaseUrl, jwtSecret });
    const rows: Row[] = [];

    if (opts.warmup > 0) {
      process.stderr.write(`Warm-up: ${opts.warmup}s of POST /v1/payments (not reported)\n`);
      await createPayments(service.url, token, opts, opts.warmup);
    }

    process.stderr.write(`POST /v1/payments: ${opts.duration}s, ${opts.connections} connections, a new Idempotency-Key per request\n`);
    const created = await createPayments(service.url, token, opts, opts.duration);
    rows.push(toRow('POST /v1/payments', opts, created));
    if (created.non2xx > 0) process.stderr.write(`  statuses: ${describeStatuses(created)}\n`);

    const ids = await seedPayments(service.url, token, READ_SET_SIZE);
    process.stderr.write(`GET /v1/payments/:id: ${opts.duration}s, ${opts.connections} connections, over ${ids.length} payments\n`);
    const read = await readPayments(service.url, token, opts, ids);
    rows.push(toRow('GET /v1/payments/:id', opts, read));
    if (read.non2xx > 0) process.stderr.write(`  statuses: ${describeStatuses(read)}\n`);

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    process.stdout.write(`\nNode ${process.version}, ${os.cpus().length} x ${cpu.trim()}, ${os.platform()} ${os.release()}\n\n`);
    printTable(rows);
    if (rows.some((r) => r.non2xx > 0 || r.errors > 0)) process.exitCode = 1;
  } finally {
    await service?.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
