import type { Transaction } from 'sequelize';
import type { ProviderPaymentIntent } from '../../providers/payment-provider';
import type { Principal } from '../../shared/auth/jwt-verifier';
import type { OutboxRepository } from '../events';
import { applyIntent } from './apply-intent';
import { findVisiblePayment } from './find-payment';
import type { Payment } from './payment.model';
import type { MoveContext, MoveResult, PaymentMover } from './payment-mover';
import { recordsEvent, type AppliedEvent, type PaymentRepository } from './payment.repository';
import { serializePayment } from './payment.serializer';

/** A dispute as the provider reports it; `amount` in minor units. */
export interface DisputeFacts {
  id: string;
  status: string;
  reason: string | null;
  amount: number;
}

/**
 * The one door through which other modules (webhooks, refunds) change payment rows. Every method
 * runs in the caller's transaction `t` and writes nothing else than the payment, its history and
 * its outbox events; the methods that take a `payment` want it locked in `t` first (`lock`,
 * `lockByIntent`, `lockVisible`), so no other writer interleaves. Status moves go through the state
 * machine (`PaymentMover`): a move it refuses writes nothing.
 */
export class PaymentLedger {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly mover: PaymentMover,
    private readonly outbox: OutboxRepository,
  ) {}

  /** The payment, locked FOR UPDATE in `t`; null when there is none with this id. */
  lock(id: string, t: Transaction): Promise<Payment | null> {
    return this.payments.findById(id, t, { lock: true });
  }

  /** The payment of a provider PaymentIntent id, locked FOR UPDATE in `t`; null when none is ours. */
  lockByIntent(providerPaymentId: string, t: Transaction): Promise<Payment | null> {
    return this.payments.findByProviderId(providerPaymentId, t, { lock: true });
  }

  /** The payment `actor` may see, locked in `t`. @throws AppError `payment_not_found` (404, never 403). */
  lockVisible(id: string, actor: Principal, t: Transaction): Promise<Payment> {
    return findVisiblePayment(this.payments, id, actor, t, { lock: true });
  }

  /**
   * Attaches the provider's PaymentIntent to a locked payment that has none yet (a webhook can beat
   * the commit of our own create call) and announces `payment.created` once. A payment with an
   * intent already is returned as it is.
   */
  async attachIntent(payment: Payment, intent: ProviderPaymentIntent, t: Transaction): Promise<Payment> {
    if (payment.providerPaymentId) return payment;
    const attached = await this.payments.update(payment.id, { provider_payment_id: intent.id, client_secret: intent.clientSecret }, t);
    await this.mover.announceCreated(attached, t);
    return attached;
  }

  /**
   * Locks, in `t` and in one statement, every payment with one of `ids` or whose PaymentIntent is one
   * of `providerPaymentIds` (in id order, the order every multi-payment lock takes), for a caller
   * about to work on all of them (a webhook batch): `lock` / `lockByIntent` of these payments in `t`
   * then return the locked row as `t` last wrote it, with no statement of their own.
   */
  async lockMany(ids: string[], providerPaymentIds: string[], t: Transaction): Promise<void> {
    await this.payments.lockMany(ids, providerPaymentIds, t);
  }

  /**
   * From now on, the history rows and outbox events written in `t` (through this ledger, or the
   * outbox directly) wait for `flushWrites(t)`, which writes each kind in one statement, in the order
   * they were made (one payment's events keep their order). For a transaction making many moves (a
   * webhook batch). Nothing in `t` may read them before the flush; the caller must flush before it
   * commits, or they are lost.
   */
  holdWrites(t: Transaction): void {
    this.payments.holdMoves(t);
    this.outbox.hold(t);
  }

  /** Writes what `t` held since `holdWrites` (history rows, then outbox events): two statements at most. */
  async flushWrites(t: Transaction): Promise<void> {
    await this.payments.flushMoves(t);
    await this.outbox.flush(t);
  }

  /**
   * Brings a locked payment in line with the provider's intent (see `applyIntent`); `refused` wrote
   * nothing. With `event` (the PaymentIntent event reporting `intent`), an applied intent also
   * records the event as the last one applied (`recordAppliedEvent`): in the move's own UPDATE when
   * there is one, else in an UPDATE of its own when it changes anything.
   */
  async applyIntent(payment: Payment, intent: ProviderPaymentIntent, ctx: MoveContext, t: Transaction, event?: AppliedEvent): Promise<MoveResult> {
    const result = await applyIntent(this.mover, payment, intent, ctx, t, event);
    // The result's row is the locked row after any write: recorded already, or still to record.
    if (event && result.outcome !== 'refused' && recordsEvent(result.payment, event)) {
      await this.payments.recordAppliedEvent(payment.id, event, t);
    }
    return result;
  }

  /**
   * The "lock, then apply the provider's answer" phase of confirm, cancel and sync: locks payment
   * `id` in `t` and applies `intent`. The payment must exist (the caller read it before its provider call).
   */
  async settleIntent(id: string, intent: ProviderPaymentIntent, ctx: MoveContext, t: Transaction): Promise<MoveResult> {
    const current = (await this.lock(id, t))!;
    return applyIntent(this.mover, current, intent, ctx, t);
  }

  /**
   * Records `event` (provider `created`, unix seconds, and id) as the last PaymentIntent event applied
   * to the payment, unless a later one is recorded already; `updated_at` is left alone.
   */
  recordAppliedEvent(paymentId: string, event: { id: string; created: number }, t: Transaction): Promise<void> {
    return this.payments.recordAppliedEvent(paymentId, event, t);
  }

  /**
   * Shows a dispute on a locked payment (its status does not change). The first news of a dispute
   * also appends `payment.disputed` to the outbox. Returns the payment after the write and whether
   * this dispute was new to it.
   */
  async recordDispute(payment: Payment, dispute: DisputeFacts, t: Transaction): Promise<{ payment: Payment; opened: boolean }> {
    const opened = payment.dispute?.id !== dispute.id;
    const updated = await this.payments.update(
      payment.id,
      { dispute_id: dispute.id, dispute_status: dispute.status, dispute_reason: dispute.reason, amount_disputed: dispute.amount },
      t,
    );
    if (opened) await this.outbox.append('payment.disputed', updated, { payment: serializePayment(updated), dispute_id: dispute.id }, t);
    return { payment: updated, opened };
  }

  /**
   * Sets a locked payment's refunded amount to `total` (minor units: the refunds that count, each
   * provider refund once) and moves it to partially_refunded or refunded. A refund proves the charge
   * succeeded, so a payment still open is first moved to succeeded (its succeeded event may simply
   * not have arrived yet). A total that fell (a counted refund failed) leaves the status where it is.
   */
  async applyRefundTotal(payment: Payment, total: number, ctx: MoveContext, t: Transaction): Promise<Payment> {
    const capped = Math.min(total, payment.amount);
    if (capped === payment.amountRefunded) return payment;

    let current = payment;
    if (capped > 0 && ['pending', 'requires_action', 'processing', 'failed'].includes(current.status)) {
      current = (await this.mover.move(current, 'succeeded', ctx, t)).payment;
    }
    const target = capped === 0 ? null : capped >= current.amount ? 'refunded' : 'partially_refunded';
    if (target) {
      const moved = await this.mover.move(current, target, ctx, t, { amount_refunded: capped });
      if (moved.outcome !== 'refused') return moved.payment;
    }
    return this.payments.update(current.id, { amount_refunded: capped }, t);
  }
}
