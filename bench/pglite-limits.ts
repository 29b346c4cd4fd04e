/**
 * What the embedded database (PGlite through pglite-socket, as src/shared/db/embedded-postgres.ts runs
 * it) can do at all, with no service around it: one small "create" (INSERT a payment + INSERT its key)
 * done in several shapes, sequentially and with 10 and 100 callers at once.
 *   npx tsx bench/pglite-limits.ts [--count 600] [--memory]
 * --memory keeps the database in memory (the test suite's mode) instead of a temp DATA_DIR (the service's).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Pool } from 'pg';
import { printTable } from './lib/table';

const SCHEMA = `
  CREATE TABLE pay (id text PRIMARY KEY, user_id text NOT NULL, amount bigint NOT NULL, status text NOT NULL,
                    provider_id text, body text, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
  CREATE INDEX pay_user_idx ON pay (user_id, created_at DESC, id DESC);
  CREATE TABLE idem (id bigserial PRIMARY KEY, user_id text NOT NULL, key text NOT NULL, payment_id text, response text,
                     created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (user_id, key));
  CREATE TABLE hist (id bigserial PRIMARY KEY, payment_id text NOT NULL, to_status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE outbox (id text PRIMARY KEY, aggregate_id text NOT NULL, payload jsonb NOT NULL);
`;

let seq = 0;
const nextId = () => `p${process.pid}_${(seq += 1)}`;
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The two INSERTs a create cannot do without, as one multi-statement string (values inlined, as Sequelize does). */
function createSql(id: string): string[] {
  return [
    `INSERT INTO pay (id, user_id, amount, status) VALUES (${lit(id)}, 'u1', 2000, 'pending')`,
    `INSERT INTO idem (user_id, key, payment_id) VALUES ('u1', ${lit(`k_${id}`)}, ${lit(id)})`,
  ];
}

