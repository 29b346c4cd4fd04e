import { expect } from 'chai';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { newUserId, tokenFor } from '../../helpers/auth';
import { Client } from 'pg';
import { rows, testDatabase, testDatabaseUrl, usesEmbeddedDatabase } from '../../helpers/database';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { deliver, nowSeconds, paymentIntentEvent, stripeId } from '../../helpers/stripe-events';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { recordStatements, type SentStatement } from '../../helpers/sql-recording';
import { createPayment, historyOf, paymentRow, storedEvent, withOtherEventsParked, type CreatedPayment } from '../../helpers/webhook-payments';

describe('the webhook worker applies claimed events in batches', () => {
  let stripe: FakeStripe;
  let app: Express;
  let container: Container;

  before(async () => {
    stripe = await withFakeStripe();
    ({ app, container } = buildTestApp({ fakeStripe: stripe }));
  });
  after(() => stripe.stop());

  const requiresAction = (p: CreatedPayment, created = nowSeconds()) =>
    paymentIntentEvent('payment_intent.requires_action', { paymentId: p.id, intentId: p.provider_payment_id, status: 'requires_action', created });

  it('when four payments each have an event waiting, then one claim, one transaction applying all four and one UPDATE finishing them (no empty claim after the short batch)', async () => {
    const token = tokenFor(newUserId());
    const payments: CreatedPayment[] = [];
    for (let i = 0; i < 4; i += 1) payments.push(await createPayment(app, token));
    await container.webhooks.worker.drain();
    const events = payments.map((p) => requiresAction(p));
    for (const e of events) expect((await deliver(app, e)).status).to.equal(200);

    const sent = await recordStatements(() => container.webhooks.worker.drain());

    for (const [i, p] of payments.entries()) {
      expect(await paymentRow(p.id)).to.include({ status: 'requires_action', last_event_id: events[i].id });
      expect(await storedEvent(events[i].id)).to.include({ state: 'processed', outcome: 'moved', attempts: 1 });
    }
    const claims = sent.filter((s) => /UPDATE webhook_events SET state = 'processing'/.test(s.sql));
    expect(claims, 'one claim: the batch was short and nothing waits behind it').to.have.length(1);
    expect(claims[0].sql, 'the claim and its lock are one round trip, outside any explicit transaction').to.match(/^[^;]*pg_advisory_xact_lock\(\d+\);/);
    expect(claims[0].tx).to.equal(null);
    expect(sent.filter((s) => /START TRANSACTION|BEGIN/.test(s.sql)), 'one transaction: the batch').to.have.length(1);
    const locks = sent.filter((s) => /FROM "?payments"?\b[\s\S]*FOR UPDATE/i.test(s.sql));
    expect(locks, 'the batch locks its four payments up front, in one statement').to.have.length(1);
    expect(new Set(locks.map((s) => s.tx)).size, 'all four applied in one transaction').to.equal(1);
    expect(sent.filter((s) => /^(?:Executing \([^)]*\): )?COMMIT/.test(s.sql) && s.tx === locks[0].tx)).to.have.length(1);
    const finishes = sent.filter((s) => /UPDATE webhook_events/.test(s.sql) && !/'processing'/.test(s.sql));
    expect(finishes, 'the four events finished by one statement').to.have.length(1);
    expect(finishes[0].tx).to.equal(locks[0].tx);
  });

  it('when a backlog of 30 payments\u2019 events is claimed, then it is applied in two lanes, each one transaction, every event once', async () => {
    const token = tokenFor(newUserId());
    const payments: CreatedPayment[] = [];
    for (let i = 0; i < 30; i += 1) payments.push(await createPayment(app, token));
    await container.webhooks.worker.drain();
    const events = payments.map((p) => requiresAction(p));
    for (const e of events) expect((await deliver(app, e)).status).to.equal(200);
    const sent = await withOtherEventsParked(
      events.map((e) => e.id),
      () => recordStatements(() => container.webhooks.worker.drain()),
    );

    for (const e of events) expect(await storedEvent(e.id)).to.include({ state: 'processed', outcome: 'moved', attempts: 1 });
    const locks = sent.filter((s) => /FROM "?payments"?\b[\s\S]*FOR UPDATE/i.test(s.sql));
    expect(locks, 'each lane locks its payments up front, in one statement').to.have.length(2);
    expect(new Set(locks.map((s) => s.tx)).size, 'two lanes of at most 25').to.equal(2);
    expect(sent.filter((s) => /UPDATE webhook_events SET state = 'processing'/.test(s.sql)), 'one claim').to.have.length(1);
  });

  it('when one event of a batch throws, then the batch is rolled back and each event applied on its own: the others are processed once, the bad one retries', async () => {
    const token = tokenFor(newUserId());
    const payments: CreatedPayment[] = [];
    for (let i = 0; i < 3; i += 1) payments.push(await createPayment(app, token));
    await container.webhooks.worker.drain();
    const good = payments.map((p) => requiresAction(p));
    // Our payment id in its metadata, but no such payment (yet): the handler throws, the event waits.
    const bad = paymentIntentEvent('payment_intent.requires_action', { paymentId: `pay_${stripeId('x').slice(2)}`, intentId: stripeId('pi'), status: 'requires_action', created: nowSeconds() });
    for (const e of [good[0], bad, good[1], good[2]]) expect((await deliver(app, e)).status).to.equal(200);

    await container.webhooks.worker.drain();

    for (const [i, p] of payments.entries()) {
      expect(await storedEvent(good[i].id)).to.include({ state: 'processed', outcome: 'moved', attempts: 1 });
      expect((await historyOf(p.id)).map((m) => [m.to_status, m.event_id])).to.deep.equal([
        ['pending', null],
        ['requires_action', good[i].id],
      ]);
    }
    const stored = await storedEvent(bad.id);
    expect(stored).to.include({ state: 'retrying', attempts: 1 });
    expect(String(stored!.last_error)).to.match(/not known yet/);
  });

  it('when another replica holds the claim lock with an event of a payment claimed, then a claim waiting for the lock sees that claim once granted and does not take an older event of the same payment', async () => {
    const payment = await createPayment(app, tokenFor(newUserId()));
    await container.webhooks.worker.drain();
    const t = nowSeconds();
    const newer = requiresAction(payment, t);
    const older = paymentIntentEvent('payment_intent.payment_failed', {
      paymentId: payment.id,
      intentId: payment.provider_payment_id,
      status: 'requires_payment_method',
      created: t - 1,
      lastPaymentError: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
    });
    expect((await deliver(app, newer)).status).to.equal(200);
    const claimNewer = `UPDATE webhook_events SET state = 'processing', attempts = attempts + 1, locked_until = now() + interval '60 seconds' WHERE id = $1`;
    // PGlite is one session serving every connection: no claim runs beside another there, so the
    // other replica's claim is simply committed first. On PostgreSQL it is still open while ours waits.
    const replica = usesEmbeddedDatabase() ? null : new Client({ connectionString: testDatabaseUrl() });
    try {
      let claim: Promise<Array<{ id: string }>>;
      if (replica) {
        await replica.connect();
        await replica.query('BEGIN');
        await replica.query('SELECT pg_advisory_xact_lock(727101)');
        await replica.query(claimNewer, [newer.id]);
        // An older event of the same payment arrives meanwhile (Stripe does not deliver in order).
        expect((await deliver(app, older)).status).to.equal(200);
        claim = container.webhooks.events.claimDue(20);
        while ((await rows(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock(727101)%'`)).length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await replica.query('COMMIT');
      } else {
        await testDatabase().query(claimNewer, { bind: [newer.id] });
        expect((await deliver(app, older)).status).to.equal(200);
        claim = container.webhooks.events.claimDue(20);
      }

      const claimed = await claim;

      expect(claimed.map((e) => e.id), 'the older event waits while the newer one is being applied elsewhere').not.to.include(older.id);
      expect(await storedEvent(older.id)).to.include({ state: 'pending', attempts: 0 });
    } finally {
      await replica?.end();
      await rows(`UPDATE webhook_events SET state = 'pending', attempts = 0, locked_until = NULL WHERE id = :id`, { id: newer.id });
    }
  });
});
