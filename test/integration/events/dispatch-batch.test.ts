import { expect } from 'chai';
import type { QueryOptions } from 'sequelize';
import { newUserId, tokenFor } from '../../helpers/auth';
import { rows, testDatabase } from '../../helpers/database';
import { buildTestApp, type TestApp } from '../../helpers/test-app';
import { createPayment } from '../../helpers/webhook-payments';

/** The SQL the service sent while `fn` ran. */
async function recording(fn: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const sequelize = testDatabase();
  sequelize.addHook('afterQuery', 'record-dispatch', (_options: QueryOptions, query: unknown) => {
    sent.push(String((query as { sql?: string }).sql ?? ''));
  });
  try {
    await fn();
  } finally {
    sequelize.removeHook('afterQuery', 'record-dispatch');
  }
  return sent;
}

const deliveriesOf = (paymentIds: string[]) =>
  rows<{ aggregate_id: string; state: string; attempts: number }>(
    `SELECT aggregate_id, state, attempts FROM outbox_deliveries WHERE aggregate_id IN (:paymentIds) ORDER BY aggregate_id`,
    { paymentIds },
  );

describe('the outbox dispatcher claims, reads and finishes in batches, and is woken by commits', () => {
  it('when three payments each have an event to deliver, then one statement claims and reads them and one UPDATE marks all three delivered (no second claim)', async () => {
    const t: TestApp = buildTestApp({ env: { OUTBOX_TARGET_CONCURRENCY: '8' } });
    await t.container.events.dispatcher.drain();
    const token = tokenFor(newUserId());
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await createPayment(t.app, token)).id);

    const sent = await recording(() => t.container.events.dispatcher.drain());

    expect((await deliveriesOf(ids)).map((d) => d.state)).to.deep.equal(['delivered', 'delivered', 'delivered']);
    const touching = sent.filter((sql) => /outbox_deliveries/.test(sql));
    const claims = touching.filter((sql) => /UPDATE outbox_deliveries SET attempts = attempts \+ 1/.test(sql));
    expect(claims, 'one claim: the batch was short and nothing waits behind it').to.have.length(1);
    expect(claims[0]).to.match(/JOIN outbox_events/);
    const marks = touching.filter((sql) => /SET state = 'delivered'/.test(sql));
    expect(marks, 'the batch is marked delivered by one statement').to.have.length(1);
    expect(touching, 'nothing else: no separate read of the events').to.have.length(2);
  });

  it('when a change with an event commits, then the running dispatcher delivers it without waiting for its timer', async () => {
    // An hour between timer passes: only the wake after the commit can deliver within the test.
    const t: TestApp = buildTestApp({ env: { OUTBOX_WORKER_INTERVAL_MS: '3600000' } });
    t.container.events.dispatcher.start();
    try {
      const payment = await createPayment(t.app, tokenFor(newUserId()));
      while ((await deliveriesOf([payment.id])).some((d) => d.state !== 'delivered')) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect((await deliveriesOf([payment.id])).map((d) => [d.state, d.attempts])).to.deep.equal([['delivered', 1]]);
    } finally {
      await t.container.events.dispatcher.stop();
    }
  });
});
