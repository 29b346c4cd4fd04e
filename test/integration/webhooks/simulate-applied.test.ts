import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../../src/app';
import { buildContainer, type Container } from '../../../src/container';
import { SimulateUseCase } from '../../../src/modules/simulate/simulate.use-case';
import { MockProvider } from '../../../src/providers/mock/mock-provider';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows, testDatabase } from '../../helpers/database';
import { deliver, nowSeconds, paymentIntentEvent } from '../../helpers/stripe-events';
import { buildTestApp, testConfig, TEST_WEBHOOK_SECRET } from '../../helpers/test-app';
import { createPayment, historyOf, paymentRow, storedEvent } from '../../helpers/webhook-payments';

describe('POST /v1/test/simulate answers after its own events are applied', () => {
  let app: Express;
  let container: Container;
  /** Another replica on the same database, with its own worker. */
  let other: Container;
  let token: string;

  before(() => {
    ({ app, container } = buildTestApp());
    other = buildContainer({ config: testConfig(), sequelize: testDatabase(), provider: new MockProvider({ latencyMs: 0, successRate: 1 }) });
  });
  beforeEach(() => {
    token = tokenFor(newUserId());
  });

  const simulate = (target: Express, paymentId: string, scenario: string) =>
    request(target).post('/v1/test/simulate').set(bearer(token)).send({ payment_id: paymentId, scenario });

  it('when a scenario is simulated, then 200 with applied: true, each event processed with its outcome, and the payment after them', async () => {
    const payment = await createPayment(app, token);

    const res = await simulate(app, payment.id, 'fail');

    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ object: 'simulation', scenario: 'fail', applied: true });
    expect(res.body.events).to.have.length(1);
    expect(res.body.events[0]).to.include({ type: 'payment_intent.payment_failed', state: 'processed', outcome: 'moved' });
    expect(res.body.payment).to.include({ id: payment.id, status: 'failed', failure_code: 'generic_decline' });
  });

  it('when another replica claims the simulation’s event first and is still applying it, then the answer waits for it and shows the payment after it', async () => {
    const payment = await createPayment(app, token);
    let claimedByOther!: () => void;
    const claimed = new Promise<void>((resolve) => (claimedByOther = resolve));
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));

    // The other replica's claim takes the event as soon as it is stored, then pauses before applying it.
    const otherEvents = other.webhooks.events;
    const otherClaim = otherEvents.claimDue.bind(otherEvents);
    let paused = false;
    otherEvents.claimDue = async (limit) => {
      const batch = await otherClaim(limit);
      if (!paused && batch.some((e) => e.paymentId === payment.id)) {
        paused = true;
        claimedByOther();
        await gate;
      }
      return batch;
    };
    const ingest = container.webhooks.ingest;
    const ingestExecute = ingest.execute.bind(ingest);
    ingest.execute = async (...args) => {
      const result = await ingestExecute(...args);
      void other.webhooks.worker.drain();
      await claimed;
      return result;
    };
    // The simulation looks at its events only once the other replica holds them; then the other goes on.
    const events = container.webhooks.events;
    const findByIds = events.findByIds.bind(events);
    events.findByIds = async (ids) => {
      const found = await findByIds(ids);
      openGate();
      return found;
    };

    try {
      const res = await simulate(app, payment.id, 'succeed').then((r) => (openGate(), r));

      expect(res.status, res.text).to.equal(200);
      expect(res.body.applied).to.equal(true);
      expect(res.body.events[0]).to.include({ type: 'payment_intent.succeeded', state: 'processed', outcome: 'moved' });
      expect(res.body.payment).to.include({ status: 'succeeded' });
      expect(await storedEvent(res.body.events[0].id), 'applied by the other replica').to.include({ attempts: 1, state: 'processed' });
    } finally {
      delete (otherEvents as { claimDue?: unknown }).claimDue;
      delete (ingest as { execute?: unknown }).execute;
      delete (events as { findByIds?: unknown }).findByIds;
    }
  });

  it('when its event cannot be applied within the wait (an older event of the payment is held elsewhere), then 202 applied: false with the events pending and the payment as it stood; they are applied after', async () => {
    const payment = await createPayment(app, token);
    const patient = new SimulateUseCase({
      payments: container.payments.payments,
      provider: container.provider,
      webhooks: container.webhooks,
      webhookSecret: TEST_WEBHOOK_SECRET,
      waitMs: 300,
    });
    const shortWait = createApp({ ...container, simulate: patient });
    const older = paymentIntentEvent('payment_intent.requires_action', {
      paymentId: payment.id,
      intentId: payment.provider_payment_id,
      status: 'requires_action',
      created: nowSeconds() - 5,
    });
    expect((await deliver(app, older)).status).to.equal(200);
    const held = (await other.webhooks.events.claimDue(20)).filter((e) => e.id === older.id);
    expect(held, 'the other replica holds the older event').to.have.length(1);

    const res = await simulate(shortWait, payment.id, 'succeed');

    expect(res.status, res.text).to.equal(202);
    expect(res.body).to.include({ object: 'simulation', applied: false });
    expect(res.body.events).to.have.length(1);
    expect(res.body.events[0]).to.include({ type: 'payment_intent.succeeded', state: 'pending', outcome: null });
    expect(res.body.payment).to.include({ status: 'pending' });

    await rows(`UPDATE webhook_events SET locked_until = now() - interval '1 second' WHERE id = :id`, { id: older.id });
    await container.webhooks.worker.drain();

    expect(await storedEvent(res.body.events[0].id)).to.include({ state: 'processed', outcome: 'moved' });
    expect(await paymentRow(payment.id)).to.include({ status: 'succeeded' });
    expect((await historyOf(payment.id)).map((m) => [m.to_status, m.event_id])).to.deep.equal([
      ['pending', null],
      ['requires_action', older.id],
      ['succeeded', res.body.events[0].id],
    ]);
  });
});
