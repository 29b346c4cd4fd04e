import { expect } from 'chai';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { newUserId, tokenFor } from '../../helpers/auth';
import { rows, testDatabase } from '../../helpers/database';
import { deliver, nowSeconds, paymentIntentEvent } from '../../helpers/stripe-events';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { recordStatements } from '../../helpers/sql-recording';
import { createPayment, historyOf, paymentRow, storedEvent, withOtherEventsParked, type CreatedPayment } from '../../helpers/webhook-payments';

/** Statements the service sends while `fn` runs, grouped by transaction id (null: outside one). */
async function statementsByTransaction(fn: () => Promise<unknown>): Promise<Map<string | null, string[]>> {
  const byTx = new Map<string | null, string[]>();
  for (const { sql, tx } of await recordStatements(fn)) byTx.set(tx, [...(byTx.get(tx) ?? []), sql]);
  return byTx;
}

describe('the webhook worker: statements of a batch', () => {
  let stripe: FakeStripe;
  let app: Express;
  let container: Container;

  before(async () => {
    stripe = await withFakeStripe();
    ({ app, container } = buildTestApp({ fakeStripe: stripe }));
  });
  after(() => stripe.stop());

  it('when N events each move one of N payments, then the batch is START, one lock of all N payments, per event one UPDATE of its payment (the move and its event recorded together), then the batch\u2019s history rows, its outbox events, one finish and COMMIT', async () => {
    const n = 5;
    const token = tokenFor(newUserId());
    const payments: CreatedPayment[] = [];
    for (let i = 0; i < n; i += 1) payments.push(await createPayment(app, token));
    await container.webhooks.worker.drain();
    const events = payments.map((p) =>
      paymentIntentEvent('payment_intent.requires_action', { paymentId: p.id, intentId: p.provider_payment_id, status: 'requires_action', created: nowSeconds() }),
    );
    for (const e of events) expect((await deliver(app, e)).status).to.equal(200);

    const byTx = await withOtherEventsParked(
      events.map((e) => e.id),
      () => statementsByTransaction(() => container.webhooks.worker.drain()),
    );

    for (const [i, p] of payments.entries()) {
      expect(await paymentRow(p.id)).to.include({ status: 'requires_action', last_event_id: events[i].id });
      expect(await storedEvent(events[i].id)).to.include({ state: 'processed', outcome: 'moved', attempts: 1 });
      expect((await historyOf(p.id)).map((m) => [m.to_status, m.event_id])).to.deep.equal([
        ['pending', null],
        ['requires_action', events[i].id],
      ]);
    }
    const batches = [...byTx.entries()].filter(([tx, sql]) => tx !== null && sql.some((s) => /UPDATE webhook_events w SET state = v\.state/.test(s)));
    expect(batches, 'one batch transaction').to.have.length(1);
    const sql = batches[0][1];
    const count = (pattern: RegExp) => sql.filter((s) => pattern.test(s)).length;
    expect(count(/FROM "?payments"?\b[\s\S]*FOR UPDATE/i), 'one lock statement for the whole batch').to.equal(1);
    expect(count(/^(?:Executing \([^)]*\): )?UPDATE payments/), 'one UPDATE per payment: no second one recording the event').to.equal(n);
    expect(count(/INSERT INTO payment_status_history/), 'the batch\u2019s history rows in one statement').to.equal(1);
    expect(count(/INSERT INTO outbox_events/), 'the batch\u2019s outbox events in one statement').to.equal(1);
    // START + lock + 1 per event + history + outbox + finish + COMMIT (it was START + 5 per event + finish + COMMIT).
    expect(sql, sql.join('\n')).to.have.length(n + 6);
    const outbox = await rows<{ aggregate_id: string; type: string }>(
      `SELECT aggregate_id, type FROM outbox_events WHERE aggregate_id IN (:ids) AND type = 'payment.requires_action' ORDER BY sequence`,
      { ids: payments.map((p) => p.id) },
    );
    expect(outbox.map((e) => e.aggregate_id).sort()).to.deep.equal(payments.map((p) => p.id).sort());
  });

  it('when a transaction locked its payments up front and then writes one, then locking it again reads the row as written, with no statement', async () => {
    const payment = await createPayment(app, tokenFor(newUserId()));
    const { ledger } = container.payments;
    const event = { id: `evt_${Date.now()}`, created: nowSeconds() };
    let after: Awaited<ReturnType<typeof ledger.lock>> = null;
    const byTx = await statementsByTransaction(() =>
      testDatabase().transaction(async (t) => {
        await ledger.lockMany([payment.id], [], t);
        const locked = (await ledger.lock(payment.id, t))!;
        const intent = { ...stripe.intents.get(payment.provider_payment_id)!, status: 'requires_action', next_action: { type: 'use_stripe_sdk' } };
        await ledger.applyIntent(locked, container.provider.intentFromEvent(intent as never), { source: 'webhook', eventId: event.id }, t, event);
        after = await ledger.lockByIntent(payment.provider_payment_id, t);
      }),
    );

    expect(after).to.include({ id: payment.id, status: 'requires_action' });
    expect(after!.lastEvent).to.deep.equal(event);
    const sql = [...byTx.entries()].filter(([tx]) => tx !== null).flatMap(([, s]) => s);
    expect(sql.filter((s) => /FROM "?payments"?\b[\s\S]*FOR UPDATE/i.test(s)), 'only the up-front lock').to.have.length(1);
    expect(sql.filter((s) => /^(?:Executing \([^)]*\): )?UPDATE payments/.test(s)), 'the move and the event in one UPDATE').to.have.length(1);
    expect(await paymentRow(payment.id)).to.include({ status: 'requires_action', last_event_id: event.id });
  });
});
