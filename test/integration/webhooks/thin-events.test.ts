import { expect } from 'chai';
import type { Express } from 'express';
import type { Container } from '../../../src/container';
import { expectApiError } from '../../helpers/api-error';
import { rows } from '../../helpers/database';
import { postWebhook, serialize, signed, stripeId } from '../../helpers/stripe-events';
import { buildTestApp } from '../../helpers/test-app';
import { storedEvent } from '../../helpers/webhook-payments';

/**
 * A thin event as Stripe documents it (https://docs.stripe.com/api/v2/core/events/object): no
 * snapshot, a `related_object` reference, an RFC 3339 `created`, and `context` for connected accounts.
 */
function thinEvent(type: string, related: { id: string; type: string; url: string }, created = '2026-11-29T10:20:52.246Z') {
  return {
    id: `evt_test_${stripeId('65R9').slice(5)}`,
    object: 'v2.core.event',
    type,
    livemode: false,
    created,
    context: null,
    reason: { type: 'request', request: { id: 'req_v24sUK2aV6o01RdVU', idempotency_key: 'fe21992d-e123-3f8c-bc90-fec93712bcb2' } },
    related_object: related,
  };
}

describe('POST /v1/webhooks/stripe with thin events and signed bodies that are not events', () => {
  let app: Express;
  let container: Container;

  before(() => {
    ({ app, container } = buildTestApp());
  });

  const storedCount = async () => Number((await rows<{ n: string }>('SELECT count(*) AS n FROM webhook_events'))[0].n);

  it('when a correctly signed v2 thin event (v2.core.event, related_object, no data.object) arrives, then 200 and it is stored as ignored (unhandled_thin_event), never queued', async () => {
    const meterId = stripeId('mtr');
    const event = thinEvent('v1.billing.meter.error_report_triggered', { id: meterId, type: 'billing.meter', url: `/v1/billing/meters/${meterId}` });
    const body = serialize(event);

    const res = await postWebhook(app, body, signed(body));

    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.equal({ received: true, id: event.id, duplicate: false });
    const row = await storedEvent(event.id);
    expect(row).to.include({
      type: 'v1.billing.meter.error_report_triggered',
      state: 'ignored',
      outcome: 'unhandled_thin_event',
      signature_verified: true,
      object_id: meterId,
      payment_id: null,
      livemode: false,
      account: null,
      attempts: 0,
    });
    expect(Number(row!.provider_created)).to.equal(Math.floor(Date.parse('2026-11-29T10:20:52.246Z') / 1000));
    expect(row!.payload).to.equal(body);
    await container.webhooks.worker.drain();
    expect(await storedEvent(event.id)).to.include({ state: 'ignored', attempts: 0 });
  });

  it('when a thin notification for a v1 resource (a PaymentIntent) arrives, then 200, stored as unhandled, and no payment is looked up or moved', async () => {
    const intentId = stripeId('pi');
    const event = thinEvent('v1.payment_intent.succeeded', { id: intentId, type: 'payment_intent', url: `/v1/payment_intents/${intentId}` });
    const body = serialize(event);

    const res = await postWebhook(app, body, signed(body));

    expect(res.status, res.text).to.equal(200);
    expect(await storedEvent(event.id)).to.include({ state: 'ignored', outcome: 'unhandled_thin_event', object_id: intentId });
  });

  it('when the same thin event is delivered again, then 200 duplicate and still one row', async () => {
    const event = thinEvent('v2.core.event_destination.ping', { id: stripeId('ed'), type: 'v2.core.event_destination', url: '/v2/core/event_destinations/ed' });
    const body = serialize(event);
    expect((await postWebhook(app, body, signed(body))).status).to.equal(200);

    const again = await postWebhook(app, body, signed(body));

    expect(again.status, again.text).to.equal(200);
    expect(again.body).to.deep.equal({ received: true, id: event.id, duplicate: true });
    expect(await rows('SELECT id FROM webhook_events WHERE id = :id', { id: event.id })).to.have.length(1);
  });

  it('when a thin event is signed with another secret, then 400 signature_invalid (the refusal above is about the signature only)', async () => {
    const event = thinEvent('v1.billing.meter.error_report_triggered', { id: stripeId('mtr'), type: 'billing.meter', url: '/v1/billing/meters/mtr' });
    const body = serialize(event);
    const before = await storedCount();

    const res = await postWebhook(app, body, signed(body, 'whsec_someone_else'));

    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'signature_invalid' });
    expect(await storedEvent(event.id)).to.equal(undefined);
    expect(await storedCount()).to.equal(before);
  });

  it('when a correctly signed body is JSON but no event (no id or type, or a v1 event without data.object), then 400 event_invalid, never signature_invalid, and nothing is stored', async () => {
    const before = await storedCount();
    const bodies = ['null', '[]', '"evt"', '{"id": "evt_no_type"}', '{"id": "evt_no_data", "object": "event", "type": "payment_intent.succeeded", "data": {}}'];
    for (const body of bodies) {
      const res = await postWebhook(app, body, signed(body));
      expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'event_invalid' });
      expect(res.body.error.param, body).to.equal(undefined);
    }
    expect(await storedEvent('evt_no_type')).to.equal(undefined);
    expect(await storedEvent('evt_no_data')).to.equal(undefined);
    expect(await storedCount()).to.equal(before);
  });

  it('when a correctly signed body is not JSON, then 400 invalid_json, never signature_invalid', async () => {
    const body = '{"id": "evt_broken", "object": "v2.core.event", ';
    const res = await postWebhook(app, body, signed(body));
    expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'invalid_json' });
    expect(await storedEvent('evt_broken')).to.equal(undefined);
  });
});
