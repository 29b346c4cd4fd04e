import { expect } from 'chai';
import request from 'supertest';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import { buildTestApp } from '../../helpers/test-app';

describe('QA probes: the write path', () => {
  let app: ReturnType<typeof buildTestApp>['app'];
  before(() => {
    app = buildTestApp().app;
  });

  for (const withOrder of [false, true]) {
    it(`20 concurrent creates with one key (${withOrder ? 'with' : 'without'} order): one payment, one intent, 201 or 409 or exact replay`, async () => {
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
    it(`stored answer of a create (payment_method ${pm}) equals GET afterwards and the replay`, async () => {
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
      // outbox payloads consistent with the row
      const events = await rows<{ type: string; payload: { data: { payment: Record<string, unknown> } } }>(
        `SELECT type, payload FROM outbox_events WHERE aggregate_id = :id ORDER BY sequence`, { id });
      console.log(pm, first.status, events.map((e) => e.type));
      const last = events[events.length - 1].payload.data.payment;
      const row = got.body;
      for (const f of ['status', 'provider_payment_id', 'updated_at', 'payment_method', 'failure_code', 'next_action']) {
        expect(last[f], `${f}`).to.deep.equal(row[f]);
      }
      expect(events[0].type).to.equal('payment.created');
      expect(events[0].payload.data.payment.provider_payment_id).to.equal(row.provider_payment_id);
    });
  }

  it('confirm and cancel: stored answer equals GET and replay', async () => {
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

  it('concurrent confirms with one key: one confirm at the provider', async () => {
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

  it('concurrent cancels with distinct keys: all 200 or 409/400, one canceled move', async () => {
    const user = newUserId();
    const t = tokenFor(user);
    const created = await request(app).post('/v1/payments').set(bearer(t)).send({ amount: 2000, currency: 'usd' });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => request(app).post(`/v1/payments/${created.body.id}/cancel`).set(bearer(t)).set('Idempotency-Key', 'x' + i)));
    console.log(answers.map((a) => a.status));
    expect(answers.some((a) => a.status >= 500), answers.map((a) => a.text).join('\n')).to.equal(false);
    const hist = await rows(`SELECT to_status FROM payment_status_history WHERE payment_id = :id ORDER BY id`, { id: created.body.id });
    expect(hist.map((h) => h.to_status)).to.deep.equal(['pending', 'canceled']);
    const ev = await rows(`SELECT type FROM outbox_events WHERE aggregate_id = :id ORDER BY sequence`, { id: created.body.id });
    expect(ev.map((e) => e.type)).to.deep.equal(['payment.created', 'payment.canceled']);
  });
});
