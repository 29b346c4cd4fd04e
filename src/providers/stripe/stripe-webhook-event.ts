import { WebhookEventError, type PaymentProvider, type ProviderWebhookEvent, type WebhookVerification } from '../payment-provider';
import { toProviderIntent } from './stripe-mappers';
import { SignatureError, signStripePayload, verifyStripeSignature } from './stripe-webhook-signature';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A thin event: Stripe's `v2.core.event` (https://docs.stripe.com/event-destinations#thin-events),
 * also sent for v1 resources, carries `related_object` (id, type, url) and no snapshot in
 * `data.object`; its `created` is an RFC 3339 time and `context` names a connected account.
 */
function isThin(event: Record<string, unknown>): boolean {
  return event.object === 'v2.core.event' || (!isRecord(isRecord(event.data) ? event.data.object : undefined) && isRecord(event.related_object));
}

/** Unix seconds from a v1 `created` (seconds) or a thin event's RFC 3339 time; now when neither. */
function createdSeconds(created: unknown): number {
  if (typeof created === 'number' && Number.isFinite(created)) return Math.floor(created);
  const parsed = typeof created === 'string' ? Date.parse(created) : Number.NaN;
  return Number.isFinite(parsed) ? Math.floor(parsed / 1000) : Math.floor(Date.now() / 1000);
}

/**
 * A Stripe event (v1 snapshot or thin) read into a ProviderWebhookEvent; `payload` is its text.
 * @throws WebhookEventError `event_invalid` for JSON that is no Stripe event (no id or type, or a
 * v1 event without `data.object`).
 */
export function readStripeEvent(event: unknown, payload: string): ProviderWebhookEvent {
  if (!isRecord(event) || typeof event.id !== 'string' || !event.id || typeof event.type !== 'string' || !event.type) {
    throw new WebhookEventError('event_invalid', 'The signed body is not a Stripe event: it needs an id and a type');
  }
  const thin = isThin(event);
  const object = isRecord(event.data) ? event.data.object : undefined;
  if (!thin && !isRecord(object)) throw new WebhookEventError('event_invalid', 'The signed event has no data.object (nor is it a thin event)');
  const common = {
    id: event.id,
    type: event.type,
    created: createdSeconds(event.created),
    apiVersion: typeof event.api_version === 'string' ? event.api_version : null,
    livemode: event.livemode === true,
    payload,
  };
  if (thin) {
    const related = isRecord(event.related_object) ? event.related_object : {};
    return {
      ...common,
      account: typeof event.context === 'string' && event.context ? event.context : null,
      object: null,
      relatedObjectId: typeof related.id === 'string' ? related.id : null,
    };
  }
  return {
    ...common,
    account: typeof event.account === 'string' && event.account ? event.account : null,
    object: object as ProviderWebhookEvent['object'],
    relatedObjectId: null,
  };
}

/**
 * Verifies a delivery (`Stripe-Signature` over the raw bytes, see `verifyStripeSignature`), then
 * parses and reads it. Each step has its own error, so a signed body is never called badly signed
 * because of what it says. @throws WebhookEventError `signature_invalid`, `invalid_json` or `event_invalid`
 */
export function verifyStripeEvent(rawBody: Buffer, header: string | undefined, verification: WebhookVerification): ProviderWebhookEvent {
  try {
    verifyStripeSignature(rawBody, header, verification.secrets, verification.toleranceSeconds);
  } catch (err) {
    if (err instanceof SignatureError) throw new WebhookEventError('signature_invalid', `Webhook signature verification failed: ${err.message}`);
    throw err;
  }
  const payload = rawBody.toString('utf8');
  let event: unknown;
  try {
    event = JSON.parse(payload) as unknown;
  } catch {
    throw new WebhookEventError('invalid_json', 'The webhook body is signed but is not valid JSON');
  }
  return readStripeEvent(event, payload);
}

/**
 * The webhook half of `PaymentProvider` for Stripe-shaped events: the Stripe provider's, and the
 * mock's (its events are Stripe's shape, signed the way Stripe signs them).
 */
export const stripeWebhookEvents: Pick<PaymentProvider, 'verifyWebhookEvent' | 'readEvent' | 'signWebhookPayload' | 'intentFromEvent'> = {
  verifyWebhookEvent: verifyStripeEvent,
  readEvent: (event) => readStripeEvent(event, JSON.stringify(event)),
  signWebhookPayload: (payload, secret) => signStripePayload(payload, secret),
  intentFromEvent: (object) => toProviderIntent(object as never),
};
