import type { Sequelize, Transaction } from 'sequelize';
import { ProviderDeclinedError, ProviderRejectedError, type PaymentProvider, type ProviderRefund } from '../../providers/payment-provider';
import type { Principal } from '../../shared/auth/jwt-verifier';
import { withTransaction } from '../../shared/db/database';
import { AppError } from '../../shared/errors';
import { checkAmount } from '../../shared/money';
import type { Metrics } from '../../shared/metrics';
import type { OutboxRepository } from '../events';
import type { IdempotencyRecord, IdempotencyStore, PendingKey } from '../idempotency';
import { callProvider } from '../../shared/provider-call';
import { providerFailure, serializePayment, unexpectedState, type Payment, type PaymentLedger, type PaymentReads } from '../payments';
import { applyRefundTotal } from './apply-refund-total';
import type { Refund, RefundRepository } from './refund.repository';
import type { CreateRefundBody } from './refund.schemas';

export interface CreateRefundDeps {
  sequelize: Sequelize;
  /** Reads of payments; every write (and lock) goes through `ledger`. */
  payments: PaymentReads;
  ledger: PaymentLedger;
  refunds: RefundRepository;
  outbox: OutboxRepository;
  provider: PaymentProvider;
  idempotency: IdempotencyStore;
  metrics: Metrics;
}

// A refunded payment has nothing left: that is the 422 below, not a state conflict.
const REFUNDABLE = ['succeeded', 'partially_refunded', 'refunded'];
// What Stripe says when it knows of refunds we have not heard of yet (e.g. a Dashboard refund in flight).
const EXCEEDS_AT_PROVIDER = ['amount_too_large', 'charge_already_refunded'];

/** The answer a refund request stores under its key: status and JSON body for the finished refund. */
export type RefundAnswer = (refund: Refund) => { status: number; body: unknown };

// Rolls back phase 1 when the request's key exists already (it is resumed, replayed or refused instead).
class KeySeenBefore extends Error {}

/**
 * Refunds a payment in atomic phases: (1) under the payment's row lock, check what remains and record
 * the refund as pending, so concurrent refunds see it and can never exceed what was paid; (2) ask the
 * provider, with an idempotency key derived from the refund id; (3) record the answer and move the
 * payment to partially_refunded or refunded.
 */
export class CreateRefundUseCase {
  constructor(private readonly deps: CreateRefundDeps) {}

  /**
   * `key`: the request's Idempotency-Key, begun here (see `idempotentOwnBegin`): a new key is written
   * in phase 1's transaction and the answer (`answer`) stored in phase 3's, so a refund costs two
   * commits of ours. A key seen before resumes from its recovery point, replays or is refused.
   */
  async execute(paymentId: string, input: CreateRefundBody, actor: Principal, key?: PendingKey, answer?: RefundAnswer): Promise<Refund> {
    let refund = key ? await this.reserveWithNewKey(paymentId, input, actor, key) : null;
    const idem = key && (key.record ?? (await this.deps.idempotency.beginPending(key, { seen: true })));
    if (!refund) {
      const resumed = idem?.resourceId ? await this.deps.refunds.findById(idem.resourceId) : null;
      refund = resumed ?? (await this.reserve(paymentId, input, actor, idem));
    }
    if (refund.providerRefundId && refund.status !== 'pending') return refund;

    const payment = (await this.deps.payments.findById(refund.paymentId))!;
    let result: ProviderRefund;
    try {
      result = await callProvider(this.deps.metrics, 'create_refund', () =>
        this.deps.provider.createRefund(
          { paymentIntentId: payment.providerPaymentId!, amount: refund.amount, reason: input.reason ?? null, refundId: refund.id, paymentId: payment.id },
          { idempotencyKey: `${refund.id}:create` },
        ),
      );
    } catch (err) {
      // An unknown outcome leaves the refund pending (still counted): a retry with the same key settles it.
      // A refusal or a decline is final: the refund fails and stops counting against what remains.
      if (err instanceof ProviderDeclinedError) {
        await this.record(refund, { providerRefundId: null, status: 'failed', failureReason: err.error.declineCode || err.error.code || 'declined' });
        throw providerFailure(err);
      }
      if (!(err instanceof ProviderRejectedError)) throw providerFailure(err);
      await this.record(refund, { providerRefundId: null, status: 'failed', failureReason: err.code });
      if (EXCEEDS_AT_PROVIDER.includes(err.code)) {
        throw new AppError('amount_exceeds_refundable', `The provider refused: ${err.message}`, { param: 'amount' });
      }
      throw providerFailure(err);
    }
    return this.record(
      refund,
      { providerRefundId: result.id, status: result.status, failureReason: result.failureReason },
      idem && answer ? { record: idem, answer } : undefined,
    );
  }

