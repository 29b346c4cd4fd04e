import { expect } from 'chai';
import request from 'supertest';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import { buildTestApp, type TestApp } from '../../helpers/test-app';

const deliveriesOf = (id: string) =>
  rows<{ type: string; state: string }>(
    `SELECT e.type, d.state FROM outbox_deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE d.aggregate_id = :id ORDER BY d.sequence`,
    { id },
  );

async function allDelivered(id: string, count: number): Promise<string[]> {
  for (let i = 0; i < 500; i++) {
    const d = await deliveriesOf(id);
    if (d.length >= count && d.every((x) => x.state === 'delivered')) return d.map((x) => x.type);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`not delivered: ${JSON.stringify(await deliveriesOf(id))}`);
}

/** Timers of an hour: only the wake after each commit can deliver within the test. */
describe('the outbox dispatcher is woken by every write path', () => {
  let t: TestApp;
  before(() => {
    t = buildTestApp({ env: { OUTBOX_WORKER_INTERVAL_MS: '3600000', WEBHOOK_WORKER_INTERVAL_MS: '3600000' } });
    t.container.events.dispatcher.start();
    t.container.webhooks.worker.start();
  });
  after(async () => {
    await t.container.events.dispatcher.stop();
    await t.container.webhooks.worker.stop();
  });

  it('when a create, a one-statement confirm, a refund, a cancel, a locked 3-D Secure create and a webhook each commit events, then each is delivered in order without a timer pass', async () => {
    const user = newUserId();
    const tok = tokenFor(user);
    const admin = tokenFor('admin_w', 'admin');
    const a = await request(t.app).post('/v1/payments').set(bearer(tok)).set('Idempotency-Key', 'w1').send({ amount: 2000, currency: 'usd' });
    expect(await allDelivered(a.body.id, 1)).to.deep.equal(['payment.created']);
    const c = await request(t.app).post(`/v1/payments/${a.body.id}/confirm`).set(bearer(tok)).set('Idempotency-Key', 'w2').send({ payment_method: 'pm_card_visa' });
    expect(c.status).to.equal(200);
    expect(await allDelivered(a.body.id, 2)).to.deep.equal(['payment.created', 'payment.succeeded']);
    const r = await request(t.app).post(`/v1/payments/${a.body.id}/refunds`).set(bearer(admin)).set('Idempotency-Key', 'w3').send({ amount: 500 });
    expect(r.status, r.text).to.be.oneOf([200, 201]);
    expect(await allDelivered(a.body.id, 3)).to.deep.equal(['payment.created', 'payment.succeeded', 'payment.partially_refunded']);

    const b = await request(t.app).post('/v1/payments').set(bearer(tok)).send({ amount: 2000, currency: 'usd' });
    const x = await request(t.app).post(`/v1/payments/${b.body.id}/cancel`).set(bearer(tok));
    expect(x.status).to.equal(200);
    expect(await allDelivered(b.body.id, 2)).to.deep.equal(['payment.created', 'payment.canceled']);

    const d = await request(t.app).post('/v1/payments').set(bearer(tok)).send({ amount: 2000, currency: 'usd', payment_method: 'pm_card_authenticationRequired' });
    expect(await allDelivered(d.body.id, 2)).to.deep.equal(['payment.created', 'payment.requires_action']);
    const s = await request(t.app).post('/v1/test/simulate').set(bearer(tok)).send({ payment_id: d.body.id, scenario: 'succeed' });
    expect(s.status, s.text).to.be.lessThan(300);
    expect(await allDelivered(d.body.id, 3)).to.deep.equal(['payment.created', 'payment.requires_action', 'payment.succeeded']);
  });
});
