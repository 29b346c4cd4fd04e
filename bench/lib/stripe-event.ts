import { createHmac, randomUUID } from 'node:crypto';

/** The size of the signed events the webhook scenarios send: about a real `payment_intent.succeeded`. */
export const EVENT_BYTES = 3 * 1024;

/** Stripe's scheme (https://docs.stripe.com/webhooks#verify-manually): `t=<unix s>,v1=HMAC-SHA256(secret, "<t>.<body>")`. */
export function signStripe(body: string, secret: string): string {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * A unique `payment_intent.succeeded` event (new `evt_` id each call) for `payment`, shaped like the
 * Stripe object in /work/shared/fixtures/stripe/objects/payment_intent.json with a filled-in charge,
 * shipping and card options, padded in `metadata` to EVENT_BYTES of compact JSON.
 */
export function succeededEvent(payment: { id: string; providerPaymentId: string }): string {
  const pi = payment.providerPaymentId;
  const now = Math.floor(Date.now() / 1000);
  const event = {
    id: `evt_${randomUUID().replace(/-/g, '')}`,
    object: 'event',
    api_version: '2025-09-30.clover',
    created: now,
    livemode: false,
    pending_webhooks: 1,
    request: { id: `req_${randomUUID().replace(/-/g, '').slice(0, 14)}`, idempotency_key: `${payment.id}:create` },
    type: 'payment_intent.succeeded',
    data: {
      object: {
        id: pi,
        object: 'payment_intent',
        amount: 2000,
        amount_capturable: 0,
        amount_details: { tip: {} },
        amount_received: 2000,
        application: null,
        application_fee_amount: null,
        automatic_payment_methods: null,
        canceled_at: null,
        cancellation_reason: null,
        capture_method: 'automatic',
        client_secret: `${pi}_secret_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
        confirmation_method: 'automatic',
        created: now - 1,
        currency: 'usd',
        customer: null,
        description: 'Order payment',
        last_payment_error: null,
        latest_charge: `ch_${pi.slice(3)}`,
        livemode: false,
        metadata: { payment_id: payment.id, pad: '' },
        next_action: null,
        on_behalf_of: null,
        payment_method: 'pm_1PgafxB7WZ01zgkWxWk9k2Vh',
        payment_method_configuration_details: null,
        payment_method_options: {
          card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
        },
        payment_method_types: ['card'],
        processing: null,
        receipt_email: 'jenny.rosen@example.com',
        review: null,
        setup_future_usage: null,
        shipping: {
          address: { city: 'San Francisco', country: 'US', line1: '510 Townsend St', line2: null, postal_code: '94103', state: 'CA' },
          carrier: null,
          name: 'Jenny Rosen',
          phone: null,
          tracking_number: null,
        },
        source: null,
        statement_descriptor: null,
        statement_descriptor_suffix: null,
        status: 'succeeded',
        transfer_data: null,
        transfer_group: null,
      },
    },
  };
  const bare = JSON.stringify(event).length;
  event.data.object.metadata.pad = 'x'.repeat(Math.max(0, EVENT_BYTES - bare));
  return JSON.stringify(event);
}
