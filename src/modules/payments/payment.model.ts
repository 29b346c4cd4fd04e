import type { MoveSource, PaymentStatus } from './payment-status';

/** A payment as the use cases see it: integer money, camelCase, no database types. */
export interface Payment {
  id: string;
  userId: string;
  orderId: string | null;
  amount: number;
  currency: string;
  amountRefunded: number;
  status: PaymentStatus;
  description: string | null;
  metadata: Record<string, string>;
  provider: 'stripe' | 'mock';
  providerPaymentId: string | null;
  clientSecret: string | null;
  paymentMethod: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  nextAction: Record<string, unknown> | null;
  dispute: { id: string; status: string; reason: string | null; amount: number } | null;
  providerObject: Record<string, unknown> | null;
  /** What the order service said the order cost, and when (null without the order service). */
  orderCheck: OrderCheck | null;
  /**
   * The last PaymentIntent event applied to the payment: its provider `created` (unix seconds) and
   * id. An event created before it is older news and never moves the payment.
   */
  lastEvent: { id: string; created: number } | null;
  /** The user's provider customer (`cus_...`) the intent is made for: set to pay with or save a card. */
  providerCustomerId?: string | null;
  /** Stripe's `setup_future_usage`: the card paid with is saved on the customer for later. */
  setupFutureUsage?: 'on_session' | 'off_session' | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The order service's answer a payment was priced from: minor units, the order's currency, when it was read. */
export interface OrderCheck {
  amount: number;
  currency: string;
  checkedAt: Date;
}

export interface PaymentMove {
  from: PaymentStatus | null;
  to: PaymentStatus;
  source: MoveSource;
  eventId: string | null;
  at: Date;
}

/** The `payments` row as pg returns it (BIGINT arrives as a string). */
export interface PaymentRow {
  id: string;
  user_id: string;
  order_id: string | null;
  amount: string | number;
  currency: string;
  amount_refunded: string | number;
  status: string;
  description: string | null;
  metadata: Record<string, string>;
  provider: string;
  provider_payment_id: string | null;
  client_secret: string | null;
  payment_method: string | null;
  failure_code: string | null;
  failure_message: string | null;
  next_action: Record<string, unknown> | null;
  dispute_id: string | null;
  dispute_status: string | null;
  dispute_reason: string | null;
  amount_disputed: string | number;
  provider_object: Record<string, unknown> | null;
  order_amount?: string | number | null;
  order_currency?: string | null;
  order_checked_at?: Date | null;
  last_event_created: string | number | null;
  last_event_id: string | null;
  provider_customer_id?: string | null;
  setup_future_usage?: string | null;
  created_at: Date;
  updated_at: Date;
}

export function toPayment(row: PaymentRow): Payment {
  return {
    id: row.id,
    userId: row.user_id,
    orderId: row.order_id,
    amount: Number(row.amount),
    currency: row.currency,
    amountRefunded: Number(row.amount_refunded),
    status: row.status as PaymentStatus,
    description: row.description,
    metadata: row.metadata ?? {},
    provider: row.provider as Payment['provider'],
    providerPaymentId: row.provider_payment_id,
    clientSecret: row.client_secret,
    paymentMethod: row.payment_method,
    failureCode: row.failure_code,
    failureMessage: row.failure_message,
    nextAction: row.next_action,
    dispute: row.dispute_id
      ? { id: row.dispute_id, status: row.dispute_status ?? 'unknown', reason: row.dispute_reason, amount: Number(row.amount_disputed) }
      : null,
    providerObject: row.provider_object,
    orderCheck:
      row.order_amount != null && row.order_currency && row.order_checked_at
        ? { amount: Number(row.order_amount), currency: row.order_currency, checkedAt: new Date(row.order_checked_at) }
        : null,
    lastEvent:
      row.last_event_id && row.last_event_created !== null && row.last_event_created !== undefined
        ? { id: row.last_event_id, created: Number(row.last_event_created) }
        : null,
    providerCustomerId: row.provider_customer_id ?? null,
    setupFutureUsage: (row.setup_future_usage as Payment['setupFutureUsage']) ?? null,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
