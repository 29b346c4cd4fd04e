import { randomBytes } from 'node:crypto';
import type { IntentStatus, PaymentError } from '../payment-provider';
import { mockAuthenticationAction } from './mock-checkout';
import type { TestCard } from './mock-outcomes';

/**
 * Builders for Stripe-shaped objects (see test/fixtures/stripe/objects): the mock provider keeps its
 * state in them and emits them in events, so the webhook pipeline sees exactly what Stripe sends.
 */

/** The API version the mock claims to speak; events carry it as Stripe's do. */
export const MOCK_API_VERSION = '2025-09-30.clover';

export const stripeId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
const now = () => Math.floor(Date.now() / 1000);

export type StripeObject = Record<string, unknown> & { id: string; object: string };

export interface IntentFields {
  amount: number;
  currency: string;
  description?: string | null;
  metadata: Record<string, string>;
}

export function buildPaymentIntent(fields: IntentFields): StripeObject {
  const id = stripeId('pi');
  return {
    id,
    object: 'payment_intent',
    amount: fields.amount,
    amount_capturable: 0,
    amount_received: 0,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: `${id}_secret_${randomBytes(12).toString('hex')}`,
    confirmation_method: 'automatic',
    created: now(),
    currency: fields.currency,
    customer: null,
    description: fields.description ?? null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: { ...fields.metadata },
    next_action: null,
    payment_method: null,
    payment_method_types: ['card'],
    status: 'requires_payment_method' satisfies IntentStatus,
  };
}

export function setIntentStatus(pi: StripeObject, status: IntentStatus, error?: PaymentError): void {
  pi.status = status;
  pi.last_payment_error = error
    ? { type: 'card_error', code: error.code, decline_code: error.declineCode ?? null, message: error.message }
    : null;
  // The frame Stripe.js would show is the mock's own 3-D Secure page, which a person can answer.
  pi.next_action = status === 'requires_action' ? mockAuthenticationAction(pi) : null;
  if (status === 'succeeded') {
    pi.amount_received = pi.amount;
    pi.latest_charge = pi.latest_charge ?? stripeId('ch');
  }
  if (status === 'canceled') {
    pi.canceled_at = now();
    pi.cancellation_reason = 'requested_by_customer';
  }
}

export function buildCharge(pi: StripeObject, amountRefunded: number, refunds: StripeObject[]): StripeObject {
  const amount = pi.amount as number;
  return {
    id: pi.latest_charge as string,
    object: 'charge',
    amount,
    amount_captured: amount,
    amount_refunded: amountRefunded,
    captured: true,
    created: pi.created,
    currency: pi.currency,
    disputed: false,
    livemode: false,
    metadata: pi.metadata,
    paid: true,
    payment_intent: pi.id,
    payment_method: pi.payment_method,
    refunded: amountRefunded >= amount,
    refunds: { object: 'list', data: refunds, has_more: false, url: `/v1/charges/${String(pi.latest_charge)}/refunds` },
    status: 'succeeded',
  };
}

export function buildRefund(pi: StripeObject, amount: number, reason: string | null): StripeObject {
  return {
    id: stripeId('re'),
    object: 'refund',
    amount,
    balance_transaction: stripeId('txn'),
    charge: pi.latest_charge,
    created: now(),
    currency: pi.currency,
    metadata: {},
    payment_intent: pi.id,
    reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  };
}

export function buildDispute(pi: StripeObject, status = 'needs_response'): StripeObject {
  return {
    id: stripeId('dp'),
    object: 'dispute',
    amount: pi.amount,
    balance_transactions: [],
    charge: pi.latest_charge,
    created: now(),
    currency: pi.currency,
    evidence_details: { due_by: now() + 7 * 86400, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: pi.id,
    reason: 'fraudulent',
    status,
  };
}

/** A Customer (test/fixtures/stripe/objects/customer.json), carrying our user id in its metadata. */
export function buildCustomer(userId: string): StripeObject {
  return {
    id: stripeId('cus'),
    object: 'customer',
    created: now(),
    email: null,
    invoice_settings: { default_payment_method: null },
    livemode: false,
    metadata: { user_id: userId },
    name: null,
  };
}

/** A SetupIntent for saving a card on `customer` for off-session use, waiting for the browser. */
export function buildSetupIntent(customer: string): StripeObject {
  const id = stripeId('seti');
  return {
    id,
    object: 'setup_intent',
    allowed_payment_method_types: ['card'],
    cancellation_reason: null,
    client_secret: `${id}_secret_${randomBytes(12).toString('hex')}`,
    created: now(),
    customer,
    last_setup_error: null,
    livemode: false,
    metadata: {},
    next_action: null,
    payment_method: null,
    payment_method_types: ['card'],
    status: 'requires_payment_method',
    usage: 'off_session',
  };
}

/** A card PaymentMethod (test/fixtures/stripe/objects/payment_method.json) saved on `customer`. */
export function buildCardPaymentMethod(customer: string, card: TestCard & { expMonth: number; expYear: number }): StripeObject {
  return {
    id: stripeId('pm'),
    object: 'payment_method',
    allow_redisplay: 'always',
    billing_details: { address: null, email: null, name: null, phone: null },
    card: {
      brand: card.brand,
      country: 'US',
      display_brand: card.brand,
      exp_month: card.expMonth,
      exp_year: card.expYear,
      funding: card.funding,
      last4: card.last4,
    },
    created: now(),
    customer,
    livemode: false,
    metadata: {},
    type: 'card',
  };
}

/** An event envelope as Stripe sends it (test/fixtures/stripe/objects/event.json). */
export function buildEvent(type: string, object: StripeObject, previous?: Record<string, unknown>): StripeObject {
  return {
    id: stripeId('evt'),
    object: 'event',
    api_version: MOCK_API_VERSION,
    created: now(),
    data: { object: structuredClone(object), ...(previous ? { previous_attributes: previous } : {}) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}
