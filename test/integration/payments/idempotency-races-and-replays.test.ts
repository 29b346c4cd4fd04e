import { expect } from 'chai';
import request from 'supertest';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import { buildTestApp } from '../../helpers/test-app';

/**
 * A client's view of the rewritten write path (one-statement create, confirm and cancel): one key
 * sent many times at once, stored answers against later reads and the outbox.
 */
describe('Idempotency-Key races and stored answers on the one-statement write path', () => {
  let app: ReturnType<typeof buildTestApp>['app'];
  before(() => {
    app = buildTestApp().app;
  });

  for (const withOrder of [false, true]) {
    it(`when 20 creates with one key race (${withOrder ? 'with' : 'without'} an order), then one payment and one intent; answers are 201 (one text) or 409; the replay and GET are that text`, async () => {
      const user = newUserId();
      const body = { amount: 1234, currency: 'usd', ...(withOrder ? { order_id: 'ord_race' } : {}) };
      const send = () => request(app).post('/v1/payments').set(bearer(tokenFor(user))).set('Idempotency-Key', 'race-1').send(body);
      const answers = await Promise.all(Array.from({ length: 20 }, send));
      const statuses = answers.map((a) => a.status);
      expect(statuses.every((s) => s === 201 || s === 409), JSON.stringify(statuses) + answers.map((a) => a.text).join('\n')).to.equal(true);
      const oks = answers.filter((a) => a.status === 201);
      expect(new Set(oks.map((a) => a.text)).size).to.equal(1);
      const pays = await rows<{ id: string; provider_payment_id: string }>(`SELECT id, provider_payment_id FROM payments WHERE user_id = :user`, { user });
      expect(pays).to.have.length(1);
      const intents = await rows(`SELECT id FROM mock_payment_intents WHERE data->'metadata'->>'payment_id' = :id`, { id: pays[0].id });
      expect(intents).to.have.length(1);
      const replay = await send();
      expect(replay.status).to.equal(201);
      expect(replay.headers['idempotent-replayed']).to.equal('true');
      expect(replay.text).to.equal(oks[0].text);
      expect(replay.headers['content-type']).to.equal(oks[0].headers['content-type']);
      const got = await request(app).get(`/v1/payments/${pays[0].id}`).set(bearer(tokenFor(user)));
      expect(got.text).to.equal(oks[0].text);
    });
  }

  for (const pm of [undefined, 'pm_card_visa', 'pm_card_authenticationRequired', 'pm_usBankAccount_success', 'pm_card_chargeDeclined']) {
    it(`when a create (payment_method ${pm}) is replayed, then the replay is the first answer, GET answers the same text, and the outbox events agree with the row`, async () => {
      const user = newUserId();
      const body = { amount: 2000, currency: 'usd', ...(pm ? { payment_method: pm } : {}) };
      const send = () => request(app).post('/v1/payments').set(bearer(tokenFor(user))).set('Idempotency-Key', 'k').send(body);
      const first = await send();
      const replay = await send();
      expect(replay.text).to.equal(first.text);
      expect(replay.status).to.equal(first.status);
      const id = first.body.id ?? first.body.error?.payment_id;
      const got = await request(app).get(`/v1/payments/${id}`).set(bearer(tokenFor(user)));
      if (first.status < 300) expect(got.text).to.equal(first.text);
      // The last event's payment is the row as read.
      const events = await rows<{ type: string; payload: { data: { payment: Record<string, unknown> } } }>(
        `SELECT type, payload FROM outbox_events WHERE aggregate_id = :id ORDER BY sequence`, { id });
      const last = events[events.length - 1].payload.data.payment;
      const row = got.body;
      for (const f of ['status', 'provider_payment_id', 'updated_at', 'payment_method', 'failure_code', 'next_action']) {
        expect(last[f], `${f}`).to.deep.equal(row[f]);
      }
      expect(events[0].type).to.equal('payment.created');
      expect(events[0].payload.data.payment.provider_payment_id).to.equal(row.provider_payment_id);
    });
  }

  it('when a 3-D Secure confirm and a cancel are replayed, then each replay and the GET after are the first answer', async () => {
    const user = newUserId();
    const t = tokenFor(user);
    const created = await request(app).post('/v1/payments').set(bearer(t)).set('Idempotency-Key', 'c').send({ amount: 2000, currency: 'usd' });
    for (const pm of ['pm_card_authenticationRequired']) {
      const confirm = () => request(app).post(`/v1/payments/${created.body.id}/confirm`).set(bearer(t)).set('Idempotency-Key', 'cf' + pm).send({ payment_method: pm });
      const a = await confirm();
      const b = await confirm();
      expect(b.text).to.equal(a.text);
      const got = await request(app).get(`/v1/payments/${created.body.id}`).set(bearer(t));
      expect(got.text).to.equal(a.text);
    }
    const cancel = () => request(app).post(`/v1/payments/${created.body.id}/cancel`).set(bearer(t)).set('Idempotency-Key', 'cx');
    const a = await cancel();
    expect(a.status, a.text).to.equal(200);
    const b = await cancel();
    expect(b.text).to.equal(a.text);
    const got = await request(app).get(`/v1/payments/${created.body.id}`).set(bearer(t));
    expect(got.text).to.equal(a.text);
  });

  it('when 10 confirms with one key race, then one move to succeeded and the 200s are one text', async () => {
    const user = newUserId();
    const t = tokenFor(user);
    const created = await request(app).post('/v1/payments').set(bearer(t)).send({ amount: 2000, currency: 'usd' });
    const confirm = () => request(app).post(`/v1/payments/${created.body.id}/confirm`).set(bearer(t)).set('Idempotency-Key', 'cc').send({ payment_method: 'pm_card_visa' });
    const answers = await Promise.all(Array.from({ length: 10 }, confirm));
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 200 || s === 409), JSON.stringify(statuses) + answers.map((a) => a.text).join('\n')).to.equal(true);
    expect(new Set(answers.filter((a) => a.status === 200).map((a) => a.text)).size).to.equal(1);
    const hist = await rows(`SELECT to_status FROM payment_status_history WHERE payment_id = :id ORDER BY id`, { id: created.body.id });
    expect(hist.map((h) => h.to_status)).to.deep.equal(['pending', 'succeeded']);
  });

  it('when 10 cancels with 10 keys race, then no 5xx, one move to canceled and one payment.canceled event', async () => {
    const user = newUserId();
    const t = tokenFor(user);
    const created = await request(app).post('/v1/payments').set(bearer(t)).send({ amount: 2000, currency: 'usd' });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => request(app).post(`/v1/payments/${created.body.id}/cancel`).set(bearer(t)).set('Idempotency-Key', 'x' + i)));
    expect(answers.some((a) => a.status >= 500), answers.map((a) => a.text).join('\n')).to.equal(false);
    const hist = await rows(`SELECT to_status FROM payment_status_history WHERE payment_id = :id ORDER BY id`, { id: created.body.id });
    expect(hist.map((h) => h.to_status)).to.deep.equal(['pending', 'canceled']);
    const ev = await rows(`SELECT type FROM outbox_events WHERE aggregate_id = :id ORDER BY sequence`, { id: created.body.id });
    expect(ev.map((e) => e.type)).to.deep.equal(['payment.created', 'payment.canceled']);
  });
});

