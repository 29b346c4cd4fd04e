import { expect } from 'chai';
import express, { type Express } from 'express';
import request from 'supertest';
import { createAnalyticsModule } from '../../../src/modules/analytics';
import { PAYMENT_STATUSES, type PaymentStatus } from '../../../src/modules/payments';
import type { Principal } from '../../../src/shared/auth/jwt-verifier';
import { errorHandler } from '../../../src/shared/http/error-handler';
import { requestId } from '../../../src/shared/http/request-id.middleware';
import { newId } from '../../../src/shared/ids';
import { expectApiError } from '../../helpers/api-error';
import { newUserId } from '../../helpers/auth';
import { rows, testDatabase } from '../../helpers/database';

interface Seed {
  amount: number;
  currency: string;
  status: PaymentStatus;
  provider?: 'stripe' | 'mock';
  refunded?: number;
  disputed?: number;
  /** created_at, microseconds allowed. */
  at: string;
}

/**
 * The app wiring (src/app.ts) is not this module's: the router is mounted here the way the app mounts
 * admin routers, with the real request-id middleware and error handler, and a principal set directly.
 */
function appAs(auth: Principal | undefined): Express {
  const app = express();
  app.use(requestId);
  app.use(express.json());
  app.use((req, _res, next) => {
    req.auth = auth;
    next();
  });
  app.use('/v1/admin/analytics', createAnalyticsModule({ sequelize: testDatabase() }).router);
  app.use(errorHandler);
  return app;
}

/** Every status at zero but those given: the API lists them all. */
const counts = (some: Partial<Record<PaymentStatus, number>>) => Object.fromEntries(PAYMENT_STATUSES.map((s) => [s, some[s] ?? 0]));

