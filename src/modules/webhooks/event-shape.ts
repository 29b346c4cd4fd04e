import type { ProviderWebhookEvent } from '../../providers/payment-provider';
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

/**
 * The columns of one verified event (as the provider read it) and whether it needs processing at
 * all: snapshot events of a handled type, in our mode and account, for a payment of ours, are
 * queued; the rest (thin events included) are stored as ignored with the reason in `outcome`.
 */
export function describeEvent(event: ProviderWebhookEvent, source: 'webhook' | 'simulate', scope: EventScope): NewWebhookEvent {
  const { account } = event;
  const common = {
    id: event.id.slice(0, 255),
    type: event.type.slice(0, 255),
    providerCreated: event.created,
    apiVersion: event.apiVersion,
    livemode: event.livemode,
    payload: event.payload,
    signatureVerified: true,
    source,
    account,
  };
  if (!event.object) {
    const notOurs = outOfScope({ livemode: common.livemode, account }, scope);
    return {
      ...common,
      objectId: event.relatedObjectId,
      paymentId: null,
      orderingKey: null,
      state: 'ignored',
      outcome: notOurs ?? 'unhandled_thin_event',
    };
  }

  const snapshot: StripeObject = event.object;
  const handled = handlerFor(event.type) !== undefined;
  const paymentId = paymentIdFromMetadata(snapshot);
  // An intent without our payment id was not made by this service (another integration on the account).
  const noPaymentId = handled && event.type.startsWith('payment_intent.') && !paymentId;
  const notOurs = outOfScope({ livemode: common.livemode, account }, scope);
  return {
    ...common,
    objectId: typeof snapshot.id === 'string' ? snapshot.id : null,
    paymentId,
    orderingKey: snapshot.object === 'payment_intent' && typeof snapshot.id === 'string' ? snapshot.id : intentIdOf(snapshot),
    state: handled && !noPaymentId && !notOurs ? 'pending' : 'ignored',
    outcome: notOurs ?? (!handled ? 'unhandled_type' : noPaymentId ? 'not_ours' : null),
  };
}
