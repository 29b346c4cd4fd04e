import type { Transaction } from 'sequelize';
import type { PaymentProvider } from '../../../providers/payment-provider';
import type { OutboxRepository } from '../../events';
import type { MoveSource, Payment, PaymentLedger } from '../../payments';
import type { RefundRepository } from '../../refunds';

/**
 * What a handler gets: the event's identity and the repositories, all used in one transaction `t`.
 * Payment rows are locked and written only through `payments` (the payments module's door).
 */
export interface HandlerContext {
  t: Transaction;
  eventId: string;
  eventType: string;
  /** The provider's `created` of the event, unix seconds: its place in the payment's timeline. */
  eventCreated: number;
  /** Written to the payment history with every move this event causes. */
  source: MoveSource;
  payments: PaymentLedger;
  /** Reads the provider's objects in the event (a PaymentIntent snapshot) into the provider-neutral shape. */
  provider: Pick<PaymentProvider, 'intentFromEvent'>;
  refunds: RefundRepository;
  outbox: OutboxRepository;
}

export type HandlerResult =
  | { kind: 'done'; state: 'processed' | 'ignored'; outcome: string; paymentId: string | null }
  /** The event contradicts our state: ask the provider, outside the transaction, and apply its answer. */
  | { kind: 'needs_sync'; paymentId: string };

export type EventHandler = (object: StripeObject, ctx: HandlerContext) => Promise<HandlerResult>;

export type StripeObject = Record<string, unknown> & { id: string; object: string };

export const processed = (outcome: string, payment: Payment | null): HandlerResult => ({
  kind: 'done',
  state: 'processed',
  outcome,
  paymentId: payment?.id ?? null,
});

export const ignored = (outcome: string, paymentId: string | null = null): HandlerResult => ({ kind: 'done', state: 'ignored', outcome, paymentId });

/**
 * The event names a payment of ours that is not in the database (yet): the event waits and is
 * retried, since the webhook can beat the commit of the request that created the payment.
 */
export class PaymentNotYetKnownError extends Error {
  constructor(paymentId: string) {
    super(`Payment ${paymentId} is not known yet; will retry`);
    this.name = 'PaymentNotYetKnownError';
  }
}
