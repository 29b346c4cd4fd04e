import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { rows } from '../../helpers/database';
import { buildTestApp } from '../../helpers/test-app';

type Listed = { id: string; amount: number; user_id: string; client_secret: string | null };

describe('GET /v1/payments (mock provider)', () => {
  let app: Express;
  let user: string;
  let token: string;
  let adminToken: string;

  before(() => {
    app = buildTestApp().app;
  });
  beforeEach(() => {
    user = newUserId();
    token = tokenFor(user);
    adminToken = tokenFor(newUserId(), 'admin');
  });

  const minute = (i: number) => new Date(Date.UTC(2024, 2, 1, 0, i));

  /** Creates payments through the API, the i-th created at minute i of 2024-03-01 (so the order is known). */
  async function seed(specs: Array<{ amount?: number; order_id?: string }>, as = token, fromMinute = 0): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, spec] of specs.entries()) {
      const res = await request(app).post('/v1/payments').set(bearer(as)).send({ amount: 2000, currency: 'usd', ...spec });
      expect(res.status, res.text).to.equal(201);
      await rows('UPDATE payments SET created_at = :at WHERE id = :id', { id: res.body.id, at: minute(fromMinute + i) });
      ids.push(res.body.id);
    }
    return ids;
  }

  const list = (query: string, as = token) => request(app).get(`/v1/payments${query}`).set(bearer(as));
  const idsOf = (res: request.Response) => (res.body.data as Listed[]).map((p) => p.id);
  const dbIds = async (where: string, replacements: Record<string, unknown>, order = 'created_at DESC, id DESC') =>
    (await rows<{ id: string }>(`SELECT id FROM payments WHERE ${where} ORDER BY ${order}`, replacements)).map((r) => r.id);

  it('when a customer lists with no parameters, then their payments come newest first in a list object', async () => {
    const ids = await seed([{}, {}, {}]);
    const res = await list('');
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.have.all.keys('object', 'data', 'has_more');
    expect(res.body).to.include({ object: 'list', has_more: false });
    expect(idsOf(res)).to.deep.equal([...ids].reverse());
    expect(idsOf(res)).to.deep.equal(await dbIds('user_id = :user', { user }));
  });

  it('when paging with limit and starting_after, then every payment comes once, newest first, and has_more tells when to stop', async () => {
    const ids = await seed([{}, {}, {}, {}, {}]);
    const first = await list('?limit=2');
    expect(idsOf(first)).to.deep.equal([ids[4], ids[3]]);
    expect(first.body.has_more).to.equal(true);
    const second = await list(`?limit=2&starting_after=${ids[3]}`);
    expect(idsOf(second)).to.deep.equal([ids[2], ids[1]]);
    expect(second.body.has_more).to.equal(true);
    const last = await list(`?limit=2&starting_after=${ids[1]}`);
    expect(idsOf(last)).to.deep.equal([ids[0]]);
    expect(last.body.has_more).to.equal(false);
    expect([...idsOf(first), ...idsOf(second), ...idsOf(last)]).to.deep.equal(await dbIds('user_id = :user', { user }));
  });

  it('when two payments share a creation time, then the id breaks the tie and paging neither skips nor repeats', async () => {
    const ids = await seed([{}, {}, {}]);
    await rows('UPDATE payments SET created_at = :at WHERE user_id = :user', { user, at: minute(7) });
    const first = await list('?limit=1');
    const second = await list(`?limit=1&starting_after=${idsOf(first)[0]}`);
    const third = await list(`?limit=1&starting_after=${idsOf(second)[0]}`);
    const all = [...idsOf(first), ...idsOf(second), ...idsOf(third)];
    expect(all).to.have.members(ids);
    expect(all).to.deep.equal(await dbIds('user_id = :user', { user }));
    expect(third.body.has_more).to.equal(false);
  });

  for (const limit of ['0', '101', 'abc', '2.5', '-1']) {
    it(`when limit is ${limit}, then 400 parameter_invalid naming limit`, async () => {
      await seed([{}]);
      const res = await list(`?limit=${limit}`);
      expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'limit' });
    });
  }

  it('when limit is 1 or 100, then it is accepted', async () => {
    const ids = await seed([{}, {}]);
    expect(idsOf(await list('?limit=1'))).to.deep.equal([ids[1]]);
    expect(idsOf(await list('?limit=100'))).to.deep.equal([ids[1], ids[0]]);
  });

  it('when filtering by status, then only payments in that status are listed', async () => {
    const [succeeded, canceled, pending] = await seed([{}, {}, {}]);
    const confirm = await request(app).post(`/v1/payments/${succeeded}/confirm`).set(bearer(token)).send({ payment_method: 'pm_card_visa' });
    expect(confirm.body.status).to.equal('succeeded');
    const cancel = await request(app).post(`/v1/payments/${canceled}/cancel`).set(bearer(token)).send({});
    expect(cancel.body.status).to.equal('canceled');

    expect(idsOf(await list('?status=succeeded'))).to.deep.equal([succeeded]);
    expect(idsOf(await list('?status=canceled'))).to.deep.equal([canceled]);
    expect(idsOf(await list('?status=pending'))).to.deep.equal([pending]);
    expect(await dbIds('user_id = :user AND status = :status', { user, status: 'succeeded' })).to.deep.equal([succeeded]);
  });

  it('when the status is not one of ours, then 400 naming status', async () => {
    const res = await list('?status=paid');
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'status' });
  });

  it('when filtering by order_id, then only that order’s payments are listed', async () => {
    const [a] = await seed([{ order_id: 'ord_a' }, { order_id: 'ord_b' }]);
    // An order has one open payment at a time: the second try comes after the first was canceled.
    expect((await request(app).post(`/v1/payments/${a}/cancel`).set(bearer(token)).send({})).status).to.equal(200);
    const [c] = await seed([{ order_id: 'ord_a', amount: 3000 }], token, 2);
    const res = await list('?order_id=ord_a');
    expect(idsOf(res)).to.deep.equal([c, a]);
    expect(idsOf(res)).to.deep.equal(await dbIds('user_id = :user AND order_id = :order', { user, order: 'ord_a' }));
  });

  it('when filtering by created_gte and created_lte, then both bounds are inclusive', async () => {
    const ids = await seed([{}, {}, {}, {}]);
    expect(idsOf(await list(`?created_gte=${minute(1).toISOString()}`))).to.deep.equal([ids[3], ids[2], ids[1]]);
    expect(idsOf(await list(`?created_lte=${minute(1).toISOString()}`))).to.deep.equal([ids[1], ids[0]]);
    expect(idsOf(await list(`?created_gte=${minute(1).toISOString()}&created_lte=${minute(2).toISOString()}`))).to.deep.equal([ids[2], ids[1]]);
    expect(
      await dbIds('user_id = :user AND created_at BETWEEN :from AND :to', { user, from: minute(1), to: minute(2) }),
    ).to.deep.equal([ids[2], ids[1]]);
  });

  it('when a payment’s own created_at (shown in milliseconds) is used as both bounds, then that payment is listed', async () => {
    const [id] = await seed([{}]);
    // The database keeps microseconds; the API shows milliseconds.
    await rows(`UPDATE payments SET created_at = '2024-03-01T00:00:00.123456Z' WHERE id = :id`, { id });
    const shown = (await request(app).get(`/v1/payments/${id}`).set(bearer(token))).body.created_at;
    expect(shown).to.equal('2024-03-01T00:00:00.123Z');
    expect(idsOf(await list(`?created_lte=${shown}`))).to.deep.equal([id]);
    expect(idsOf(await list(`?created_gte=${shown}&created_lte=${shown}`))).to.deep.equal([id]);
  });

  it('when created_gte is not an ISO date-time, then 400 naming it', async () => {
    const res = await list('?created_gte=yesterday');
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'created_gte' });
  });

  it('when a query parameter is unknown, then 400 parameter_unknown naming it', async () => {
    const res = await list('?limit=5&owner=me');
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_unknown', param: 'owner' });
  });

  it('when starting_after is not a payment id at all, then 400 naming starting_after', async () => {
    await seed([{}]);
    const res = await list('?starting_after=pay_doesNotExist000000000000');
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'starting_after' });
  });

  it('when starting_after is another user’s payment, then 400 (the cursor must be in the caller’s list)', async () => {
    await seed([{}]);
    const [theirs] = await seed([{}], tokenFor(newUserId()));
    const res = await list(`?starting_after=${theirs}`);
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'starting_after' });
    expect(res.text).to.not.include(theirs.slice(4));
  });

  it('when a customer filters by another user_id, then 403 permission_denied', async () => {
    const other = newUserId();
    await seed([{}], tokenFor(other));
    const res = await list(`?user_id=${other}`);
    expectApiError(res, { status: 403, type: 'permission_error', code: 'permission_denied', param: 'user_id' });
  });

  it('when a customer filters by their own user_id, then it is allowed', async () => {
    const ids = await seed([{}]);
    const res = await list(`?user_id=${user}`);
    expect(res.status, res.text).to.equal(200);
    expect(idsOf(res)).to.deep.equal(ids);
  });

  it('when a customer searches with q for another user’s payment, then nothing of theirs is listed', async () => {
    const [theirs] = await seed([{ order_id: 'ord_theirs' }], tokenFor(newUserId()));
    const byId = await list(`?q=${theirs}`);
    expect(byId.status).to.equal(200);
    expect(byId.body.data).to.deep.equal([]);
    expect(idsOf(await list('?q=ord_theirs'))).to.deep.equal([]);
    expect(await dbIds('id = :id', { id: theirs })).to.deep.equal([theirs]);
  });

  it('when an admin filters by user_id, then exactly that user’s payments are listed', async () => {
    const ids = await seed([{}, {}]);
    await seed([{}], tokenFor(newUserId()));
    const res = await list(`?user_id=${user}`, adminToken);
    expect(res.status, res.text).to.equal(200);
    expect(idsOf(res)).to.deep.equal([ids[1], ids[0]]);
    expect((res.body.data as Listed[]).every((p) => p.user_id === user && p.client_secret === null)).to.equal(true);
  });

  it('when an admin searches with q, then it matches the payment id, the order id, or the provider id', async () => {
    const order = `ord_${user}`;
    const [first, second] = await seed([{ order_id: order }, { order_id: `${order}_other` }]);
    expect(idsOf(await list(`?q=${first}`, adminToken))).to.deep.equal([first]);
    expect(idsOf(await list(`?q=${order}`, adminToken))).to.deep.equal([first]);
    const [row] = await rows<{ provider_payment_id: string }>('SELECT provider_payment_id FROM payments WHERE id = :id', { id: second });
    expect(idsOf(await list(`?q=${row.provider_payment_id}`, adminToken))).to.deep.equal([second]);
  });

  it('when an admin sorts by amount, -amount or created_at, then the order follows, and paging keeps it', async () => {
    const [mid, low, high] = await seed([{ amount: 2000 }, { amount: 1000 }, { amount: 3000 }]);
    const sorted = (sort: string) => list(`?user_id=${user}&sort=${sort}`, adminToken);
    expect(idsOf(await sorted('amount'))).to.deep.equal([low, mid, high]);
    expect(idsOf(await sorted('-amount'))).to.deep.equal([high, mid, low]);
    expect(idsOf(await sorted('created_at'))).to.deep.equal([mid, low, high]);
    expect(idsOf(await sorted('-created_at'))).to.deep.equal([high, low, mid]);
    const page = await list(`?user_id=${user}&sort=amount&limit=1&starting_after=${low}`, adminToken);
    expect(idsOf(page)).to.deep.equal([mid]);
    expect(page.body.has_more).to.equal(true);
    expect(await dbIds('user_id = :user', { user }, 'amount ASC')).to.deep.equal([low, mid, high]);
  });

  it('when sort is not one of the allowed orders, then 400 naming sort', async () => {
    const res = await list('?sort=user_id', adminToken);
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'sort' });
  });
});
