import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../../bench/lib/service-process';

/**
 * A redis-server of the test's own on a free loopback port, to kill, pause and restart without
 * touching the machine's shared Redis. Nothing is persisted.
 */
export class OwnRedisServer {
  private child?: ChildProcess;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and resolves once it answers PING. */
  async restart(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    this.child = child;
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      for (let i = 0; i < 200; i += 1) {
        if (child.exitCode !== null) throw new Error('redis-server exited at start-up');
        const pong = await probe.connect().then(() => probe.ping(), () => undefined);
        if (pong === 'PONG') return;
        probe.disconnect();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('redis-server did not answer');
    } finally {
      probe.disconnect();
    }
  }

  /** SIGKILL: connections drop, the port refuses. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP: connections stay open and the port accepts, but nothing answers (a stalled server). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.resume();
    await this.kill();
  }
}
