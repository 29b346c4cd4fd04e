import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import { recordStatements } from '../../helpers/sql-recording';
import type { FakeStripe } from '../../helpers/fake-stripe';
import { buildTestApp, withFakeStripe } from '../../helpers/test-app';
import { createPayment } from '../../helpers/webhook-payments';

describe('POST /v1/payments/:id/refunds with an Idempotency-Key: two commits of ours (real Stripe SDK against a fake Stripe)', () => {
  let stripe: FakeStripe;
  let app: Express;
  const admin = tokenFor('admin_refund_commits', 'admin');

  before(async () => {
    stripe = await withFakeStripe();
    ({ app } = buildTestApp({ fakeStripe: stripe }));
  });
  after(() => stripe.stop());

  it('when a new key refunds, then the key is written in the refund row\u2019s transaction and its answer in the transaction recording Stripe\u2019s answer, and a replay is the same text', async () => {
    const payment = await createPayment(app, tokenFor(newUserId()), { amount: 2000, payment_method: 'pm_card_visa' });
    let res: request.Response | undefined;
    const sent = await recordStatements(async () => {
      res = await request(app).post(`/v1/payments/${payment.id}/refunds`).set(bearer(admin)).set('Idempotency-Key', 'refund-commits-1').send({ amount: 500 });
    });
    expect(res!.status, res!.text).to.equal(201);

    const keyStatements = sent.filter((s) => /idempotency_keys/.test(s.sql));
    expect(keyStatements.every((s) => s.tx !== null), 'no statement of its own for the key').to.equal(true);
    const keyInsert = keyStatements.find((s) => /INSERT INTO idempotency_keys/.test(s.sql))!;
    expect(sent.some((s) => s.tx === keyInsert.tx && /INSERT INTO refunds/.test(s.sql)), 'key and refund row commit together').to.equal(true);
    const answer = keyStatements.find((s) => /response_status/.test(s.sql))!;
    expect(sent.some((s) => s.tx === answer.tx && /UPDATE refunds SET provider_refund_id/.test(s.sql)), 'answer and Stripe\u2019s answer commit together').to.equal(true);
    const ours = new Set(sent.filter((s) => s.tx !== null && /idempotency_keys|refunds|payments/.test(s.sql)).map((s) => s.tx));
    expect(ours.size, 'two transactions of ours').to.equal(2);

    const replay = await request(app).post(`/v1/payments/${payment.id}/refunds`).set(bearer(admin)).set('Idempotency-Key', 'refund-commits-1').send({ amount: 500 });
    expect(replay.status).to.equal(201);
    expect(replay.headers['idempotent-replayed']).to.equal('true');
    expect(replay.text).to.equal(res!.text);
    const [stored] = await rows<{ locked_at: Date | null; recovery_point: string }>(
      `SELECT locked_at, recovery_point FROM idempotency_keys WHERE idempotency_key = 'refund-commits-1'`,
    );
    expect(stored).to.deep.equal({ locked_at: null, recovery_point: 'finished' });
  });
});
