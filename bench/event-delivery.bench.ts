/**
 * Event delivery lag per target while one event webhook hangs (never answers; each try times out
 * after EVENT_DELIVERY_TIMEOUT_MS, 5 s by default): the service in process on a fresh PostgreSQL
 * database, the mock provider, a healthy webhook receiver, the hung one and the in-process stream.
 * Lag = the delivery's `delivered_at` - the event's `created_at`, per target, once both healthy targets
 * have every event (the hung one by then has none).
 *   LOG_SILENT=true npx tsx bench/event-delivery.bench.ts [--payments 200] [--db postgres://postgres@127.0.0.1:5432/test]
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildContainer } from '../src/container';
import { MockProvider } from '../src/providers/mock/mock-provider';
import { loadConfig } from '../src/shared/config';
import { createSequelize } from '../src/shared/db/database';
import { migrate } from '../src/shared/db/migrator';
import { signDevToken } from '../src/shared/auth/jwt-verifier';
import { createApp } from '../src/app';
import { freshDatabase } from './lib/fresh-database';
import { printTable } from './lib/table';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** A receiver recording each event's lag; `hang` never answers. */
async function receiver(hang: boolean): Promise<{ url: string; lags: number[]; server: Server }> {
  const lags: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString()) as { created_at: string };
      if (hang) return; // held until the client's timeout
      lags.push(Date.now() - Date.parse(event.created_at));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, lags, server };
}

const pct = (values: number[], p: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function main(): Promise<void> {
  const payments = Number(option('payments', '200'));
  const db = await freshDatabase(option('db', process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'));
  const sequelize = createSequelize(db.url, { poolMax: 10 });
  const hung = await receiver(true);
  const healthy = await receiver(false);
  try {
    await migrate(sequelize, { lock: false });
    const config = loadConfig({ ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'error', JOBS_ENABLED: 'false', RATE_LIMIT_PER_MINUTE: '0', EVENT_WEBHOOK_URLS: `${hung.url},${healthy.url}` });
    const container = buildContainer({ config, sequelize, provider: new MockProvider({ latencyMs: 0, successRate: 1 }) });
    const server = createApp(container).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const token = signDevToken(config.jwt.secret!, { sub: 'usr_bench_delivery', role: 'customer' });

    container.events.dispatcher.start();
    const started = Date.now();
    for (let i = 0; i < payments; i += 1) {
      await fetch(`${base}/v1/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa' }),
      });
    }
    const events = payments * 2;
    const delivered = async (target: string) =>
      (await sequelize.query(`SELECT count(*)::int AS n FROM outbox_deliveries WHERE target = :target AND state = 'delivered'`, {
        replacements: { target },
        plain: true,
      })) as unknown as { n: number };
    while (
      ((await delivered('stream')).n < events || (await delivered(`webhook:${healthy.url}`)).n < events) &&
      Date.now() - started < 600_000
    ) {
      await sleep(100);
    }
    const waited = Date.now() - started;
    const lag = (await sequelize.query(
      `SELECT d.target, count(*) FILTER (WHERE d.state = 'delivered')::int AS delivered,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM d.delivered_at - e.created_at) * 1000) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM d.delivered_at - e.created_at) * 1000) AS p99,
              max(EXTRACT(EPOCH FROM d.delivered_at - e.created_at) * 1000) AS max
         FROM outbox_deliveries d JOIN outbox_events e ON e.id = d.event_id GROUP BY d.target ORDER BY d.target`,
      { type: 'SELECT' as never },
    )) as unknown as Array<{ target: string; delivered: number; p50: number | null; p99: number | null; max: number | null }>;
    const name = (t: string) => (t === `webhook:${hung.url}` ? 'hung webhook' : t === `webhook:${healthy.url}` ? 'healthy webhook' : t);
    const ms = (v: number | null) => (v === null ? '-' : String(Math.round(Number(v))));
    printTable(
      ['target', 'delivered', 'lag p50 ms', 'lag p99 ms', 'lag max ms'],
      lag.map((r) => [name(r.target), `${r.delivered}/${events}`, ms(r.p50), ms(r.p99), ms(r.max)]),
    );
    console.log(`${payments} payments (${events} events per target); both healthy targets had every event after ${waited} ms`);
    server.close();
    await container.events.dispatcher.stop().catch(() => undefined);
  } finally {
    hung.server.closeAllConnections();
    hung.server.close();
    healthy.server.close();
    await sequelize.close();
    await db.drop();
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
