import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createApp } from '../../../src/app';
import { buildContainer } from '../../../src/container';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import { connectRedis } from '../../../src/shared/redis';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows, testDatabase } from '../../helpers/database';
import { testConfig, type TestApp } from '../../helpers/test-app';

const SECRET = 'event-signing-secret-for-target-tests';

/** One event as a receiver saw it. */
interface Seen {
  id: string;
  type: string;
  paymentId: string;
}

/**
 * A local event webhook receiver. `hang` holds every request unanswered (a receiver that times out);
 * `release()` answers them and accepts from then on. `delayMs` answers after a random pause up to it.
 */
class Receiver {
  readonly seen: Seen[] = [];
  private readonly held: ServerResponse[] = [];
  private server?: Server;
  url = '';

  constructor(
    private mode: 'accept' | 'hang',
    private readonly delayMs = 0,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
    return this;
  }

  release(): void {
    this.mode = 'accept';
    for (const res of this.held.splice(0)) res.writeHead(204).end();
  }

  /** Events of one payment in the order they arrived. */
  typesFor(paymentId: string): string[] {
    return this.seen.filter((s) => s.paymentId === paymentId).map((s) => s.type);
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString()) as { id: string; type: string; data: { payment: { id: string } } };
      this.seen.push({ id: event.id, type: event.type, paymentId: event.data.payment.id });
      if (this.mode === 'hang') return void this.held.push(res);
      setTimeout(() => res.writeHead(204).end(), Math.floor(Math.random() * this.delayMs));
    });
  }
}

