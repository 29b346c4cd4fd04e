import { isDeepStrictEqual } from 'node:util';
import type { Transaction } from 'sequelize';
import type { Metrics } from '../../shared/metrics';
import type { OutboxEventType, OutboxRepository } from '../events';
import type { Payment } from './payment.model';
import type { AppliedEvent, PaymentChanges, PaymentRepository } from './payment.repository';
import { serializePayment } from './payment.serializer';
import { canMove, type MoveSource, type PaymentStatus } from './payment-status';

export interface MoveContext {
  source: MoveSource;
  eventId?: string | null;
}

export type MoveResult =
  | { outcome: 'moved'; payment: Payment }
  | { outcome: 'unchanged'; payment: Payment }
  /** The state machine forbids the move (late or out-of-order news); nothing was written. */
  | { outcome: 'refused'; payment: Payment };

/** The outbox event a move to each status emits (none for `pending`). */
export const EVENT_FOR_STATUS: Partial<Record<PaymentStatus, OutboxEventType>> = {
  requires_action: 'payment.requires_action',
  processing: 'payment.processing',
  succeeded: 'payment.succeeded',
  failed: 'payment.failed',
  canceled: 'payment.canceled',
  partially_refunded: 'payment.partially_refunded',
  refunded: 'payment.refunded',
};

/** Each column the mover may be given, read from the locked payment (absent: always written). */
const CURRENT: Partial<Record<keyof PaymentChanges, (p: Payment) => unknown>> = {
  provider_payment_id: (p) => p.providerPaymentId,
  client_secret: (p) => p.clientSecret,
  payment_method: (p) => p.paymentMethod,
  failure_code: (p) => p.failureCode,
  failure_message: (p) => p.failureMessage,
  next_action: (p) => p.nextAction,
  provider_object: (p) => p.providerObject,
  amount_refunded: (p) => p.amountRefunded,
};

/**
 * True when writing `fields` would change the locked row. JSON columns are compared by value
 * (jsonb keeps its own key order, so the text of the provider's object and of the row differ).
 */
export function changesAnything(payment: Payment, fields: PaymentChanges): boolean {
  return (Object.keys(fields) as Array<keyof PaymentChanges>).some((column) => {
    const current = CURRENT[column];
    return !current || !isDeepStrictEqual(current(payment), fields[column] ?? null);
  });
}

/**
 * The only code that changes a payment's status: checks the move table, writes the history row and
 * the outbox event in the caller's transaction. The payment must have been read FOR UPDATE in `t`.
 */
export class PaymentMover {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly outbox: OutboxRepository,
    private readonly metrics?: Metrics,
  ) {}

  /**
   * `event`, when given, is the PaymentIntent event causing the move: it is recorded as applied in
   * the same UPDATE when the move writes the row (one statement instead of two); a move that writes
   * nothing leaves it to the caller (`PaymentLedger.applyIntent`).
   */
  async move(
    payment: Payment,
    to: PaymentStatus,
    ctx: MoveContext,
    t: Transaction,
    fields: PaymentChanges = {},
    event?: AppliedEvent,
  ): Promise<MoveResult> {
    const repeatable = to === 'partially_refunded';
    if (payment.status === to && !repeatable) {
      // Repeated news (a second delivery, a sync that finds nothing new) writes nothing: no new row
      // version of a 1-3 KB provider object, no `updated_at` bump that would read as activity.
      const updated = changesAnything(payment, fields) ? await this.payments.update(payment.id, fields, t, event) : payment;
      return { outcome: 'unchanged', payment: updated };
    }
    if (!canMove(payment.status, to)) return { outcome: 'refused', payment };

    const updated = await this.payments.update(payment.id, { ...fields, status: to }, t, event);
    await this.payments.insertMove(payment.id, { from: payment.status, to, source: ctx.source, eventId: ctx.eventId }, t);
    const eventType = EVENT_FOR_STATUS[to];
    if (eventType) await this.outbox.append(eventType, updated, { payment: serializePayment(updated) }, t);
    t.afterCommit(() => this.countMove(payment, updated));
    return { outcome: 'moved', payment: updated };
  }

  /** A new payment's first history row: from nothing to its initial status. */
  async recordCreation(payment: Payment, ctx: MoveContext, t: Transaction): Promise<void> {
    await this.payments.insertMove(payment.id, { from: null, to: payment.status, source: ctx.source, eventId: ctx.eventId }, t);
    t.afterCommit(() => this.countCreation(payment));
  }

  /** Business metrics of a committed creation (call only once the payment row is committed). */
  countCreation(payment: Payment): void {
    this.metrics?.paymentsCreated.inc({ currency: payment.currency });
    this.metrics?.paymentAmount.inc({ currency: payment.currency, status: payment.status }, payment.amount);
  }

  /**
   * Business metrics of a committed move (after commit, so a rolled-back move is never counted):
   * the amount reaching succeeded/failed/canceled, failures by code, refunds and the amount refunded
   * (minor units).
   */
  countMove(before: Payment, after: Payment): void {
    if (!this.metrics) return;
    const { currency } = after;
    if (after.status === 'succeeded' || after.status === 'failed' || after.status === 'canceled') {
      this.metrics.paymentAmount.inc({ currency, status: after.status }, after.amount);
    }
    if (after.status === 'failed') this.metrics.paymentsFailed.inc({ code: after.failureCode ?? 'unknown' });
    const refunded = after.amountRefunded - before.amountRefunded;
    if (refunded > 0) {
      this.metrics.refunds.inc({ currency });
      this.metrics.refundedAmount.inc({ currency }, refunded);
    }
  }

  async announceCreated(payment: Payment, t: Transaction): Promise<void> {
    await this.outbox.append('payment.created', payment, { payment: serializePayment(payment) }, t);
  }
}
