/**
 * Counts the SQL round trips and transactions behind one request of each kind, from the service's own
 * Sequelize log (LOG_LEVEL=debug logs every statement it sends, transaction control included), on a
 * fresh PostgreSQL database with nothing else running:
 *   npx tsx bench/sql-profile.ts [--verbose]
 * Each request is sent alone and the log is read until it has been quiet for a second, so the work the
 * request sets off in the background (the mock's webhook event, the worker, the outbox dispatcher) is
 * counted too, under its own heading.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { signDevToken } from '../src/shared/auth/jwt-verifier';
import { freshDatabase } from './lib/fresh-database';
import { startService, type ServiceProcess } from './lib/service-process';
import { signStripe, succeededEvent } from './lib/stripe-event';
import { printTable } from './lib/table';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = `whsec_bench_${randomBytes(8).toString('hex')}`;
const QUIET_MS = 2_000;
/** The dispatcher is only woken by its timer; the webhook worker is poked by each ingest (its timer is parked). */
const OUTBOX_INTERVAL_MS = 1_500;
/** The claim alone, or (since it reads the events in the same statement) the claim in a CTE. */
const isOutboxClaim = (s: Statement) => /^(WITH c AS \( )?UPDATE outbox_deliveries SET attempts = attempts \+ 1/.test(s.sql);
/** What follows a claim that found work: the separate read of its events, or its delivered/failed mark. */
const isOutboxFollowUp = (s: Statement) => /FROM outbox_deliveries d JOIN outbox_events|^UPDATE outbox_deliveries SET state = /.test(s.sql);

interface Statement {
  tx: string;
  sql: string;
  at: number;
}

const statements: Statement[] = [];

/** `Executing (<transaction id>|default): <sql>`, as Sequelize hands it to the logger. */
function onLine(line: string): void {
  if (!line.startsWith('{')) return;
  let entry: { message?: string; sql?: string };
  try {
    entry = JSON.parse(line);
  } catch {
    return;
  }
  if (entry.message !== 'sql' || typeof entry.sql !== 'string') return;
  const match = /^Executing \(([^)]+)\): ([\s\S]*)$/.exec(entry.sql);
  statements.push({ tx: match?.[1] ?? '?', sql: (match?.[2] ?? entry.sql).replace(/\s+/g, ' ').trim(), at: Date.now() });
}

/** Who sent a statement: classified by the tables it touches, and by its transaction's other statements. */
function ownerOf(group: Statement[]): string {
  const text = group.map((s) => s.sql).join('\n');
  if (/UPDATE webhook_events SET state = 'processing'/.test(text) && group.length === 1) return 'webhook worker: claim';
  if (/UPDATE webhook_events SET state/.test(text)) return 'webhook worker: apply';
  if (/INSERT INTO webhook_events/.test(text)) return 'webhook ingest (INSERT into the inbox)';
  if (/outbox_deliveries/.test(text) && !/INSERT INTO outbox_deliveries/.test(text)) return 'outbox dispatcher';
  if (/idempotency_keys/.test(text) && !/(INTO|FROM|UPDATE) payments\b/.test(text)) return 'idempotency key';
  if (/currencies/.test(text)) return 'currency lookup';
  return 'payments use case';
}

const isControl = (sql: string) => /^(START TRANSACTION|BEGIN|SET TRANSACTION|SET SESSION|COMMIT|ROLLBACK)\b/i.test(sql);

async function quiet(): Promise<void> {
  await sleep(QUIET_MS);
  for (;;) {
    // The dispatcher's timer claims every OUTBOX_INTERVAL_MS even when idle: that is not activity.
    let last = 0;
    for (let i = statements.length - 1; i >= 0; i -= 1) {
      if (!isOutboxClaim(statements[i])) {
        last = statements[i].at;
        break;
      }
    }
    if (Date.now() - last >= QUIET_MS) return;
    await sleep(200);
  }
}

interface Profile {
  name: string;
  groups: Array<{ owner: string; tx: string; statements: Statement[] }>;
}

async function profile(name: string, send: () => Promise<Response>): Promise<{ profile: Profile; response: Response; body: string }> {
  await quiet();
  const from = statements.length;
  const response = await send();
  const body = await response.text();
  await quiet();
  // Empty dispatcher claims (timer passes that found nothing) are left out; a claim that found work is
  // followed by the read of its events or by its delivered mark before the next claim.
  const window = statements.slice(from);
  const taken = window.filter((s, i) => {
    if (!isOutboxClaim(s)) return true;
    const next = window.slice(i + 1).find((n) => isOutboxClaim(n) || isOutboxFollowUp(n));
    return next !== undefined && isOutboxFollowUp(next);
  });
  // Transactions are grouped by id; autocommit statements ("default") stand alone.
  const groups: Profile['groups'] = [];
  const byTx = new Map<string, Statement[]>();
  for (const s of taken) {
    if (s.tx === 'default') {
      groups.push({ owner: '', tx: 'autocommit', statements: [s] });
      continue;
    }
    let list = byTx.get(s.tx);
    if (!list) {
      list = [];
      byTx.set(s.tx, list);
      groups.push({ owner: '', tx: s.tx, statements: list });
    }
    list.push(s);
  }
  for (const g of groups) g.owner = ownerOf(g.statements);
  return { profile: { name, groups }, response, body };
}

