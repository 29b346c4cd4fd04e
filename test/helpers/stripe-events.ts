import { createHmac, randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import chargeFixture from '../fixtures/stripe/objects/charge.json';
import disputeFixture from '../fixtures/stripe/objects/dispute.json';
import eventFixture from '../fixtures/stripe/objects/event.json';
import paymentIntentFixture from '../fixtures/stripe/objects/payment_intent.json';
import refundFixture from '../fixtures/stripe/objects/refund.json';
import { TEST_WEBHOOK_SECRET } from './test-app';

/** The API version our test events claim, as a Stripe account pinned to it would send. */
export const TEST_API_VERSION = '2025-09-30.clover';

export type StripeObject = Record<string, unknown> & { id: string; object: string };
export type StripeEvent = Record<string, unknown> & {
  id: string;
  type: string;
  created: number;
  data: { object: StripeObject; previous_attributes?: Record<string, unknown> };
};

export const stripeId = (prefix: string) => `${prefix}_test${randomBytes(10).toString('hex')}`;
export const nowSeconds = () => Math.floor(Date.now() / 1000);

export interface EnvelopeOptions {
  id?: string;
  created?: number;
  previousAttributes?: Record<string, unknown>;
  livemode?: boolean;
  apiVersion?: string | null;
}

/** event.json's envelope around `object` (deep clones, nothing shared between events). */
export function stripeEvent(type: string, object: StripeObject, options: EnvelopeOptions = {}): StripeEvent {
  const event = structuredClone(eventFixture) as unknown as StripeEvent;
  event.id = options.id ?? stripeId('evt');
  event.type = type;
  event.created = options.created ?? nowSeconds();
  event.api_version = options.apiVersion === undefined ? TEST_API_VERSION : options.apiVersion;
  event.livemode = options.livemode ?? false;
  event.pending_webhooks = 1;
  event.data = { object: structuredClone(object), ...(options.previousAttributes ? { previous_attributes: options.previousAttributes } : {}) };
  return event;
}

export interface IntentFields extends EnvelopeOptions {
  /** Our payment id, carried as `metadata.payment_id`; null leaves it out (an intent that is not ours). */
  paymentId: string | null;
  intentId: string;
  status: string;
  amount?: number;
  currency?: string;
  lastPaymentError?: { code: string; decline_code?: string; message: string } | null;
  latestCharge?: string | null;
  metadata?: Record<string, string>;
}

/** A payment_intent.* event; Stripe's placeholders (next_action "type", last_payment_error ...) made consistent with `status`. */
export function paymentIntentEvent(type: string, f: IntentFields): StripeEvent {
  const amount = f.amount ?? 2000;
  const pi = structuredClone(paymentIntentFixture) as unknown as StripeObject;
  Object.assign(pi, {
    id: f.intentId,
    amount,
    currency: f.currency ?? 'usd',
    created: nowSeconds(),
    client_secret: `${f.intentId}_secret_${randomBytes(8).toString('hex')}`,
    metadata: { ...(f.metadata ?? {}), ...(f.paymentId ? { payment_id: f.paymentId } : {}) },
    status: f.status,
    amount_received: f.status === 'succeeded' ? amount : 0,
    latest_charge: f.latestCharge ?? (f.status === 'succeeded' ? stripeId('ch') : null),
    payment_method: f.status === 'requires_payment_method' && !f.lastPaymentError ? null : 'pm_card_visa',
    last_payment_error: f.lastPaymentError ? { type: 'card_error', ...f.lastPaymentError } : null,
    next_action: f.status === 'requires_action' ? { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect' } } : null,
    canceled_at: f.status === 'canceled' ? nowSeconds() : null,
    cancellation_reason: f.status === 'canceled' ? 'requested_by_customer' : null,
    processing: f.status === 'processing' ? { type: 'card' } : null,
    transfer_data: null,
  });
  return stripeEvent(type, pi, f);
}

export interface RefundFields {
  refundId?: string;
  intentId: string;
  chargeId: string;
  amount: number;
  currency?: string;
  status?: string;
  reason?: string | null;
  /** Refunds made by this service carry our payment id; dashboard refunds do not. */
  paymentId?: string;
}

/** A Refund object (refund.json) for `refundEvent` and a charge's `refunds.data`. */
export function refundObject(f: RefundFields): StripeObject {
  const refund = structuredClone(refundFixture) as unknown as StripeObject;
  return Object.assign(refund, {
    id: f.refundId ?? stripeId('re'),
    amount: f.amount,
    charge: f.chargeId,
    payment_intent: f.intentId,
    currency: f.currency ?? 'usd',
    created: nowSeconds(),
    status: f.status ?? 'succeeded',
    reason: f.reason ?? null,
    balance_transaction: stripeId('txn'),
    metadata: f.paymentId ? { payment_id: f.paymentId } : {},
  });
}

export function refundEvent(type: 'refund.created' | 'refund.updated' | 'refund.failed', f: RefundFields, envelope: EnvelopeOptions = {}): StripeEvent {
  return stripeEvent(type, refundObject(f), envelope);
}

export interface ChargeRefundedFields extends EnvelopeOptions {
  intentId: string;
  chargeId: string;
  amount: number;
  amountRefunded: number;
  /** The refunds Stripe lists on the charge; empty as on API versions that no longer expand them. */
  refunds?: StripeObject[];
  paymentId?: string;
}

/** charge.refunded: the charge with its new `amount_refunded`, the old one in previous_attributes. */
export function chargeRefundedEvent(f: ChargeRefundedFields): StripeEvent {
  const charge = structuredClone(chargeFixture) as unknown as StripeObject;
  const refunds = f.refunds ?? [];
  Object.assign(charge, {
    id: f.chargeId,
    amount: f.amount,
    amount_captured: f.amount,
    amount_refunded: f.amountRefunded,
    captured: true,
    created: nowSeconds(),
    payment_intent: f.intentId,
    refunded: f.amountRefunded >= f.amount,
    metadata: f.paymentId ? { payment_id: f.paymentId } : {},
    refunds: { object: 'list', data: refunds, has_more: false, url: `/v1/charges/${f.chargeId}/refunds` },
  });
  const previousRefunded = f.amountRefunded - refunds.reduce((sum, r) => sum + Number(r.amount), 0);
  return stripeEvent('charge.refunded', charge, { previousAttributes: { amount_refunded: Math.max(0, previousRefunded) }, ...f });
}

export interface DisputeFields extends EnvelopeOptions {
  disputeId: string;
  intentId: string;
  chargeId: string;
  amount: number;
  status: string;
  reason?: string;
}

export function disputeEvent(type: string, f: DisputeFields): StripeEvent {
  const dispute = structuredClone(disputeFixture) as unknown as StripeObject;
  Object.assign(dispute, {
    id: f.disputeId,
    amount: f.amount,
    charge: f.chargeId,
    payment_intent: f.intentId,
    created: nowSeconds(),
    status: f.status,
    reason: f.reason ?? 'fraudulent',
    is_charge_refundable: false,
  });
  return stripeEvent(type, dispute, f);
}

/** `Stripe-Signature` exactly as Stripe computes it: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>. */
export function signed(payload: string | Buffer, secret = TEST_WEBHOOK_SECRET, timestamp = nowSeconds()): string {
  return `t=${timestamp},v1=${hmac(payload, secret, timestamp)}`;
}

export function hmac(payload: string | Buffer, secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(payload).digest('hex');
}

/** Stripe's own serialisation is pretty-printed with two spaces; we send what we sign, byte for byte. */
export const serialize = (event: object): string => JSON.stringify(event, null, 2);

/** POSTs a raw body to the webhook endpoint with the given header (or none). */
export function postWebhook(app: Express, body: string | Buffer, signature?: string): request.Test {
  const req = request(app).post('/v1/webhooks/stripe').set('Content-Type', 'application/json; charset=utf-8');
  return (signature === undefined ? req : req.set('Stripe-Signature', signature)).send(body);
}

/** Delivers one event as Stripe does: serialised, signed with the test secret, posted. */
export function deliver(app: Express, event: object, secret = TEST_WEBHOOK_SECRET): request.Test {
  const body = serialize(event);
  return postWebhook(app, body, signed(body, secret));
}
