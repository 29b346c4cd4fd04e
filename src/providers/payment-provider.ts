/**
 * The seam between the service and a payment provider. Only `providers/stripe` imports the Stripe SDK;
 * the mock implements the same contract in process, with Stripe-shaped objects.
 */

/** Stripe's PaymentIntent statuses. */
export type IntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'succeeded'
  | 'canceled';

export interface PaymentError {
  code?: string;
  declineCode?: string;
  message?: string;
}

export interface ProviderPaymentIntent {
  id: string;
  status: IntentStatus;
  amount: number;
  currency: string;
  clientSecret: string | null;
  paymentMethod: string | null;
  lastPaymentError: PaymentError | null;
  nextAction: Record<string, unknown> | null;
  metadata: Record<string, string>;
  /** The provider's object as it sent it (kept on the payment as the latest raw object). */
  raw: Record<string, unknown>;
}

export interface CreateIntentInput {
  paymentId: string;
  amount: number;
  currency: string;
  orderId?: string | null;
  description?: string | null;
  metadata: Record<string, string>;
  /** With a payment method the intent is confirmed at once, as Stripe's `confirm: true`. */
  paymentMethod?: string | null;
  /** The provider customer the intent is for: needed to pay with a card saved on it, or to save one. */
  customer?: string | null;
  /** Stripe's `setup_future_usage`: the card the intent succeeds with is saved on `customer`. */
  setupFutureUsage?: 'on_session' | 'off_session' | null;
}

export interface CreateRefundInput {
  paymentIntentId: string;
  amount: number;
  reason?: 'duplicate' | 'fraudulent' | 'requested_by_customer' | null;
  /** Our refund and payment ids ride along, so the refund's webhooks find their row. */
  refundId: string;
  paymentId: string;
}

export interface ProviderRefund {
  id: string;
  status: 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';
  amount: number;
  failureReason: string | null;
}

export interface CallOptions {
  /** Derived from our own row ids, never from the client's Idempotency-Key. */
  idempotencyKey: string;
}

/** The provider's customer for one of our users: the holder of their saved payment methods. */
export interface ProviderCustomer {
  id: string;
}

export interface CreateCustomerInput {
  /** Our user id; it rides along as `metadata.user_id` so the customer can be traced back. */
  userId: string;
}

/** Stripe's SetupIntent statuses. */
export type SetupIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'canceled'
  | 'succeeded';

/** A SetupIntent: what the browser confirms (with its client secret) to save a card on a customer. */
export interface ProviderSetupIntent {
  id: string;
  status: SetupIntentStatus;
  clientSecret: string;
  customerId: string | null;
}