/** Today's service create, statement for statement (bench/sql-profile.ts): 4 commits, 19 round trips. */
function serviceShapedCreate(id: string): string[][] {
  const key = lit(`k_${id}`);
  const p = lit(id);
  const begin = ['START TRANSACTION', 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED'];
  return [
    [...begin, `INSERT INTO idem (user_id, key) VALUES ('u1', ${key}) ON CONFLICT DO NOTHING RETURNING id`, 'COMMIT'],
    [
      ...begin,
      `INSERT INTO pay (id, user_id, amount, status) VALUES (${p}, 'u1', 2000, 'pending') RETURNING *`,
      `INSERT INTO hist (payment_id, to_status) VALUES (${p}, 'pending')`,
      `UPDATE idem SET payment_id = ${p} WHERE user_id = 'u1' AND key = ${key}`,
      'COMMIT',
    ],
    [
      ...begin,
      `SELECT * FROM pay WHERE id = ${p} FOR UPDATE`,
      `UPDATE pay SET provider_id = 'pi_x', updated_at = now() WHERE id = ${p} RETURNING *`,
      `INSERT INTO outbox (id, aggregate_id, payload) VALUES (${lit(`e_${id}`)}, ${p}, '{"type":"payment.created"}')`,
      `INSERT INTO hist (payment_id, to_status) VALUES (${p}, 'pending')`,
      `UPDATE pay SET status = 'pending', body = 'x', updated_at = now() WHERE id = ${p} RETURNING *`,
      'COMMIT',
    ],
    [`UPDATE idem SET response = '{"id":${p.replace(/'/g, '"')}}' WHERE user_id = 'u1' AND key = ${key}`],
  ];
}

interface Result {
  shape: string;
  transport: string;
  callers: number;
  count: number;
  seconds: number;
  latencies: number[];
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

/** `count` creates by `callers` concurrent callers of `one`; latency is from the call to its end (queueing included). */
async function drive(shape: string, transport: string, callers: number, count: number, one: () => Promise<void>): Promise<Result> {
  let started = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (started < count) {
        started += 1;
        const t = performance.now();
        await one();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { shape, transport, callers, count, seconds: (performance.now() - t0) / 1000, latencies };
}

/**
 * Callers hand their create to a batcher that sends everything waiting as ONE transaction in ONE
 * round trip (multi-row INSERTs), then starts over: group commit done by the application.
 */
function groupCommitter(run: (sql: string) => Promise<unknown>): () => Promise<void> {
  let waiting: Array<{ id: string; done: () => void; fail: (e: unknown) => void }> = [];
  let busy = false;
  const flush = async () => {
    if (busy || waiting.length === 0) return;
    busy = true;
    const batch = waiting;
    waiting = [];
    const pays = batch.map((b) => `(${lit(b.id)}, 'u1', 2000, 'pending')`).join(', ');
    const keys = batch.map((b) => `('u1', ${lit(`k_${b.id}`)}, ${lit(b.id)})`).join(', ');
    try {
      await run(`BEGIN; INSERT INTO pay (id, user_id, amount, status) VALUES ${pays}; INSERT INTO idem (user_id, key, payment_id) VALUES ${keys}; COMMIT;`);
      for (const b of batch) b.done();
    } catch (err) {
      for (const b of batch) b.fail(err);
    } finally {
      busy = false;
      void flush();
    }
  };
  return () =>
    new Promise<void>((done, fail) => {
      waiting.push({ id: nextId(), done, fail });
      void flush();
    });
}

async function main(): Promise<void> {
  const countArg = process.argv.indexOf('--count');
  const count = countArg >= 0 ? Number(process.argv[countArg + 1]) : 600;
  const memory = process.argv.includes('--memory');
  const dataDir = memory ? undefined : mkdtempSync(path.join(os.tmpdir(), 'pglite-limits-'));
  const db = await PGlite.create(dataDir);
  await db.exec(SCHEMA);
  const results: Result[] = [];
  const log = (r: Result) => {
    results.push(r);
    process.stderr.write(`  ${r.shape} | ${r.transport} | ${r.callers} callers: ${(r.count / r.seconds).toFixed(0)}/s, p99 ${pct(r.latencies, 99).toFixed(0)} ms\n`);
  };
  try {
    // Not measured: JIT and the WASM heap warm up first.
    for (let i = 0; i < 100; i += 1) await db.exec(`BEGIN; ${createSql(nextId()).join('; ')}; COMMIT;`);
    // 1. In process, no socket: the engine's own ceiling.
    log(await drive('1 INSERT, autocommit', 'PGlite in process', 1, count, async () => void (await db.query(createSql(nextId())[0]))));
    log(await drive('2 INSERTs in a transaction (4 calls)', 'PGlite in process', 1, count, async () => {
      const [a, b] = createSql(nextId());
      await db.transaction(async (tx) => {
        await tx.query(a);
        await tx.query(b);
      });
    }));
    log(await drive('2 INSERTs in a transaction (1 exec)', 'PGlite in process', 1, count, async () => void (await db.exec(`BEGIN; ${createSql(nextId()).join('; ')}; COMMIT;`))));

    // 2. Through the socket, as the service reaches it.
    for (const maxConnections of [1, 10]) {
      const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections });
      await server.start();
      const { port } = (server as unknown as { server: { address(): { port: number } } }).server.address();
      const pool = new Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, max: maxConnections });
      const transport = `pglite-socket, pg pool of ${maxConnections}`;
      try {
        const fourTrips = async () => {
          const c = await pool.connect();
          try {
            const [a, b] = createSql(nextId());
            await c.query('BEGIN');
            await c.query(a);
            await c.query(b);
            await c.query('COMMIT');
          } finally {
            c.release();
          }
        };
        const oneTrip = async () => void (await pool.query(`BEGIN; ${createSql(nextId()).join('; ')}; COMMIT;`));
        const serviceShaped = async () => {
          const c = await pool.connect();
          try {
            for (const tx of serviceShapedCreate(nextId())) for (const sql of tx) await c.query(sql);
          } finally {
            c.release();
          }
        };
        const grouped = groupCommitter((sql) => pool.query(sql));
        for (const callers of [1, 10, 100]) {
          if (maxConnections === 1 || callers > 1) {
            log(await drive('service-shaped create: 4 commits, 19 round trips', transport, callers, Math.ceil(count / 3), serviceShaped));
            log(await drive('2 INSERTs in a transaction, 4 round trips', transport, callers, count, fourTrips));
            log(await drive('2 INSERTs in a transaction, 1 round trip (multi-statement)', transport, callers, count, oneTrip));
          }
          if (callers > 1 && maxConnections === 1) log(await drive('group commit: all waiting creates in 1 transaction, 1 round trip', transport, callers, count, grouped));
        }
      } finally {
        await pool.end();
        await server.stop();
      }
    }
  } finally {
    await db.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(`\n### PGlite limits (${memory ? 'in memory' : 'file-backed temp DATA_DIR, as the service'}; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(', ')})\n\n`);
  printTable(
    ['shape', 'transport', 'callers', 'creates', 'creates/s', 'p50 ms', 'p99 ms'],
    results.map((r) => [r.shape, r.transport, String(r.callers), String(r.count), (r.count / r.seconds).toFixed(0), pct(r.latencies, 50).toFixed(1), pct(r.latencies, 99).toFixed(1)]),
  );
}

main().catch((err) => {
  process.stderr.write(`pglite-limits failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
