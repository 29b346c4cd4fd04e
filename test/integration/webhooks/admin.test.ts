import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { newId } from '../../../src/shared/ids';
import { expectApiError } from '../../helpers/api-error';
import { bearer, newUserId, tokenFor } from '../../helpers/auth';
import { deliver, paymentIntentEvent, stripeEvent, stripeId, type StripeEvent } from '../../helpers/stripe-events';
import { buildTestApp } from '../../helpers/test-app';
import { rows } from '../../helpers/database';
import { createPayment, historyOf, outboxTypes, storedEvent } from '../../helpers/webhook-payments';
import customerFixture from '../../fixtures/stripe/objects/customer.json';

describe('GET /v1/admin/webhook-events and replay', () => {
  let app: Express;
  let container: Container;
  const admin = tokenFor(newUserId(), 'admin');
  const customer = tokenFor(newUserId());

  before(() => {
    ({ app, container } = buildTestApp());
  });

  /** Events of a type no other test sends, so the list is exactly what this test stored. */
  async function storeEventsOfOwnType(count: number): Promise<{ type: string; events: StripeEvent[] }> {
    const type = `test_admin.${randomBytes(6).toString('hex')}`;
    const events: StripeEvent[] = [];
    for (let i = 0; i < count; i += 1) {
      const event = stripeEvent(type, { ...structuredClone(customerFixture), id: stripeId('cus') } as never);
      expect((await deliver(app, event)).status).to.equal(200);
      events.push(event);
    }
    return { type, events };
  }

  const list = (query: Record<string, string | number>, token = admin) => request(app).get('/v1/admin/webhook-events').query(query).set(bearer(token));

  it('when an admin filters by type, then exactly those events come, newest first, with their processing state and parsed payload', async () => {
    const { type, events } = await storeEventsOfOwnType(3);

    const res = await list({ type });

    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ object: 'list', has_more: false });
    expect(res.body.data.map((e: { id: string }) => e.id)).to.deep.equal(events.map((e) => e.id).reverse());
    expect(res.body.data[0]).to.include({ object: 'webhook_event', type, state: 'ignored', outcome: 'unhandled_type', source: 'webhook', signature_verified: true });
    expect(res.body.data[0].payload).to.deep.equal(events[2]);
  });

  it('when an admin pages with limit and starting_after, then every event comes once and has_more tells when to stop', async () => {
    const { type, events } = await storeEventsOfOwnType(3);

    const first = await list({ type, limit: 2 });
    const second = await list({ type, limit: 2, starting_after: first.body.data[1].id });

    expect(first.body.has_more).to.equal(true);
    expect(second.body.has_more).to.equal(false);
    const seen = [...first.body.data, ...second.body.data].map((e: { id: string }) => e.id);
    expect(seen).to.deep.equal(events.map((e) => e.id).reverse());
  });

  it('when an admin filters by state, then only events in that state come', async () => {
    const waiting = paymentIntentEvent('payment_intent.succeeded', { paymentId: newId('pay'), intentId: stripeId('pi'), status: 'succeeded' });
    await deliver(app, waiting);
    await container.webhooks.worker.drain();
    const { type, events } = await storeEventsOfOwnType(1);
    expect(await storedEvent(waiting.id)).to.include({ state: 'retrying' });

    const retrying = await list({ state: 'retrying', limit: 100 });
    const ignoredOfType = await list({ state: 'ignored', type });
    const pendingOfType = await list({ state: 'pending', type });

    expect(retrying.status).to.equal(200);
    expect(retrying.body.data.every((e: { state: string }) => e.state === 'retrying')).to.equal(true);
    expect(retrying.body.data.map((e: { id: string }) => e.id)).to.include(waiting.id).and.not.include(events[0].id);
    expect(retrying.body.data.find((e: { id: string }) => e.id === waiting.id)).to.include({ attempts: 1 }).and.have.property('next_attempt_at').that.is.a('string');
    expect(ignoredOfType.body.data.map((e: { id: string }) => e.id)).to.deep.equal([events[0].id]);
    expect(pendingOfType.body.data).to.deep.equal([]);
  });

  it('when an admin reads one event, then it is shown; an unknown id is 404', async () => {
    const { events } = await storeEventsOfOwnType(1);
    const found = await request(app).get(`/v1/admin/webhook-events/${events[0].id}`).set(bearer(admin));
    expect(found.status).to.equal(200);
    expect(found.body).to.include({ id: events[0].id, state: 'ignored' });
    const missing = await request(app).get('/v1/admin/webhook-events/evt_does_not_exist').set(bearer(admin));
    expectApiError(missing, { status: 404, type: 'not_found', code: 'resource_missing', param: 'id' });
  });

  it('when the state filter is not a state, then 400 naming state', async () => {
    const res = await list({ state: 'done' });
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'parameter_invalid', param: 'state' });
  });

  it('when a customer lists events or replays one, then 403 permission_error and nothing is replayed', async () => {
    const { events } = await storeEventsOfOwnType(1);
    const listed = await list({}, customer);
    expectApiError(listed, { status: 403, type: 'permission_error', code: 'permission_denied' });
    const replayed = await request(app).post(`/v1/admin/webhook-events/${events[0].id}/replay`).set(bearer(customer)).send({});
    expectApiError(replayed, { status: 403, type: 'permission_error', code: 'permission_denied' });
    expect(await storedEvent(events[0].id)).to.include({ state: 'ignored', attempts: 0 });
  });

  it('when no token is sent, then 401', async () => {
    const res = await request(app).get('/v1/admin/webhook-events');
    expectApiError(res, { status: 401, type: 'authentication_error', code: 'token_missing' });
  });

  it('when an admin replays an unknown event id, then 404 resource_missing', async () => {
    const res = await request(app).post('/v1/admin/webhook-events/evt_nope_123/replay').set(bearer(admin)).send({});
    expectApiError(res, { status: 404, type: 'not_found', code: 'resource_missing', param: 'id' });
    expect(await storedEvent('evt_nope_123')).to.equal(undefined);
  });

  it('when an admin replays an event that was already applied, then it is applied again with no second effect', async () => {
    const owner = tokenFor(newUserId());
    const payment = await createPayment(app, owner);
    const event = paymentIntentEvent('payment_intent.succeeded', { paymentId: payment.id, intentId: payment.provider_payment_id, status: 'succeeded' });
    await deliver(app, event);
    await container.webhooks.worker.drain();
    expect(await storedEvent(event.id)).to.include({ state: 'processed', outcome: 'moved' });

    const res = await request(app).post(`/v1/admin/webhook-events/${event.id}/replay`).set(bearer(admin)).send({});

    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ id: event.id, state: 'processed', outcome: 'unchanged', attempts: 1 });
    expect((await historyOf(payment.id)).filter((m) => m.to_status === 'succeeded')).to.have.length(1);
    expect((await outboxTypes(payment.id)).filter((t) => t === 'payment.succeeded')).to.have.length(1);
  });

  it('when an admin replays an event a worker is applying right now, then 409 and the claim is left alone', async () => {
    const { events } = await storeEventsOfOwnType(1);
    await rows(`UPDATE webhook_events SET state = 'processing', locked_until = now() + interval '1 minute' WHERE id = :id`, { id: events[0].id });

    const res = await request(app).post(`/v1/admin/webhook-events/${events[0].id}/replay`).set(bearer(admin)).send({});

    expectApiError(res, { status: 409, type: 'conflict', code: 'webhook_event_not_replayable' });
    expect(await storedEvent(events[0].id)).to.include({ state: 'processing', attempts: 0 });
    await rows(`UPDATE webhook_events SET state = 'ignored', locked_until = NULL WHERE id = :id`, { id: events[0].id });
  });

  it('when an admin replays an event of a type we do not handle, then it is run again and stays ignored', async () => {
    const { events } = await storeEventsOfOwnType(1);
    const res = await request(app).post(`/v1/admin/webhook-events/${events[0].id}/replay`).set(bearer(admin)).send({});
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ id: events[0].id, state: 'ignored', outcome: 'unhandled_type', attempts: 1 });
    expect(await storedEvent(events[0].id)).to.include({ state: 'ignored', attempts: 1 });
  });
});