describe('GET /v1/admin/analytics', () => {
  let app: Express;
  // The database is shared by the whole run: every test inserts rows dated in its own day of 2001 (or
  // 1999), long before anything other suites create, and reads only that day back.
  const owner = newUserId();

  async function seed(payments: Seed[]): Promise<string[]> {
    const ids: string[] = [];
    for (const p of payments) {
      const id = newId('pay');
      await rows(
        `INSERT INTO payments (id, user_id, amount, currency, status, provider, amount_refunded, amount_disputed, created_at)
         VALUES (:id, :owner, :amount, :currency, :status, :provider, :refunded, :disputed, CAST(:at AS timestamptz))`,
        { id, owner, amount: p.amount, currency: p.currency, status: p.status, provider: p.provider ?? 'mock', refunded: p.refunded ?? 0, disputed: p.disputed ?? 0, at: p.at },
      );
      ids.push(id);
    }
    return ids;
  }

  const analytics = (query: Record<string, string>) => request(app).get('/v1/admin/analytics').query(query);

  before(() => {
    app = appAs({ userId: 'admin_analytics', role: 'admin' });
  });
  after(() => rows('DELETE FROM payments WHERE user_id = :owner', { owner }));

  it('when usd and jpy payments fall in the window, then each currency has its own gross, refunded, net, disputed and counts, never mixed', async () => {
    const at = '2001-01-01T12:00:00Z';
    await seed([
      { amount: 2000, currency: 'usd', status: 'succeeded', at },
      { amount: 5000, currency: 'usd', status: 'partially_refunded', refunded: 1500, at },
      { amount: 1000, currency: 'usd', status: 'refunded', refunded: 1000, at },
      { amount: 4000, currency: 'usd', status: 'succeeded', disputed: 4000, at },
      { amount: 3000, currency: 'usd', status: 'failed', at },
      { amount: 700, currency: 'usd', status: 'pending', at },
      { amount: 500, currency: 'jpy', status: 'succeeded', at },
      { amount: 800, currency: 'jpy', status: 'canceled', at },
    ]);

    const res = await analytics({ from: '2001-01-01T00:00:00Z', to: '2001-01-02T00:00:00Z' });

    expect(res.status, res.text).to.equal(200);
    const jpy = { currency: 'jpy', gross: 500, refunded: 0, net: 500, disputed: 0, count: 2, counts: counts({ succeeded: 1, canceled: 1 }), success_rate: 0.5 };
    const usd = {
      currency: 'usd',
      // Failed and pending amounts were never captured; refunds are taken off the net, disputes shown apart.
      gross: 12000,
      refunded: 2500,
      net: 9500,
      disputed: 4000,
      count: 6,
      counts: counts({ pending: 1, succeeded: 2, failed: 1, partially_refunded: 1, refunded: 1 }),
      success_rate: 0.8,
    };
    expect(res.body).to.deep.equal({
      object: 'analytics',
      from: '2001-01-01T00:00:00.000Z',
      to: '2001-01-02T00:00:00.000Z',
      currencies: [jpy, usd],
      providers: [
        { provider: 'mock', ...jpy },
        { provider: 'mock', ...usd },
      ],
    });
  });

  it('when no payment has succeeded, failed or been canceled, then success_rate is null; otherwise it is rounded to 4 decimals', async () => {
    const at = '2001-01-02T12:00:00Z';
    await seed([
      { amount: 1000, currency: 'eur', status: 'pending', at },
      { amount: 1000, currency: 'eur', status: 'requires_action', at },
      { amount: 1000, currency: 'eur', status: 'processing', at },
      { amount: 100, currency: 'gbp', status: 'succeeded', at },
      { amount: 200, currency: 'gbp', status: 'refunded', refunded: 200, at },
      { amount: 300, currency: 'gbp', status: 'failed', at },
    ]);

    const res = await analytics({ from: '2001-01-02T00:00:00Z', to: '2001-01-03T00:00:00Z' });

    expect(res.status, res.text).to.equal(200);
    expect(res.body.currencies).to.deep.equal([
      { currency: 'eur', gross: 0, refunded: 0, net: 0, disputed: 0, count: 3, counts: counts({ pending: 1, requires_action: 1, processing: 1 }), success_rate: null },
      { currency: 'gbp', gross: 300, refunded: 200, net: 100, disputed: 0, count: 3, counts: counts({ succeeded: 1, refunded: 1, failed: 1 }), success_rate: 0.6667 },
    ]);
  });

  it('when payments were made with both providers, then providers splits each currency and the splits add up to the currency totals', async () => {
    const at = '2001-01-03T12:00:00Z';
    await seed([
      { amount: 1000, currency: 'usd', status: 'succeeded', provider: 'stripe', at },
      { amount: 2500, currency: 'usd', status: 'partially_refunded', provider: 'stripe', refunded: 500, at },
      { amount: 500, currency: 'usd', status: 'failed', provider: 'stripe', at },
      { amount: 300, currency: 'usd', status: 'refunded', provider: 'mock', refunded: 300, at },
      { amount: 900, currency: 'eur', status: 'canceled', provider: 'stripe', at },
    ]);

    const res = await analytics({ from: '2001-01-03T00:00:00Z', to: '2001-01-04T00:00:00Z' });

    expect(res.status, res.text).to.equal(200);
    expect(res.body.currencies.map((c: { currency: string }) => c.currency)).to.deep.equal(['eur', 'usd']);
    expect(res.body.currencies[1]).to.deep.equal({
      currency: 'usd', gross: 3800, refunded: 800, net: 3000, disputed: 0, count: 4,
      counts: counts({ succeeded: 1, partially_refunded: 1, failed: 1, refunded: 1 }), success_rate: 0.75,
    });
    expect(res.body.providers).to.deep.equal([
      { provider: 'stripe', currency: 'eur', gross: 0, refunded: 0, net: 0, disputed: 0, count: 1, counts: counts({ canceled: 1 }), success_rate: 0 },
      { provider: 'mock', currency: 'usd', gross: 300, refunded: 300, net: 0, disputed: 0, count: 1, counts: counts({ refunded: 1 }), success_rate: 1 },
      {
        provider: 'stripe', currency: 'usd', gross: 3500, refunded: 500, net: 3000, disputed: 0, count: 3,
        counts: counts({ succeeded: 1, partially_refunded: 1, failed: 1 }), success_rate: 0.6667,
      },
    ]);
    for (const total of res.body.currencies) {
      const splits = res.body.providers.filter((p: { currency: string }) => p.currency === total.currency);
      for (const field of ['gross', 'refunded', 'net', 'disputed', 'count']) {
        expect(splits.reduce((n: number, p: Record<string, number>) => n + p[field], 0), `${total.currency} ${field}`).to.equal(total[field]);
      }
    }
  });

  it('when payments sit on the window edges, then from is inclusive and to exclusive, to the microsecond', async () => {
    await seed([
      { amount: 1, currency: 'usd', status: 'succeeded', at: '2001-01-09T23:59:59.999999Z' }, // just before: out
      { amount: 10, currency: 'usd', status: 'succeeded', at: '2001-01-10T00:00:00Z' }, // on from: in
      { amount: 100, currency: 'usd', status: 'succeeded', at: '2001-01-10T23:59:59.999999Z' }, // just before to: in
      { amount: 1000, currency: 'usd', status: 'succeeded', at: '2001-01-11T00:00:00Z' }, // on to: out
    ]);

    // The same instants written with an offset: the answer echoes them in UTC.
    const day = await analytics({ from: '2001-01-10T01:00:00+01:00', to: '2001-01-11T00:00:00.000Z' });
    const nextDay = await analytics({ from: '2001-01-11T00:00:00Z', to: '2001-01-12T00:00:00Z' });
    const empty = await analytics({ from: '2001-01-10T00:00:00Z', to: '2001-01-10T00:00:00Z' });

    expect(day.status, day.text).to.equal(200);
    expect(day.body).to.include({ from: '2001-01-10T00:00:00.000Z', to: '2001-01-11T00:00:00.000Z' });
    expect(day.body.currencies).to.have.length(1);
    expect(day.body.currencies[0]).to.include({ currency: 'usd', gross: 110, count: 2 });
    // Consecutive windows share their edge and still count the payment on it once.
    expect(nextDay.body.currencies[0]).to.include({ currency: 'usd', gross: 1000, count: 1 });
    expect(empty.body).to.deep.include({ currencies: [], providers: [] });
  });

  it('when only to is given, then everything before it counts and from is null; with neither, every payment counts', async () => {
    await seed([
      { amount: 4200, currency: 'chf', status: 'succeeded', at: '1999-06-01T00:00:00Z' },
      { amount: 100, currency: 'chf', status: 'failed', at: '1999-12-31T23:59:59Z' },
    ]);

    const before2000 = await analytics({ to: '2000-01-01T00:00:00Z' });
    const everything = await analytics({});

    expect(before2000.status, before2000.text).to.equal(200);
    expect(before2000.body).to.include({ from: null, to: '2000-01-01T00:00:00.000Z' });
    expect(before2000.body.currencies).to.deep.equal([
      { currency: 'chf', gross: 4200, refunded: 0, net: 4200, disputed: 0, count: 2, counts: counts({ succeeded: 1, failed: 1 }), success_rate: 0.5 },
    ]);
    expect(everything.status, everything.text).to.equal(200);
    expect(everything.body).to.include({ from: null, to: null });
    // The whole table, other suites' rows included: checked against a plain per-currency count.
    const table = await rows<{ currency: string; count: string }>('SELECT currency, count(*) AS count FROM payments GROUP BY currency ORDER BY currency');
    expect(everything.body.currencies.map((c: { currency: string; count: number }) => ({ currency: c.currency, count: String(c.count) }))).to.deep.equal(table);
  });

  it('when filtered by currency, provider or both, then only those payments are totalled', async () => {
    const at = '2001-01-06T12:00:00Z';
    await seed([
      { amount: 1000, currency: 'usd', status: 'succeeded', provider: 'stripe', at },
      { amount: 2000, currency: 'usd', status: 'succeeded', provider: 'mock', at },
      { amount: 3000, currency: 'jpy', status: 'succeeded', provider: 'stripe', at },
    ]);
    const window = { from: '2001-01-06T00:00:00Z', to: '2001-01-07T00:00:00Z' };
    const grossOf = (body: { currencies: Array<{ currency: string; gross: number }> }) => body.currencies.map((c) => [c.currency, c.gross]);
    const providersOf = (body: { providers: Array<{ provider: string; currency: string }> }) => body.providers.map((p) => `${p.provider}/${p.currency}`);

    const jpy = await analytics({ ...window, currency: 'jpy' });
    const stripe = await analytics({ ...window, provider: 'stripe' });
    const usdMock = await analytics({ ...window, currency: 'usd', provider: 'mock' });

    expect(jpy.status, jpy.text).to.equal(200);
    expect(grossOf(jpy.body)).to.deep.equal([['jpy', 3000]]);
    expect(providersOf(jpy.body)).to.deep.equal(['stripe/jpy']);
    expect(grossOf(stripe.body)).to.deep.equal([['jpy', 3000], ['usd', 1000]]);
    expect(providersOf(stripe.body)).to.deep.equal(['stripe/jpy', 'stripe/usd']);
    expect(grossOf(usdMock.body)).to.deep.equal([['usd', 2000]]);
    expect(providersOf(usdMock.body)).to.deep.equal(['mock/usd']);
  });

  it('when from or to is not an ISO 8601 date-time, then 400 parameter_invalid naming it', async () => {
    expectApiError(await analytics({ from: 'yesterday' }), { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'from' });
    expectApiError(await analytics({ to: '2001-13-01T00:00:00Z' }), { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'to' });
    // A date without a time is ambiguous (whose midnight?): refused rather than guessed.
    expectApiError(await analytics({ from: '2001-01-01' }), { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'from' });
    const repeated = await request(app).get('/v1/admin/analytics?from=2001-01-01T00:00:00Z&from=2001-01-02T00:00:00Z');
    expectApiError(repeated, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'from' });
  });

  it('when from is after to, then 400 parameter_invalid naming from', async () => {
    const res = await analytics({ from: '2001-01-02T00:00:00Z', to: '2001-01-01T00:00:00Z' });
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'from' });
    expect(res.body.error.message).to.equal('from must not be after to');
  });

  it('when the currency or provider filter is not one we know, then 400 naming it', async () => {
    expectApiError(await analytics({ currency: 'USD' }), { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'currency' });
    expectApiError(await analytics({ currency: 'xyz' }), { status: 400, type: 'invalid_request_error', code: 'currency_not_supported', param: 'currency' });
    expectApiError(await analytics({ provider: 'paypal' }), { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'provider' });
  });

  it('when an unknown parameter is sent, then 400 parameter_unknown naming it, even beside valid ones', async () => {
    const res = await analytics({ from: '2001-01-01T00:00:00Z', user_id: 'u_1' });
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_unknown', param: 'user_id' });
  });

  it('when the caller is not an admin, then 403 permission_denied even if the router is mounted without the admin guard', async () => {
    const asCustomer = await request(appAs({ userId: 'u_customer', role: 'customer' })).get('/v1/admin/analytics');
    expectApiError(asCustomer, { status: 403, type: 'permission_error', code: 'permission_denied' });
    const anonymous = await request(appAs(undefined)).get('/v1/admin/analytics');
    expectApiError(anonymous, { status: 403, type: 'permission_error', code: 'permission_denied' });
  });
});