function summarise(profiles: Profile[], verbose: boolean): void {
  const rows: string[][] = [];
  for (const p of profiles) {
    const owners = [...new Set(p.groups.map((g) => g.owner))];
    for (const owner of owners) {
      const groups = p.groups.filter((g) => g.owner === owner);
      const all = groups.flatMap((g) => g.statements);
      const txs = groups.filter((g) => g.tx !== 'autocommit');
      rows.push([
        p.name,
        owner,
        String(all.length),
        String(all.filter((s) => isControl(s.sql)).length),
        String(txs.length),
        String(groups.filter((g) => g.tx === 'autocommit').length),
      ]);
    }
    const all = p.groups.flatMap((g) => g.statements);
    rows.push([p.name, '**total**', String(all.length), String(all.filter((s) => isControl(s.sql)).length), String(p.groups.filter((g) => g.tx !== 'autocommit').length), String(p.groups.filter((g) => g.tx === 'autocommit').length)]);
  }
  printTable(['request', 'sent by', 'round trips (statements)', 'of which transaction control', 'transactions', 'autocommit statements'], rows);
  if (!verbose) return;
  for (const p of profiles) {
    process.stdout.write(`\n#### ${p.name}\n\n`);
    for (const g of p.groups) {
      process.stdout.write(`- ${g.owner} (${g.tx === 'autocommit' ? 'autocommit' : 'transaction'}):\n`);
      for (const s of g.statements) process.stdout.write(`    [${String(Buffer.byteLength(s.sql)).padStart(5)} B] ${s.sql.slice(0, 150)}\n`);
    }
  }
}

async function main(): Promise<void> {
  const verbose = process.argv.includes('--verbose');
  const database = await freshDatabase(process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL);
  const jwtSecret = randomBytes(32).toString('hex');
  const token = signDevToken(jwtSecret, { sub: `bench_${randomBytes(6).toString('hex')}`, role: 'customer' }, 3600);
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let service: ServiceProcess | undefined;
  try {
    service = await startService({
      databaseUrl: database.url,
      jwtSecret,
      env: {
        LOG_LEVEL: 'debug',
        STRIPE_WEBHOOK_SECRET: SECRET,
        WEBHOOK_WORKER_INTERVAL_MS: '3600000',
        OUTBOX_WORKER_INTERVAL_MS: String(OUTBOX_INTERVAL_MS),
      },
      onOutput: onLine,
    });
    const url = service.url;
    const create = (key?: string) =>
      fetch(`${url}/v1/payments`, {
        method: 'POST',
        headers: { ...auth, ...(key ? { 'idempotency-key': key } : {}) },
        body: JSON.stringify({ amount: 2000, currency: 'usd' }),
      });
    // Not reported: the first request of a process also fills caches (currencies, prepared code paths).
    await create(randomUUID());
    await create(randomUUID());

    const profiles: Profile[] = [];
    const key = randomUUID();
    const created = await profile('POST /v1/payments (new key)', () => create(key));
    if (created.response.status !== 201) throw new Error(`create answered ${created.response.status}: ${created.body}`);
    profiles.push(created.profile);
    const payment = JSON.parse(created.body) as { id: string; provider_payment_id: string };
    profiles.push((await profile('POST /v1/payments (replay of the same key)', () => create(key))).profile);

    const confirmed = await profile('POST /v1/payments/:id/confirm (new key)', () =>
      fetch(`${url}/v1/payments/${payment.id}/confirm`, {
        method: 'POST',
        headers: { ...auth, 'idempotency-key': randomUUID() },
        body: JSON.stringify({ payment_method: 'pm_card_visa' }),
      }),
    );
    if (confirmed.response.status >= 300) throw new Error(`confirm answered ${confirmed.response.status}: ${confirmed.body}`);
    profiles.push(confirmed.profile);

    const other = JSON.parse(await (await create(randomUUID())).text()) as { id: string; provider_payment_id: string };
    const event = succeededEvent({ id: other.id, providerPaymentId: other.provider_payment_id });
    const hooked = await profile('POST /v1/webhooks/stripe (payment_intent.succeeded, 3 KB)', () =>
      fetch(`${url}/v1/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(event, SECRET) }, body: event }),
    );
    if (hooked.response.status !== 200) throw new Error(`webhook answered ${hooked.response.status}: ${hooked.body}`);
    profiles.push(hooked.profile);
    profiles.push((await profile('GET /v1/payments/:id', () => fetch(`${url}/v1/payments/${payment.id}`, { headers: auth }))).profile);

    process.stdout.write(`\n### SQL round trips per request (Sequelize log, one request at a time, fresh database)\n\n`);
    summarise(profiles, verbose);
  } finally {
    await service?.stop();
    await database.drop();
  }
}

main().catch((err) => {
  process.stderr.write(`sql-profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
