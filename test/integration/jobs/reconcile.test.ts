import { expect } from 'chai';
import request from 'supertest';
import { reconcile } from '../../../src/jobs/reconcile-payments.job';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { deliver, paymentIntentEvent } from '../../helpers/stripe-events';
import { buildTestApp, withFakeStripe, type TestApp } from '../../helpers/test-app';

describe('reconcile job: backoff, refunds, expired leases, provider rate', function () {
  this.timeout(120_000);
  let stripe: FakeStripe;

  before(async () => {
    stripe = await withFakeStripe();
  });
  after(() => stripe.stop());
  beforeEach(() => stripe.reset());

  const app = (env: Record<string, string> = {}) => buildTestApp({ fakeStripe: stripe, env: { RECONCILE_MAX_PROVIDER_RPS: '1000', ...env } });

  /** Other tests leave open payments behind in the shared database: each is checked once and pushed back. */
  async function settleBacklog(t: TestApp): Promise<void> {
    for (let run = 0; run < 100; run += 1) {
      const report = await reconcile(t.container);
      if (report.payments.checked === 0 && report.refunds.checked === 0) return stripe.reset();
    }
    throw new Error('the reconcile backlog never emptied');
  }

  async function openPayments(t: TestApp, count: number, ageMinutes: number): Promise<Array<{ id: string; intent: string }>> {
    const token = tokenFor(newUserId());
    const created: Array<{ id: string; intent: string }> = [];
    for (let i = 0; i < count; i += 1) {
      const res = await request(t.app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });
      expect(res.status, res.text).to.equal(201);
      created.push({ id: res.body.id, intent: res.body.provider_payment_id });
    }
    await rows(`UPDATE payments SET updated_at = now() - make_interval(mins => :ageMinutes) WHERE id IN (:ids)`, {
      ageMinutes,
      ids: created.map((p) => p.id),
    });
    return created;
  }

  const paymentRows = (ids: string[]) =>
    rows<{ id: string; status: string; reconcile_attempts: number; due_later: boolean }>(
      `SELECT id, status, reconcile_attempts, reconcile_next_at > now() AS due_later FROM payments WHERE id IN (:ids) ORDER BY id`,
      { ids },
    );
  const lookups = (intent: string) => stripe.callsTo('GET', new RegExp(`/v1/payment_intents/${intent}$`)).length;

  it('when more than a batch of open payments cannot be looked up, then they back off, the others are settled within a few runs, and the failed ones are retried after their backoff', async () => {
    const t = app({ RECONCILE_BATCH_SIZE: '5' });
    await settleBacklog(t);
    const failing = await openPayments(t, 8, 120); // the oldest: without backoff they would fill every batch
    const good = await openPayments(t, 3, 60);
    const lost = new Map(failing.map((p) => [p.intent, stripe.intents.get(p.intent)!]));
    for (const p of failing) stripe.intents.delete(p.intent); // every lookup answers 404
    for (const p of good) stripe.setStatus(p.intent, 'succeeded');

    let runs = 0;
    while (runs < 3 && (await paymentRows(good.map((p) => p.id))).some((p) => p.status !== 'succeeded')) {
      await reconcile(t.container);
      runs += 1;
    }

    const settled = await paymentRows(good.map((p) => p.id));
    expect(settled.map((p) => [p.status, p.reconcile_attempts, p.due_later])).to.deep.equal([
      ['succeeded', 0, null],
      ['succeeded', 0, null],
      ['succeeded', 0, null],
    ]);
    const pushedBack = await paymentRows(failing.map((p) => p.id));
    expect(pushedBack.every((p) => p.status === 'pending' && p.reconcile_attempts === 1 && p.due_later)).to.equal(true);
    expect(failing.map((p) => lookups(p.intent))).to.deep.equal(failing.map(() => 1));

    // Their backoff runs out and the provider knows them again: the next runs settle them.
    for (const [id, intent] of lost) stripe.intents.set(id, { ...intent, status: 'succeeded' });
    await rows(`UPDATE payments SET reconcile_next_at = now() - interval '1 second' WHERE id IN (:ids)`, { ids: failing.map((p) => p.id) });
    await reconcile(t.container);
    await reconcile(t.container);
    const retried = await paymentRows(failing.map((p) => p.id));
    expect(retried.every((p) => p.status === 'succeeded' && p.reconcile_attempts === 0)).to.equal(true);
    expect(failing.map((p) => lookups(p.intent))).to.deep.equal(failing.map(() => 2));
    const metrics = await request(t.app).get('/metrics');
    expect(metrics.text).to.match(/reconcile_drift_total\{kind="payment"\} (1[1-9]|[2-9]\d)/);
  });

  it('when a payment cannot be settled again, then its next check moves further away each time', async () => {
    const t = app();
    await settleBacklog(t);
    const [p] = await openPayments(t, 1, 60);
    stripe.intents.delete(p.intent);
    const delays: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      await reconcile(t.container);
      const [row] = await rows<{ seconds: number }>(`SELECT EXTRACT(EPOCH FROM reconcile_next_at - now())::float AS seconds FROM payments WHERE id = :id`, { id: p.id });
      delays.push(row.seconds);
      await rows(`UPDATE payments SET reconcile_next_at = now() - interval '1 second' WHERE id = :id`, { id: p.id });
    }
    // Base 5 min doubling, each drawn from the upper half of its window: 150-300 s, 300-600 s, 600-1200 s.
    expect(delays[0]).to.be.within(120, 300);
    expect(delays[1]).to.be.within(270, 600);
    expect(delays[2]).to.be.within(570, 1200);
    expect(lookups(p.intent)).to.equal(3);
  });

  it('when an open payment is younger than RECONCILE_MIN_AGE_SECONDS, then it is left alone; older, it is checked', async () => {
    const t = app({ RECONCILE_MIN_AGE_SECONDS: '120' });
    await settleBacklog(t);
    const [young] = await openPayments(t, 1, 1);
    const [old] = await openPayments(t, 1, 3);
    stripe.setStatus(young.intent, 'succeeded');
    stripe.setStatus(old.intent, 'succeeded');

    const report = await reconcile(t.container);

    expect(report.payments).to.deep.equal({ checked: 1, failed: 0, drift: 1 });
    expect(lookups(young.intent)).to.equal(0);
    const statuses = Object.fromEntries((await paymentRows([young.id, old.id])).map((p) => [p.id, p.status]));
    expect(statuses).to.deep.equal({ [young.id]: 'pending', [old.id]: 'succeeded' });
  });

  it('when RECONCILE_MAX_PROVIDER_RPS is 4, then no second holds more than 4 provider calls', async () => {
    const t = app({ RECONCILE_MAX_PROVIDER_RPS: '4' });
    await settleBacklog(t);
    const open = await openPayments(t, 7, 60);
    for (const p of open) stripe.setStatus(p.intent, 'succeeded');
    stripe.reset();

    const report = await reconcile(t.container);

    expect(report.payments.checked).to.equal(7);
    const times = stripe.callsTo('GET', /^\/v1\/payment_intents\//).map((c) => c.at);
    expect(times).to.have.length(7);
    // Calls are spaced 250 ms apart at least; any window of 900 ms holds at most 4 (a slow machine only spreads them more).
    const crowded = times.map((start) => times.filter((at) => at >= start && at < start + 900).length);
    expect(Math.max(...crowded)).to.be.at.most(4);
  });

  describe('refunds still pending at the provider', () => {
    const admin = tokenFor('admin_reconcile_tests', 'admin');

    async function refundedPayment(t: TestApp, amounts: number[]) {
      const token = tokenFor(newUserId());
      const paid = await request(t.app).post('/v1/payments').set(bearer(token)).send({ amount: 5000, currency: 'usd', payment_method: 'pm_card_visa' });
      expect(paid.body.status, paid.text).to.equal('succeeded');
      stripe.refundStatus = 'pending';
      const refunds: Array<{ id: string; providerId: string }> = [];
      for (const amount of amounts) {
        const res = await request(t.app).post(`/v1/payments/${paid.body.id}/refunds`).set(bearer(admin)).send({ amount });
        expect(res.status, res.text).to.equal(201);
        expect(res.body.status).to.equal('pending');
        const [row] = await rows<{ provider_refund_id: string }>('SELECT provider_refund_id FROM refunds WHERE id = :id', { id: res.body.id });
        refunds.push({ id: res.body.id, providerId: row.provider_refund_id });
      }
      await rows(`UPDATE refunds SET updated_at = now() - interval '1 hour' WHERE payment_id = :id`, { id: paid.body.id });
      return { paymentId: paid.body.id as string, refunds };
    }

    it('when a pending refund failed or succeeded at the provider and the webhook was missed, then reconcile re-reads it and applies it (totals, event, drift)', async () => {
      const t = app();
      await settleBacklog(t);
      const { paymentId, refunds } = await refundedPayment(t, [1000, 1500]);
      Object.assign(stripe.refunds.get(refunds[0].providerId)!, { status: 'failed', failure_reason: 'expired_or_canceled_card' });
      Object.assign(stripe.refunds.get(refunds[1].providerId)!, { status: 'succeeded' });
      const before = await rows<{ amount_refunded: number }>('SELECT amount_refunded::int AS amount_refunded FROM payments WHERE id = :id', { id: paymentId });
      expect(before).to.deep.equal([{ amount_refunded: 2500 }]);

      const report = await reconcile(t.container);

      expect(report.refunds).to.deep.equal({ checked: 2, failed: 0, drift: 2 });
      for (const r of refunds) expect(stripe.callsTo('GET', new RegExp(`/v1/refunds/${r.providerId}$`))).to.have.length(1);
      const stored = await rows<{ id: string; status: string; failure_reason: string | null; reconcile_attempts: number }>(
        'SELECT id, status, failure_reason, reconcile_attempts FROM refunds WHERE payment_id = :paymentId ORDER BY amount',
        { paymentId },
      );
      expect(stored).to.deep.equal([
        { id: refunds[0].id, status: 'failed', failure_reason: 'expired_or_canceled_card', reconcile_attempts: 0 },
        { id: refunds[1].id, status: 'succeeded', failure_reason: null, reconcile_attempts: 0 },
      ]);
      const [payment] = await rows<{ status: string; amount_refunded: number }>('SELECT status, amount_refunded::int AS amount_refunded FROM payments WHERE id = :paymentId', { paymentId });
      expect(payment).to.deep.equal({ status: 'partially_refunded', amount_refunded: 1500 });
      const events = await rows<{ type: string }>('SELECT type FROM outbox_events WHERE aggregate_id = :paymentId ORDER BY sequence', { paymentId });
      expect(events.map((e) => e.type)).to.include('refund.failed');
      const metrics = await request(t.app).get('/metrics');
      expect(metrics.text).to.match(/reconcile_drift_total\{kind="refund"\} [2-9]/);
    });

    it('when the provider cannot answer for a pending refund, then it stays pending, backs off, and a still-pending one is not re-read every run', async () => {
      const t = app();
      await settleBacklog(t);
      const { refunds } = await refundedPayment(t, [1000, 1000]);
      stripe.failNext(1, 500, { path: new RegExp(refunds[0].providerId) });

      const first = await reconcile(t.container);
      const second = await reconcile(t.container);

      expect(first.refunds).to.deep.equal({ checked: 2, failed: 1, drift: 0 });
      expect(second.refunds.checked).to.equal(0);
      const stored = await rows<{ status: string; reconcile_attempts: number; due_later: boolean }>(
        `SELECT status, reconcile_attempts, reconcile_next_at > now() AS due_later FROM refunds WHERE id IN (:ids)`,
        { ids: refunds.map((r) => r.id) },
      );
      expect(stored).to.deep.equal([
        { status: 'pending', reconcile_attempts: 1, due_later: true },
        { status: 'pending', reconcile_attempts: 1, due_later: true },
      ]);
    });
  });

  describe('claims left behind by a crashed replica', () => {
    it('when an outbox delivery’s lease ran out, then reconcile counts and releases it and the dispatcher delivers it', async () => {
      const t = app();
      await t.container.events.dispatcher.drainTarget('stream'); // deliveries other tests left behind
      const token = tokenFor(newUserId());
      const paid = await request(t.app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });
      // A replica claimed the delivery, then died before marking it.
      const claimed = await t.container.events.deliveries.claimDue(10, 'stream');
      const mine = claimed.filter((d) => d.event.aggregateId === paid.body.id);
      expect(mine).to.have.length(1);
      await rows(`UPDATE outbox_deliveries SET locked_until = now() - interval '1 second' WHERE id IN (:ids)`, { ids: claimed.map((d) => d.id) });

      const report = await reconcile(t.container);

      expect(report.outboxLeasesReleased).to.be.at.least(1);
      const [row] = await rows<{ state: string; locked_until: Date | null; attempts: number }>(
        'SELECT state, locked_until, attempts FROM outbox_deliveries WHERE id = :id',
        { id: mine[0].id },
      );
      expect(row).to.deep.equal({ state: 'pending', locked_until: null, attempts: 1 });
      await t.container.events.dispatcher.drainTarget('stream');
      expect(t.container.events.inMemoryStream!.entries.filter((e) => e.aggregateId === paid.body.id).map((e) => e.type)).to.deep.equal(['payment.created']);
      const metrics = await request(t.app).get('/metrics');
      expect(metrics.text).to.match(/reconcile_drift_total\{kind="outbox_delivery_lease"\} [1-9]/);
    });

    it('when a webhook event was left processing past its lease, then reconcile reports it and the worker’s claim applies it', async () => {
      const t = app();
      const token = tokenFor(newUserId());
      const created = await request(t.app).post('/v1/payments').set(bearer(token)).send({ amount: 2000, currency: 'usd' });
      const event = paymentIntentEvent('payment_intent.succeeded', { intentId: created.body.provider_payment_id, paymentId: created.body.id, status: 'succeeded' });
      expect((await deliver(t.app, event)).status).to.equal(200);
      // A replica claimed it, then died: processing, lease over.
      await rows(`UPDATE webhook_events SET state = 'processing', attempts = 1, locked_until = now() - interval '1 second' WHERE id = :id`, { id: event.id });

      const report = await reconcile(t.container);

      expect(report.webhookLeasesExpired).to.be.at.least(1);
      await t.container.webhooks.worker.drain();
      const [stored] = await rows<{ state: string }>('SELECT state FROM webhook_events WHERE id = :id', { id: event.id });
      expect(stored.state).to.equal('processed');
      const [payment] = await rows<{ status: string }>('SELECT status FROM payments WHERE id = :id', { id: created.body.id });
      expect(payment.status).to.equal('succeeded');
    });
  });
});