/** What a card shows of itself: never the number, only what a customer needs to recognise it. */
export interface ProviderCardDetails {
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

/** A payment method as the provider holds it; `customerId` is null once detached (or never attached). */
export interface ProviderPaymentMethod {
  id: string;
  type: string;
  customerId: string | null;
  /** Null for payment methods that are not cards. */
  card: ProviderCardDetails | null;
  created: Date;
}

/** One page of a customer's cards, newest first, as the provider lists them. */
export interface ProviderCardPage {
  data: ProviderPaymentMethod[];
  hasMore: boolean;
}

export interface ListCardsOptions {
  /** 1 to 100, as Stripe's lists. */
  limit: number;
  startingAfter?: string;
}

/** Options of Stripe's GET /v1/events (https://docs.stripe.com/api/events/list), for a catch-up of missed webhooks. */
export interface ListEventsOptions {
  /** Unix seconds: only events created at or after this time. */
  createdGte?: number;
  /** 1 to 100; Stripe's default is 10. */
  limit?: number;
  /** An event id: the page after it (lists are newest first). */
  startingAfter?: string;
  /** Stripe's `delivery_success`: false lists events whose webhook delivery has not succeeded. */
  deliverySuccess?: boolean;
}

/** One page of events, each the provider's event JSON as its webhooks carry it. */
export interface ProviderEventPage {
  data: Array<Record<string, unknown>>;
  hasMore: boolean;
}

/** The secrets and the age limit a webhook delivery's signature is checked against. */
export interface WebhookVerification {
  /** Every signing secret in use; one verifying is enough (a secret can be rolled). */
  secrets: string[];
  /** A signature older than this many seconds is refused (replays). */
  toleranceSeconds: number;
}

/**
 * A provider event read into the shape the webhooks module stores and routes by, whatever the
 * provider's envelope looks like. A thin event (a notification without a snapshot) has
 * `object: null` and names what it is about in `relatedObjectId`.
 */
export interface ProviderWebhookEvent {
  id: string;
  type: string;
  /** When the provider made the event, unix seconds (now when it does not say). */
  created: number;
  apiVersion: string | null;
  livemode: boolean;
  /** The connected account the event is of; null for the platform account. */
  account: string | null;
  /** The snapshot of the object the event is about (Stripe's `data.object`); null for a thin event. */
  object: (Record<string, unknown> & { id: string; object: string }) | null;
  relatedObjectId: string | null;
  /** The event as the provider sent it, as text (stored as the raw payload). */
  payload: string;
}

/**
 * A delivery refused before anything is stored, with the API's error code: `signature_invalid` (no
 * secret verifies it), `invalid_json` (signed, but not JSON), `event_invalid` (JSON, but no event).
 */
export class WebhookEventError extends Error {
  constructor(
    readonly code: 'signature_invalid' | 'invalid_json' | 'event_invalid',
    message: string,
  ) {
    super(message);
    this.name = 'WebhookEventError';
  }
}

export interface PaymentProvider {
  readonly name: 'stripe' | 'mock';
  createPaymentIntent(input: CreateIntentInput, options: CallOptions): Promise<ProviderPaymentIntent>;
  confirmPaymentIntent(id: string, paymentMethod: string, options: CallOptions): Promise<ProviderPaymentIntent>;
  cancelPaymentIntent(id: string, options: CallOptions): Promise<ProviderPaymentIntent>;
  retrievePaymentIntent(id: string): Promise<ProviderPaymentIntent>;
  createRefund(input: CreateRefundInput, options: CallOptions): Promise<ProviderRefund>;
  /** Re-reads a refund (reconcile of refunds still pending); ProviderRejectedError `resource_missing` for an unknown id. */
  retrieveRefund(id: string): Promise<ProviderRefund>;
  createCustomer(input: CreateCustomerInput, options: CallOptions): Promise<ProviderCustomer>;
  /** A SetupIntent for saving a card on `customerId` for later off-session payments. */
  createSetupIntent(customerId: string, options: CallOptions): Promise<ProviderSetupIntent>;
  listCards(customerId: string, options: ListCardsOptions): Promise<ProviderCardPage>;
  /** Throws ProviderRejectedError `resource_missing` for an id the provider does not know. */
  retrievePaymentMethod(id: string): Promise<ProviderPaymentMethod>;
  detachPaymentMethod(id: string, options: CallOptions): Promise<ProviderPaymentMethod>;
  /** The provider's events, newest first (Stripe keeps 30 days of them). */
  listEvents(options?: ListEventsOptions): Promise<ProviderEventPage>;
  /** True when the provider answers; used by /ready. */
  ping(): Promise<boolean>;
  /**
   * Verifies a webhook delivery's signature over its raw bytes, then reads it into a
   * ProviderWebhookEvent. Three checks, in this order, so a good signature is never reported as a
   * bad one because of what the body says. @throws WebhookEventError
   */
  verifyWebhookEvent(rawBody: Buffer, signatureHeader: string | undefined, verification: WebhookVerification): ProviderWebhookEvent;
  /** Reads an event fetched from `listEvents` (trusted: no signature) the same way. @throws WebhookEventError `event_invalid` */
  readEvent(event: Record<string, unknown>): ProviderWebhookEvent;
  /** The signature header for `payload`, made as the provider signs its deliveries (the mock's and the simulator's events). */
  signWebhookPayload(payload: string, secret: string): string;
  /** The PaymentIntent in an event's snapshot object, in the provider-neutral shape. */
  intentFromEvent(object: Record<string, unknown>): ProviderPaymentIntent;
}

/** The card was declined: a final answer, the intent carries the error. */
export class ProviderDeclinedError extends Error {
  constructor(
    readonly error: PaymentError,
    readonly intent?: ProviderPaymentIntent,
  ) {
    super(error.message ?? 'The card was declined');
    this.name = 'ProviderDeclinedError';
  }
}

/**
 * The outcome is unknown (5xx, timeout, connection reset): the provider may or may not have acted.
 * Never treated as a failure; a retry with the same provider idempotency key settles it.
 */
export class ProviderUnavailableError extends Error {
  constructor(
    readonly kind: 'timeout' | 'unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderUnavailableError';
  }
}

/** The provider refused the request itself (bad payment method, wrong state, bad credentials). */
export class ProviderRejectedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = 'ProviderRejectedError';
  }
}
