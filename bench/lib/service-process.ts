import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = path.resolve(__dirname, '../..');

/** A running copy of the service, started exactly as `npm start` starts it. */
export interface ServiceProcess {
  url: string;
  /** The node process running the service (for /proc/<pid>/status). */
  pid: number;
  /**
   * SIGTERM (graceful drain), then SIGKILL if it has not exited in time; removes the temp DATA_DIR.
   * Resolves with the exit code (null when killed). Idempotent.
   */
  stop(): Promise<number | null>;
  /** The last lines the service printed (stdout and stderr). */
  output(): string[];
}

export interface ServiceOptions {
  /** Unset: the embedded PGlite database in a fresh temporary DATA_DIR. */
  databaseUrl?: string;
  jwtSecret: string;
  /** Extra environment for the service (wins over the defaults below). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Every line the service prints (stdout and stderr), as it comes. */
  onOutput?: (line: string) => void;
  /** Extra node flags (e.g. `--cpu-prof`), placed before the entry script. */
  nodeArgs?: string[];
}

const OUTPUT_LINES_KEPT = 60;
// Only what node itself needs: the service's variables come from `options`, never from the caller's shell.
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'TEMP', 'TMP', 'LANG', 'TZ', 'SYSTEMROOT'];

/** The few variables of this process's environment a child needs to run node at all. */
export function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  return env;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts `node --import tsx src/main.ts` on a free loopback port and resolves once GET /ready answers 200.
 * The child is registered for killing on every way out of this process (see `killOnExit`).
 */
export async function startService(options: ServiceOptions): Promise<ServiceProcess> {
  const port = await freePort();
  const dataDir = options.databaseUrl ? undefined : mkdtempSync(path.join(os.tmpdir(), 'payments-bench-'));
  const env = inheritedEnv();
  Object.assign(env, {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    JOBS_ENABLED: 'false',
    PAYMENT_PROVIDER: 'mock',
    JWT_SECRET: options.jwtSecret,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : { DATA_DIR: dataDir! }),
    ...options.env,
  });

  return startNodeProcess({ entry: 'src/main.ts', env, dataDir, readyTimeoutMs: options.readyTimeoutMs, onOutput: options.onOutput, nodeArgs: options.nodeArgs });
}

/**
 * Starts `node --import tsx <entry>` (relative to the repository root) with exactly `env`, and resolves
 * once `GET <url>/ready` answers 200 (`env.PORT` must be set). Used for the service and for the
 * reference server of `compare.bench.ts`. `dataDir` is removed when the process is stopped.
 */
export async function startNodeProcess(options: {
  entry: string;
  env: Record<string, string>;
  dataDir?: string;
  readyTimeoutMs?: number;
  onOutput?: (line: string) => void;
  nodeArgs?: string[];
}): Promise<ServiceProcess> {
  const { env, dataDir } = options;
  const port = Number(env.PORT);
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--require', path.join(__dirname, 'exit-with-parent.cjs'), '--import', 'tsx', options.entry],
    { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const untrack = cleanUpOnExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - OUTPUT_LINES_KEPT));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // Whole lines (a chunk may end mid-line), for callers that parse the service's log.
  if (options.onOutput) for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', options.onOutput);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));

  let stopped = false;
  const service: ServiceProcess = {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    output: () => [...output],
    async stop() {
      if (stopped) return exited;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const done = await Promise.race([exited.then(() => true), sleep(20_000, undefined, { ref: false }).then(() => false)]);
        if (!done) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      untrack();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      return exited;
    },
  };

  try {
    await waitForReady(service.url, exited, options.readyTimeoutMs ?? 240_000);
  } catch (err) {
    await service.stop();
    throw new Error(`${(err as Error).message}\n--- service output (last lines) ---\n${output.join('\n')}`);
  }
  return service;
}

async function waitForReady(url: string, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`the service exited with code ${exitCode} before it was ready`);
    const status = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(250);
  }
  throw new Error(`the service was not ready within ${timeoutMs} ms`);
}

const cleanups = new Set<() => void>();
let hooksInstalled = false;

/**
 * Last-resort cleanup: on any exit (normal, uncaught error, Ctrl-C, SIGTERM) a child still running is
 * SIGKILLed and its temp DATA_DIR removed. If this process is itself SIGKILLed, exit-with-parent.cjs
 * makes the child stop itself.
 */
function cleanUpOnExit(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  if (!hooksInstalled) {
    hooksInstalled = true;
    process.on('exit', () => {
      for (const c of cleanups) c();
    });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        process.stderr.write(`\n${signal}: stopping the service\n`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      });
    }
  }
  return () => cleanups.delete(cleanup);
}
