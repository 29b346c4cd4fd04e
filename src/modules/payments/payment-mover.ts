import type { Transaction } from 'sequelize';
import type { OutboxEventType, OutboxRepository } from '../events';
import type { Payment } from './payment.model';
import type { PaymentChanges, PaymentRepository } from './payment.repository';
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

const EVENT_FOR_STATUS: Partial<Record<PaymentStatus, OutboxEventType>> = {
  requires_action: 'payment.requires_action',
  processing: 'payment.processing',
  succeeded: 'payment.succeeded',
  failed: 'payment.failed',
  canceled: 'payment.canceled',
  partially_refunded: 'payment.partially_refunded',
  refunded: 'payment.refunded',
};

/**
 * The only code that changes a payment's status: checks the move table, writes the history row and
 * the outbox event in the caller's transaction. The payment must have been read FOR UPDATE in `t`.
 */
export class PaymentMover {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly outbox: OutboxRepository,
  ) {}

  async move(payment: Payment, to: PaymentStatus, ctx: MoveContext, t: Transaction, fields: PaymentChanges = {}): Promise<MoveResult> {
    const repeatable = to === 'partially_refunded';
    if (payment.status === to && !repeatable) {
      const updated = Object.keys(fields).length > 0 ? await this.payments.update(payment.id, fields, t) : payment;
      return { outcome: 'unchanged', payment: updated };
    }
    if (!canMove(payment.status, to)) return { outcome: 'refused', payment };

    const updated = await this.payments.update(payment.id, { ...fields, status: to }, t);
    await this.payments.insertMove(payment.id, { from: payment.status, to, source: ctx.source, eventId: ctx.eventId }, t);
    const eventType = EVENT_FOR_STATUS[to];
    if (eventType) await this.outbox.append(eventType, updated, { payment: serializePayment(updated) }, t);
    return { outcome: 'moved', payment: updated };
  }

  /** A new payment's first history row: from nothing to its initial status. */
  async recordCreation(payment: Payment, ctx: MoveContext, t: Transaction): Promise<void> {
    await this.payments.insertMove(payment.id, { from: null, to: payment.status, source: ctx.source, eventId: ctx.eventId }, t);
  }

  async announceCreated(payment: Payment, t: Transaction): Promise<void> {
    await this.outbox.append('payment.created', payment, { payment: serializePayment(payment) }, t);
  }
}