describe('Idempotency-Key races on refunds and on one order', () => {
  let app: ReturnType<typeof buildTestApp>['app'];
  before(() => {
    app = buildTestApp().app;
  });

  it('when 10 refunds with one key race, then one refund and the successes are one text, replayed after', async () => {
    const user = newUserId();
    const created = await request(app).post('/v1/payments').set(bearer(tokenFor(user))).send({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa' });
    expect(created.body.status).to.equal('succeeded');
    const admin = tokenFor('admin_qa', 'admin');
    const send = () => request(app).post(`/v1/payments/${created.body.id}/refunds`).set(bearer(admin)).set('Idempotency-Key', 'r1').send({ amount: 500 });
    const answers = await Promise.all(Array.from({ length: 10 }, send));
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 201 || s === 200 || s === 409), JSON.stringify(statuses) + answers.map((a) => a.text).join('\n')).to.equal(true);
    expect(new Set(answers.filter((a) => a.status < 300).map((a) => a.text)).size).to.equal(1);
    const refunds = await rows(`SELECT id FROM refunds WHERE payment_id = :id`, { id: created.body.id });
    expect(refunds).to.have.length(1);
    const replay = await send();
    expect(replay.headers['idempotent-replayed']).to.equal('true');
    expect(replay.text).to.equal(answers.find((a) => a.status < 300)!.text);
  });

  it('when 10 creates of one order race with 10 keys, then one payment: 201 once, 200 the rest, each replayed as answered', async () => {
    const user = newUserId();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request(app).post('/v1/payments').set(bearer(tokenFor(user))).set('Idempotency-Key', `o${i}`).send({ amount: 700, currency: 'usd', order_id: 'ord_x' }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.id)).size).to.equal(1);
    for (const [i, a] of answers.entries()) {
      const replay = await request(app).post('/v1/payments').set(bearer(tokenFor(user))).set('Idempotency-Key', `o${i}`).send({ amount: 700, currency: 'usd', order_id: 'ord_x' });
      expect(replay.status).to.equal(a.status);
      expect(replay.text).to.equal(a.text);
    }
  });
});
