import { expect } from 'chai';
import type { Express } from 'express';
import { expectApiError } from '../../helpers/api-error';
import { rows } from '../../helpers/database';
import { hmac, nowSeconds, paymentIntentEvent, postWebhook, serialize, signed, stripeId, type StripeEvent } from '../../helpers/stripe-events';
import { buildTestApp, TEST_WEBHOOK_SECRET } from '../../helpers/test-app';
import { newId } from '../../../src/shared/ids';

describe('POST /v1/webhooks/stripe signature verification', () => {
  let app: Express;

  before(() => {
    app = buildTestApp().app;
  });

  /** An event for a payment that does not exist: enough to be stored if the signature passed. */
  const anEvent = (): StripeEvent =>
    paymentIntentEvent('payment_intent.succeeded', { paymentId: newId('pay'), intentId: stripeId('pi'), status: 'succeeded' });

  const storedCount = async (id: string) => (await rows('SELECT id FROM webhook_events WHERE id = :id', { id })).length;
  const allStoredCount = async () => Number((await rows<{ n: string }>('SELECT count(*) AS n FROM webhook_events'))[0].n);

  async function expectRefused(body: string | Buffer, signature: string | undefined, code = 'signature_invalid', eventId?: string) {
    const before = await allStoredCount();
    const res = await postWebhook(app, body, signature);
    expectApiError(res, { status: 400, type: 'invalid_request_error', code });
    if (code === 'signature_invalid') expect(res.body.error.param).to.equal('Stripe-Signature');
    if (eventId) expect(await storedCount(eventId)).to.equal(0);
    expect(await allStoredCount()).to.equal(before);
    return res;
  }

  it('when the signature is made with another secret, then 400 signature_invalid and nothing is stored', async () => {
    const event = anEvent();
    const body = serialize(event);
    await expectRefused(body, signed(body, 'whsec_someone_else'), 'signature_invalid', event.id);
  });

  it('when one byte of the signed body is changed, then 400 and nothing is stored', async () => {
    const event = anEvent();
    const body = serialize(event);
    const header = signed(body);
    const tampered = Buffer.from(body, 'utf8');
    const at = tampered.indexOf('2000'); // the amount
    tampered[at] = '9'.charCodeAt(0);
    await expectRefused(tampered, header, 'signature_invalid', event.id);
  });

  it('when there is no Stripe-Signature header, then 400 and nothing is stored', async () => {
    const event = anEvent();
    await expectRefused(serialize(event), undefined, 'signature_invalid', event.id);
  });

  it('when the header has a timestamp but no v1 signature, then 400 and nothing is stored', async () => {
    const event = anEvent();
    const body = serialize(event);
    const t = nowSeconds();
    await expectRefused(body, `t=${t}`, 'signature_invalid', event.id);
    // v0 (Stripe's test scheme) alone is not accepted either.
    await expectRefused(body, `t=${t},v0=${hmac(body, TEST_WEBHOOK_SECRET, t)}`, 'signature_invalid', event.id);
  });

  it('when the timestamp is 301 s old (tolerance 300 s), then 400 even though the HMAC is right', async () => {
    const event = anEvent();
    const body = serialize(event);
    await expectRefused(body, signed(body, TEST_WEBHOOK_SECRET, nowSeconds() - 301), 'signature_invalid', event.id);
  });

  it('when the timestamp is an hour in the future, then 400 even though the HMAC is right', async () => {
    const event = anEvent();
    const body = serialize(event);
    await expectRefused(body, signed(body, TEST_WEBHOOK_SECRET, nowSeconds() + 3600), 'signature_invalid', event.id);
  });

  it('when the pretty-printed body was signed but a re-serialised one is sent, then 400 (the raw bytes are what is signed)', async () => {
    const event = anEvent();
    const original = serialize(event);
    const reserialised = JSON.stringify(JSON.parse(original));
    expect(reserialised).to.not.equal(original);
    await expectRefused(reserialised, signed(original), 'signature_invalid', event.id);
  });

  it('when the body is not JSON but correctly signed, then 400 invalid_json and nothing is stored', async () => {
    const body = '{"id": "evt_broken", "type": "payment_intent.succeeded", ';
    await expectRefused(body, signed(body), 'invalid_json', 'evt_broken');
  });

  it('when the signature is right and fresh, then the same event is accepted (the refusals above are not blanket refusals)', async () => {
    const event = anEvent();
    const body = serialize(event);
    const res = await postWebhook(app, body, signed(body, TEST_WEBHOOK_SECRET, nowSeconds() - 299));
    expect(res.status, res.text).to.equal(200);
    expect(await storedCount(event.id)).to.equal(1);
  });

  it('when the body is over 1 MB, then 413 body_too_large and nothing is stored', async () => {
    const event = anEvent();
    (event.data.object.metadata as Record<string, string>).padding = 'x'.repeat(1024 * 1024);
    const body = serialize(event);
    const before = await allStoredCount();
    const res = await postWebhook(app, body, signed(body));
    expectApiError(res, { status: 413, type: 'invalid_request_error', code: 'body_too_large' });
    expect(await storedCount(event.id)).to.equal(0);
    expect(await allStoredCount()).to.equal(before);
  });

  describe('with a rolled secret (STRIPE_WEBHOOK_SECRET=whsec_old,whsec_new)', () => {
    let rolled: Express;

    before(() => {
      rolled = buildTestApp({ env: { STRIPE_WEBHOOK_SECRET: 'whsec_old,whsec_new' } }).app;
    });

    for (const secret of ['whsec_old', 'whsec_new']) {
      it(`when an event is signed with ${secret}, then 200 and it is stored`, async () => {
        const event = anEvent();
        const body = serialize(event);
        const res = await postWebhook(rolled, body, signed(body, secret));
        expect(res.status, res.text).to.equal(200);
        expect(res.body).to.include({ received: true, id: event.id, duplicate: false });
        expect(await storedCount(event.id)).to.equal(1);
      });
    }

    it('when an event is signed with neither secret, then 400 and nothing is stored', async () => {
      const event = anEvent();
      const body = serialize(event);
      const res = await postWebhook(rolled, body, signed(body, TEST_WEBHOOK_SECRET));
      expectApiError(res, { status: 400, type: 'invalid_request_error', code: 'signature_invalid' });
      expect(await storedCount(event.id)).to.equal(0);
    });

    it('when Stripe sends one v1 per secret while rolling, then 200 (any matching v1 is enough)', async () => {
      const event = anEvent();
      const body = serialize(event);
      const t = nowSeconds();
      const header = `t=${t},v1=${hmac(body, 'whsec_unknown', t)},v1=${hmac(body, 'whsec_new', t)}`;
      const res = await postWebhook(rolled, body, header);
      expect(res.status, res.text).to.equal(200);
      expect(await storedCount(event.id)).to.equal(1);
    });
  });
});
