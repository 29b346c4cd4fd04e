import { AppError } from '../../shared/errors';
import { outOfScope, type EventScope } from './event-scope';
import { handlerFor, paymentIdFromMetadata } from './handlers';
import { intentIdOf } from './handlers/find-event-payment';
import type { StripeObject } from './handlers/handler.types';
import type { NewWebhookEvent } from './webhook-event.repository';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A thin event: Stripe's `v2.core.event` (https://docs.stripe.com/event-destinations#thin-events),
 * also sent for v1 resources, carries `related_object` (id, type, url) and no snapshot in
 * `data.object`; its `created` is an RFC 3339 time and `context` names a connected account.
 */
function isThin(event: Record<string, unknown>): boolean {
  return event.object === 'v2.core.event' || (!isRecord(isRecord(event.data) ? event.data.object : undefined) && isRecord(event.related_object));
}

/** The snapshot object of a stored event's payload (`data.object`), or null for a thin event. */
export function snapshotObject(payload: string): StripeObject | null {
  const event = JSON.parse(payload) as unknown;
  if (!isRecord(event) || isThin(event) || !isRecord(event.data) || !isRecord(event.data.object)) return null;
  return event.data.object as StripeObject;
}

/** Unix seconds from a v1 `created` (seconds) or a thin event's RFC 3339 time; now when neither. */
function createdSeconds(created: unknown): number {
  if (typeof created === 'number' && Number.isFinite(created)) return Math.floor(created);
  const parsed = typeof created === 'string' ? Date.parse(created) : Number.NaN;
  return Number.isFinite(parsed) ? Math.floor(parsed / 1000) : Math.floor(Date.now() / 1000);
}

/**
 * The columns of one verified, parsed delivery and whether it needs processing at all: snapshot
 * events of a handled type, in our mode and account, for a payment of ours, are queued; the rest are
 * stored as ignored with the reason in `outcome`. Throws AppError `event_invalid` for a signed body
 * that is no Stripe event (no id or type, or a v1 event without `data.object`): 400, nothing stored.
 */
export function describeEvent(event: unknown, rawBody: Buffer, source: 'webhook' | 'simulate', scope: EventScope): NewWebhookEvent {
  if (!isRecord(event) || typeof event.id !== 'string' || !event.id || typeof event.type !== 'string' || !event.type) {
    throw new AppError('event_invalid', 'The signed body is not a Stripe event: it needs an id and a type');
  }
  const thin = isThin(event);
  const object = isRecord(event.data) ? event.data.object : undefined;
  if (!thin && !isRecord(object)) throw new AppError('event_invalid', 'The signed event has no data.object (nor is it a thin event)');

  const common = {
    id: event.id.slice(0, 255),
    type: event.type.slice(0, 255),
    providerCreated: createdSeconds(event.created),
    apiVersion: typeof event.api_version === 'string' ? event.api_version : null,
    livemode: event.livemode === true,
    payload: rawBody.toString('utf8'),
    signatureVerified: true,
    source,
  };
  if (thin) {
    const related = isRecord(event.related_object) ? event.related_object : {};
    const account = typeof event.context === 'string' && event.context ? event.context : null;
    const notOurs = outOfScope({ livemode: common.livemode, account }, scope);
    return {
      ...common,
      account,
      objectId: typeof related.id === 'string' ? related.id : null,
      paymentId: null,
      orderingKey: null,
      state: 'ignored',
      outcome: notOurs ?? 'unhandled_thin_event',
    };
  }

  const snapshot = object as StripeObject;
  const account = typeof event.account === 'string' && event.account ? event.account : null;
  const handled = handlerFor(event.type) !== undefined;
  const paymentId = paymentIdFromMetadata(snapshot);
  // An intent without our payment id was not made by this service (another integration on the account).
  const noPaymentId = handled && event.type.startsWith('payment_intent.') && !paymentId;
  const notOurs = outOfScope({ livemode: common.livemode, account }, scope);
  return {
    ...common,
    account,
    objectId: typeof snapshot.id === 'string' ? snapshot.id : null,
    paymentId,
    orderingKey: snapshot.object === 'payment_intent' && typeof snapshot.id === 'string' ? snapshot.id : intentIdOf(snapshot),
    state: handled && !noPaymentId && !notOurs ? 'pending' : 'ignored',
    outcome: notOurs ?? (!handled ? 'unhandled_type' : noPaymentId ? 'not_ours' : null),
  };
}