  /**
   * Phase 1 with a key never seen: the key's INSERT is the transaction's first statement, so the key
   * and the refund row commit together. Null (nothing written) when the key exists.
   */
  private async reserveWithNewKey(paymentId: string, input: CreateRefundBody, actor: Principal, key: PendingKey): Promise<Refund | null> {
    try {
      return await withTransaction(this.deps.sequelize, async (t) => {
        const idem = await this.deps.idempotency.beginIn(key, t);
        if (!idem) throw new KeySeenBefore();
        return this.reserveIn(t, paymentId, input, actor, idem);
      });
    } catch (err) {
      if (err instanceof KeySeenBefore) return null;
      throw err;
    }
  }

  /** Phase 1: the refund row, committed before the provider call, under the payment's lock. */
  private reserve(paymentId: string, input: CreateRefundBody, actor: Principal, idem?: IdempotencyRecord): Promise<Refund> {
    return withTransaction(this.deps.sequelize, (t) => this.reserveIn(t, paymentId, input, actor, idem));
  }

  /** Phase 1's work in `t`: lock the payment, check what remains, record the refund as pending and the key's recovery point. */
  private async reserveIn(t: Transaction, paymentId: string, input: CreateRefundBody, actor: Principal, idem?: IdempotencyRecord): Promise<Refund> {
    const payment = await this.deps.ledger.lockVisible(paymentId, actor, t);
    if (!REFUNDABLE.includes(payment.status) || !payment.providerPaymentId) throw unexpectedState(payment, 'refunded');
    const remaining = payment.amount - (await this.deps.refunds.countedTotal(payment.id, t));
    const amount = input.amount ?? remaining;
    if (remaining <= 0 || amount > remaining) {
      throw new AppError('amount_exceeds_refundable', `At most ${Math.max(remaining, 0)} can still be refunded`, {
        param: 'amount',
        details: { refundable: Math.max(remaining, 0) },
      });
    }
    // The currency's rules are the payment's (not in the body): the same check and error as a create.
    const problem = checkAmount(amount, payment.currency, 'refund');
    if (problem) throw new AppError(problem.code, problem.message, { param: 'amount' });
    const refund = await this.deps.refunds.insertRequested(
      { paymentId: payment.id, amount, currency: payment.currency, reason: input.reason ?? null },
      t,
    );
    if (idem) await this.deps.idempotency.checkpoint(idem, 'refund_created', payment.id, t, refund.id);
    return refund;
  }

  /**
   * Phase 3: the provider's answer and the payment's new totals, in one transaction; with `finish`,
   * the request's answer is stored under its key in the same transaction.
   */
  private record(
    refund: Refund,
    answer: { providerRefundId: string | null; status: Refund['status']; failureReason: string | null },
    finish?: { record: IdempotencyRecord; answer: RefundAnswer },
  ): Promise<Refund> {
    return withTransaction(this.deps.sequelize, async (t) => {
      const payment: Payment = (await this.deps.ledger.lock(refund.paymentId, t))!;
      const saved = await this.deps.refunds.recordProviderAnswer(refund.id, answer, t);
      const updated = await applyRefundTotal({ refunds: this.deps.refunds, payments: this.deps.ledger }, payment, { source: 'api' }, t);
      if (saved.status === 'failed') {
        await this.deps.outbox.append('refund.failed', payment, { refund_id: saved.id, amount: saved.amount, reason: saved.failureReason, payment: serializePayment(updated) }, t);
      }
      if (finish) {
        const stored = finish.answer(saved);
        await this.deps.idempotency.completeIn(finish.record, stored.status, JSON.stringify(stored.body), t);
      }
      return saved;
    });
  }
}
