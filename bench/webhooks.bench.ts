/**
 * Events per second POST /v1/webhooks/stripe accepts, with its latency, against a running service:
 * every request is a unique, correctly signed payment_intent.succeeded for a real payment, so each is
 * verified, stored and then applied by the worker while the load goes on. After the load, the time
 * the worker needs to apply the backlog is measured from /metrics.
 *   npx tsx bench/webhooks.bench.ts [--db postgres|embedded] [--duration 10] [--connections 10]
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { signDevToken } from '../src/shared/auth/jwt-verifier';
import { freshDatabase } from './lib/fresh-database';
import { startService, type ServiceProcess } from './lib/service-process';
import { printTable } from './lib/table';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = `whsec_bench_${randomBytes(8).toString('hex')}`;
const PAYMENTS = 50;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** Stripe's scheme: v1 = HMAC-SHA256(secret, `${t}.${body}`). */
function sign(body: string): string {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`;
}

function succeededEvent(payment: { id: string; provider_payment_id: string }): string {
  return JSON.stringify({
    id: `evt_${randomUUID().replace(/-/g, '')}`,
    object: 'event',
    api_version: '2025-09-30.clover',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'payment_intent.succeeded',
    data: {
      object: {
        id: payment.provider_payment_id,
        object: 'payment_intent',
        amount: 2000,
        amount_received: 2000,
        currency: 'usd',
        status: 'succeeded',
        client_secret: `${payment.provider_payment_id}_secret_x`,
        last_payment_error: null,
        next_action: null,
        payment_method: 'pm_card_visa',
        metadata: { payment_id: payment.id },
      },
    },
  });
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

async function main(): Promise<void> {
  const db = option('db', 'postgres');
  const duration = Number(option('duration', '10'));
  const connections = Number(option('connections', '10'));
  const database = db === 'postgres' ? await freshDatabase(process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL) : undefined;
  const databaseUrl = database?.url;
  const jwtSecret = randomBytes(32).toString('hex');
  const token = signDevToken(jwtSecret, { sub: `bench_${randomBytes(6).toString('hex')}`, role: 'customer' }, 3600);
  let service: ServiceProcess | undefined;
  try {
    service = await startService({ databaseUrl, jwtSecret, env: { STRIPE_WEBHOOK_SECRET: SECRET, WEBHOOK_WORKER_INTERVAL_MS: '200' } });
    const payments: Array<{ id: string; provider_payment_id: string }> = [];
    for (let i = 0; i < PAYMENTS; i += 1) {
      const res = await fetch(`${service.url}/v1/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 2000, currency: 'usd' }),
      });
      payments.push((await res.json()) as { id: string; provider_payment_id: string });
    }
    const storedBefore = await metric(service.url, 'webhook_events_received_total{type="payment_intent.succeeded",result="stored"}');

    process.stderr.write(`POST /v1/webhooks/stripe: ${duration}s, ${connections} connections, unique signed events (db: ${db})\n`);
    let next = 0;
    const result = await new Promise<autocannon.Result>((resolve, reject) =>
      autocannon(
        {
          url: service!.url,
          connections,
          duration,
          requests: [
            {
              method: 'POST',
              path: '/v1/webhooks/stripe',
              setupRequest: (req) => {
                const body = succeededEvent(payments[next++ % payments.length]);
                return { ...req, body, headers: { 'content-type': 'application/json', 'stripe-signature': sign(body) } };
              },
            },
          ],
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );

    const loadEnded = Date.now();
    const stored = (await metric(service.url, 'webhook_events_received_total{type="payment_intent.succeeded",result="stored"}')) - storedBefore;
    // Drained when nothing is waiting: no event pending, being processed or waiting for a retry.
    let waiting = Infinity;
    while (Date.now() - loadEnded < 120_000) {
      waiting = 0;
      for (const state of ['pending', 'processing', 'retrying']) waiting += await metric(service.url, `webhook_events_stored{state="${state}"}`);
      if (waiting === 0) break;
      await sleep(200);
    }
    const drainSeconds = (Date.now() - loadEnded) / 1000;
    const dead = await metric(service.url, 'webhook_events_stored{state="dead"}');

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    process.stdout.write(`\nNode ${process.version}, ${os.cpus().length} x ${cpu.trim()}\n\n`);
    printTable(
      ['scenario', 'db', 'connections', 'events', 'events/s avg', 'p50 ms', 'p99 ms', 'non-2xx', 'stored', 'dead', 'backlog drained after load (s)'],
      [
        [
          'POST /v1/webhooks/stripe',
          db,
          String(connections),
          String(result.requests.total),
          result.requests.average.toFixed(0),
          String(result.latency.p50),
          String(result.latency.p99),
          String(result.non2xx),
          String(stored),
          String(dead),
          drainSeconds.toFixed(1),
        ],
      ],
    );
    if (result.non2xx > 0 || result.errors > 0 || waiting > 0 || dead > 0) process.exitCode = 1;
  } finally {
    await service?.stop();
    await database?.drop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