/** Polls until `probe` is true; fails the test naming `what` after a generous bound (never a timing assertion). */
async function until(probe: () => boolean | Promise<boolean>, what: string, boundMs = 90_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const outboxTypes = async (paymentId: string) =>
  (await rows<{ type: string }>('SELECT type FROM outbox_events WHERE aggregate_id = :paymentId ORDER BY sequence', { paymentId })).map((r) => r.type);

describe('event delivery: each target on its own', function () {
  this.timeout(180_000);
  const redisUrl = process.env.REDIS_URL;
  const clients: Redis[] = [];
  const receivers: Receiver[] = [];

  /** The app with these event settings; on the shared Redis when REDIS_URL is set (else the in-process stream). */
  function appWith(env: Record<string, string>): TestApp {
    const config = testConfig({ EVENT_WEBHOOK_SECRET: SECRET, OUTBOX_WORKER_INTERVAL_MS: '20', ...env });
    const redis = redisUrl ? connectRedis(redisUrl) : undefined;
    if (redis) clients.push(redis);
    const container = buildContainer({ config, sequelize: testDatabase(), provider: new MockProvider({ latencyMs: 0, successRate: 1 }), redis });
    return { app: createApp(container), container, config };
  }

  async function receiver(mode: 'accept' | 'hang', delayMs = 0): Promise<Receiver> {
    const r = await new Receiver(mode, delayMs).start();
    receivers.push(r);
    return r;
  }

  /** Stream entries of these payments, in stream order: the Redis stream, or the in-process stand-in. */
  async function streamFor(t: TestApp, paymentIds: string[]): Promise<Seen[]> {
    if (!redisUrl) {
      return t.container.events.inMemoryStream!.entries
        .filter((e) => paymentIds.includes(e.aggregateId))
        .map((e) => ({ id: e.id, type: e.type, paymentId: e.aggregateId }));
    }
    const reader = new Redis(redisUrl);
    try {
      const entries = await reader.xrange('payments:events', '-', '+');
      const field = (fields: string[], name: string) => fields[fields.indexOf(name) + 1];
      return entries
        .map(([, f]) => ({ id: field(f, 'event_id'), type: field(f, 'type'), paymentId: field(f, 'payment_id') }))
        .filter((s) => paymentIds.includes(s.paymentId));
    } finally {
      reader.disconnect();
    }
  }

  async function paidPayments(t: TestApp, count: number): Promise<string[]> {
    const token = tokenFor(newUserId());
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const res = await request(t.app).post('/v1/payments').set(bearer(token)).send({ amount: 3000, currency: 'usd', payment_method: 'pm_card_visa' });
      expect(res.status, res.text).to.equal(201);
      ids.push(res.body.id);
    }
    return ids;
  }

  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.stop();
    for (const c of clients.splice(0)) c.disconnect();
  });

  it('when one event webhook hangs, then the stream and a healthy webhook get every event, in order per payment, while the hung one still waits on its first event per payment', async () => {
    const hung = await receiver('hang');
    const healthy = await receiver('accept');
    // The hung receiver never times out during the test: without per-target delivery nothing else would move.
    const t = appWith({ EVENT_WEBHOOK_URLS: `${hung.url},${healthy.url}`, EVENT_DELIVERY_TIMEOUT_MS: '60000' });
    const payments = await paidPayments(t, 4);
    t.container.events.dispatcher.start();
    try {
      await until(() => payments.every((id) => healthy.typesFor(id).length === 2), 'the healthy webhook to get every event');
      await until(async () => (await streamFor(t, payments)).length === 8, 'the stream to get every event');

      for (const id of payments) {
        expect(healthy.typesFor(id), id).to.deep.equal(['payment.created', 'payment.succeeded']);
        expect((await streamFor(t, [id])).map((s) => s.type), id).to.deep.equal(['payment.created', 'payment.succeeded']);
      }
      // The hung target holds each payment's first event; its second waits behind it (order per target).
      await until(() => payments.every((id) => hung.typesFor(id).length === 1), 'the hung webhook to be asked for each first event');
      for (const id of payments) expect(hung.typesFor(id), id).to.deep.equal(['payment.created']);
      const hungRows = await rows<{ state: string }>(
        `SELECT state FROM outbox_deliveries WHERE target = :target AND aggregate_id IN (:payments)`,
        { target: `webhook:${hung.url}`, payments },
      );
      expect(hungRows).to.have.length(8);
      expect(hungRows.every((r) => r.state === 'pending')).to.equal(true);

      // Once it answers, it catches up, still in order per payment.
      hung.release();
      await until(() => payments.every((id) => hung.typesFor(id).length === 2), 'the released webhook to catch up');
      for (const id of payments) expect(hung.typesFor(id), id).to.deep.equal(['payment.created', 'payment.succeeded']);
    } finally {
      hung.release();
      await t.container.events.dispatcher.stop();
    }
  });

  it('when two dispatchers (two replicas) deliver at once, then each target gets every payment’s events in the order they were written', async () => {
    const hook = await receiver('accept', 15);
    const env = { EVENT_WEBHOOK_URLS: hook.url, OUTBOX_TARGET_CONCURRENCY: '4' };
    const one = appWith(env);
    const two = appWith(env);
    const payments = await paidPayments(one, 6);
    const admin = tokenFor('admin_target_tests', 'admin');
    for (const id of payments) {
      for (const amount of [1000, 2000]) {
        const res = await request(one.app).post(`/v1/payments/${id}/refunds`).set(bearer(admin)).send({ amount });
        expect(res.status, res.text).to.equal(201);
      }
    }

    await Promise.all([one.container.events.dispatcher.drain(), two.container.events.dispatcher.drain(), one.container.events.dispatcher.drain()]);

    for (const id of payments) {
      const written = await outboxTypes(id);
      expect(written, id).to.deep.equal(['payment.created', 'payment.succeeded', 'payment.partially_refunded', 'payment.refunded']);
      expect(hook.typesFor(id), id).to.deep.equal(written);
    }
    if (redisUrl) {
      for (const id of payments) expect((await streamFor(one, [id])).map((s) => s.type), id).to.deep.equal(await outboxTypes(id));
    }
    const undelivered = await rows(`SELECT id FROM outbox_deliveries WHERE aggregate_id IN (:payments) AND state <> 'delivered'`, { payments });
    expect(undelivered).to.deep.equal([]);
  });
});
