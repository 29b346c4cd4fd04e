/**
 * Where the service's CPU time goes under load: runs it with `--cpu-prof` on a fresh PostgreSQL
 * database, drives one path with autocannon, stops it (the profile is written at exit) and sums the
 * profile's self time by package / source folder, plus the top functions.
 *   npx tsx bench/cpu-profile.ts [--path create|webhook] [--duration 10] [--connections 64] [--db postgres|embedded] [--keep]
 * `(idle)` is time the event loop waited (on PostgreSQL, on the pool, on nothing to do); `--keep`
 * leaves the .cpuprofile (open it in Chrome DevTools) and prints its path.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { signDevToken } from '../src/shared/auth/jwt-verifier';
import { freshDatabase } from './lib/fresh-database';
import { startService, type ServiceProcess } from './lib/service-process';
import { signStripe, succeededEvent } from './lib/stripe-event';
import { printTable } from './lib/table';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = `whsec_bench_${randomBytes(8).toString('hex')}`;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** The package (node_modules/<name>), the source folder (src/<a>/<b>), node's own modules, or V8's buckets. */
function category(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return `src/${url.slice(src + 5).split('/').slice(0, 2).join('/')}`.replace(/\.ts$/, '');
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url;
}

function summarise(profile: CpuProfile, marker: RegExp): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stack = (id: number): ProfileNode[] => {
    const out: ProfileNode[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) out.push(byId.get(cur)!);
    return out;
  };
  // Only the load window: from the first to the last sample inside the path's own code (start-up,
  // module loading and the drain at exit are left out; the idle time in between stays in).
  const inPath = profile.samples.map((id) => stack(id).some((n) => marker.test(n.callFrame.url)));
  const first = inPath.indexOf(true);
  const last = inPath.lastIndexOf(true);
  const self = new Map<number, number>();
  for (let i = Math.max(0, first); i <= last; i += 1) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? `${n.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const cat = category(node.callFrame);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
    const fn = label(node);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    // The first caller in our own code or a package, to see who asks for a native function.
    const from = stack(id).slice(1).find((n) => /node_modules|\/src\//.test(n.callFrame.url));
    const m = callers.get(fn) ?? new Map<string, number>();
    m.set(from ? label(from) : '-', (m.get(from ? label(from) : '-') ?? 0) + us);
    callers.set(fn, m);
  }
  const rows = (m: Map<string, number>, n: number, withCaller = false) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => {
        const row = [k, (us / 1000).toFixed(0), `${((100 * us) / total).toFixed(1)} %`];
        if (withCaller) {
          const top = [...(callers.get(k) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1])[0];
          row.push(top ? top[0] : '-');
        }
        return row;
      });
  const busy = total - (byCategory.get('(idle)') ?? 0);
  process.stdout.write(`\nLoad window: ${(total / 1e6).toFixed(1)} s of the service's main thread; busy (not idle) ${((100 * busy) / total).toFixed(1)} %.\n\n`);
  printTable(['self time by package / folder', 'ms', 'share'], rows(byCategory, 25));
  process.stdout.write('\n');
  printTable(['top functions (self time)', 'ms', 'share', 'mostly called from'], rows(byFunction, 25, true));
}

async function main(): Promise<void> {
  const which = option('path', 'create');
  if (which !== 'create' && which !== 'webhook') throw new Error('--path must be create or webhook');
  const duration = Number(option('duration', '10'));
  const connections = Number(option('connections', '64'));
  const keep = process.argv.includes('--keep');
  const profileDir = mkdtempSync(path.join(os.tmpdir(), 'payments-cpuprof-'));
  const embedded = option('db', 'postgres') === 'embedded';
  if (embedded && which === 'webhook') throw new Error('--db embedded profiles --path create only');
  // Embedded: the service's own PGlite (in a temp DATA_DIR), whose WASM engine runs on the same thread.
  const database = embedded ? null : await freshDatabase(process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL);
  const jwtSecret = randomBytes(32).toString('hex');
  const token = signDevToken(jwtSecret, { sub: `bench_${randomBytes(6).toString('hex')}`, role: 'customer' }, 3600);
  let service: ServiceProcess | undefined;
  try {
    service = await startService({
      databaseUrl: database?.url,
      jwtSecret,
      env: { STRIPE_WEBHOOK_SECRET: SECRET },
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
    });
    const create = (d: number) =>
      new Promise<autocannon.Result>((resolve, reject) =>
        autocannon(
          {
            url: service!.url,
            connections,
            duration: d,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            requests: [{ method: 'POST', path: '/v1/payments', body: JSON.stringify({ amount: 2000, currency: 'usd' }), setupRequest: (r) => ({ ...r, headers: { ...r.headers, 'idempotency-key': randomUUID() } }) }],
          },
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      );
    let result = await create(which === 'create' ? duration : 3);
    if (which === 'webhook') {
      const db = new Client({ connectionString: database!.url });
      await db.connect();
      const { rows } = await db.query<{ id: string; provider_payment_id: string }>(`SELECT id, provider_payment_id FROM payments WHERE provider_payment_id IS NOT NULL LIMIT 1000`);
      await db.end();
      let next = 0;
      result = await new Promise<autocannon.Result>((resolve, reject) =>
        autocannon(
          {
            url: service!.url,
            connections,
            duration,
            requests: [
              {
                method: 'POST',
                path: '/v1/webhooks/stripe',
                setupRequest: (r) => {
                  const p = rows[next++ % rows.length];
                  const body = succeededEvent({ id: p.id, providerPaymentId: p.provider_payment_id });
                  return { ...r, body, headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body, SECRET) } };
                },
              },
            ],
          },
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      );
    }
    process.stdout.write(
      `\n### CPU profile: ${which === 'create' ? 'POST /v1/payments' : 'POST /v1/webhooks/stripe'}, ${connections} connections, ${duration}s ` +
        `(${(result.requests.total / result.duration).toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; load ${os.loadavg().map((l) => l.toFixed(1)).join(', ')})\n`,
    );
    process.stdout.write(`\nservice output, last lines:\n${service.output().slice(-8).map((l) => `  ${l.slice(0, 300)}`).join('\n')}\n`);
  } finally {
    await service?.stop();
    await database?.drop();
  }
  // One profile per thread (tsx's loader thread too): the service's main thread is the biggest.
  const files = readdirSync(profileDir).map((f) => path.join(profileDir, f));
  const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!main) throw new Error('no profile was written');
  summarise(JSON.parse(readFileSync(main, 'utf8')) as CpuProfile, which === 'create' ? /src\/modules\/payments\// : /src\/modules\/webhooks\//);
  if (keep) process.stdout.write(`\nprofile: ${main}\n`);
  else rmSync(profileDir, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`cpu-profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
