import http from 'node:http';

/** What one request of the load got: a full response, or the socket error that ended it. */
export interface LoadOutcome {
  client: number;
  key: string;
  status?: number;
  /** The response's `Connection` header. */
  connection?: string;
  paymentId?: string;
  /** `code` of the error (ECONNREFUSED, ECONNRESET...) or its message. */
  error?: string;
  /** True when the request went out on a kept-alive socket that had served an earlier request. */
  reusedSocket: boolean;
}

/**
 * Several clients, each with its own keep-alive agent (one socket), creating payments in a loop with
 * an Idempotency-Key per request, until a request fails (the server is gone) or `stop()` is called.
 */
export class KeepAliveLoad {
  readonly outcomes: LoadOutcome[] = [];
  private stopped = false;
  private readonly agents: http.Agent[] = [];
  private readonly running: Promise<void>[] = [];

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly keyPrefix: string,
  ) {}

  start(clients: number): this {
    for (let i = 0; i < clients; i += 1) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      this.agents.push(agent);
      this.running.push(this.loop(i, agent));
    }
    return this;
  }

  /** Resolves once every client has had `count` answers (so each is on a reused keep-alive socket). */
  async answeredAtLeast(count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const perClient = this.agents.map((_, i) => this.outcomes.filter((o) => o.client === i && o.status !== undefined).length);
      if (perClient.every((n) => n >= count)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the load clients did not get ${count} answers each in time`);
  }

  /** Resolves when every client has ended (a request failed or `stop()` was called). */
  async finished(): Promise<void> {
    await Promise.all(this.running);
    for (const agent of this.agents) agent.destroy();
  }

  stop(): void {
    this.stopped = true;
  }

  private async loop(client: number, agent: http.Agent): Promise<void> {
    for (let n = 0; !this.stopped; n += 1) {
      const outcome = await this.createPayment(client, agent, `${this.keyPrefix}-${client}-${n}`);
      this.outcomes.push(outcome);
      if (outcome.error) return;
    }
  }

  private createPayment(client: number, agent: http.Agent, key: string): Promise<LoadOutcome> {
    const body = JSON.stringify({ amount: 1000 + client, currency: 'usd' });
    return new Promise((resolve) => {
      const req = http.request(
        `${this.url}/v1/payments`,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${this.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'idempotency-key': key,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('error', (err: NodeJS.ErrnoException) => resolve({ client, key, error: err.code ?? err.message, reusedSocket: req.reusedSocket }));
          res.on('end', () => {
            let paymentId: string | undefined;
            try {
              paymentId = (JSON.parse(text) as { id?: string }).id;
            } catch {
              paymentId = undefined;
            }
            resolve({ client, key, status: res.statusCode, connection: res.headers.connection, paymentId, reusedSocket: req.reusedSocket });
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ client, key, error: err.code ?? err.message, reusedSocket: req.reusedSocket }));
      req.end(body);
    });
  }
}
