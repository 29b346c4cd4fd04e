import type { Transaction } from 'sequelize';
import { withTransaction } from '../../shared/db/database';
import { newId } from '../../shared/ids';
import { ProviderDeclinedError, ProviderRejectedError, type ProviderPaymentIntent } from '../../providers/payment-provider';
import { PendingKey, type IdempotencyRecord } from '../idempotency';
import { applyIntent } from './apply-intent';
import { declineError, providerFailure } from './payment.errors';
import type { Payment } from './payment.model';
import type { NewCreatedPayment } from './payment.repository';
import type { MoveSource } from './payment-status';
import type { Principal } from '../../shared/auth/jwt-verifier';
import type { CreatePaymentBody } from './payment.schemas';
import type { PaymentsDeps } from './payments.deps';
import { callProvider } from '../../shared/provider-call';
import { priceOf, type Price } from './price-from-order';
import { recordDeclineWithoutIntent } from './record-decline';
import { customerForPayment, customerIsLocal } from './payment-customer';
import { claimOrder } from './order-payment-guard';
import { attachAtOnce, type FinishWith } from './attach-at-once';
import { logger } from '../../shared/logger';

/** How the caller answers for the payment a create ends with (`created`: a new payment, not the order's open one). */
export type CreateAnswer = (payment: Payment, created: boolean) => { status: number; body: unknown };

export interface CreatePaymentResult {
  payment: Payment;
  /** False when an open payment for the same order was returned instead (see `claimOrder`). */
  created: boolean;
}

/**
 * Creates a payment in brandur's atomic phases: (1) commit the payment row and the key's recovery
 * point, (2) call the provider with an idempotency key derived from the payment id, (3) commit the
 * result. A crash or an unknown outcome between phases is finished by a retry, with one PaymentIntent.
 */
export class CreatePaymentUseCase {
  constructor(private readonly deps: PaymentsDeps) {}

  /**
   * `key` is the request's Idempotency-Key: begun already (a record), or pending (begun here, by phase
   * 1's own statement when it can be: a new key, no order, nothing to look up first). With a pending
   * key and `answer`, phase 3 may store the request's answer under the key in its own statement
   * (`key.stored` is then set, and the caller sends exactly that text).
   */
  async execute(
    input: CreatePaymentBody,
    actor: Principal,
    key?: IdempotencyRecord | PendingKey,
    answer?: CreateAnswer,
  ): Promise<CreatePaymentResult> {
    // Read when phase 3 runs, so a key begun on the way (phase 1's statement, or `beginPending`) is used.
    const finishFor = (created: boolean): FinishWith | undefined =>
      answer ? { record: key instanceof PendingKey ? key.record : key, answer: (p: Payment) => answer(p, created) } : undefined;
    let idem: IdempotencyRecord | undefined;
    if (key instanceof PendingKey) {
      let seen = false;
      if (!input.order_id && customerIsLocal(this.deps, input)) {
        const created = await this.recordPaymentWithKey(input, await priceOf(input, actor.userId, this.deps.orders), actor, key);
        if (created) return { payment: await this.attachIntent(created, 'api', finishFor(true)), created: true };
        seen = true;
      }
      // The key exists (a retry, a replay, a request in flight) or the create needs look-ups first:
      // begin the key alone, as the plain middleware would have.
      idem = await this.deps.idempotency.beginPending(key, { seen });
    } else {
      idem = key;
    }
    const resumed = idem?.paymentId ? await this.deps.payments.findById(idem.paymentId) : null;
    // The order lookup comes before phase 1, so a lookup that fails leaves nothing behind (no row,
    // no recovery point) and the released key starts afresh. A resumed request was priced already.
    const { payment, created } = resumed
      ? { payment: resumed, created: true }
      : await this.recordPayment(input, await priceOf(input, actor.userId, this.deps.orders), actor, idem, await customerForPayment(this.deps, input, actor));
    if (payment.providerPaymentId) return { payment, created };
    return { payment: await this.attachIntent(payment, 'api', finishFor(created)), created };
  }

  /** The row phase 1 writes: `pending`, priced by `price`, with the card and customer asked for. */
  private newPayment(id: string, input: CreatePaymentBody, price: Price, actor: Principal, customerId: string | null): NewCreatedPayment {
    return {
      id,
      userId: actor.userId,
      orderId: input.order_id ?? null,
      amount: price.amount,
      currency: price.currency,
      description: input.description ?? null,
      metadata: input.metadata ?? {},
      provider: this.deps.provider.name,
      status: 'pending',
      orderCheck: price.orderCheck,
      paymentMethod: input.payment_method ?? null,
      providerCustomerId: customerId,
      setupFutureUsage: input.setup_future_usage ?? null,
    };
  }

  /**
   * Phase 1: the local row, its history row and the key's recovery point, committed before any
   * provider call: one statement (three rows or none), autocommit (one round trip). A crash before
   * the commit leaves the key at `started`, after it at `payment_created`. With an order, its open
   * payment (or its being paid already) is looked for first, under the order's lock, in a transaction
   * with the statement.
   */
  private async recordPayment(
    input: CreatePaymentBody,
    price: Price,
    actor: Principal,
    idem?: IdempotencyRecord,
    customerId: string | null = null,
  ): Promise<CreatePaymentResult> {
    const { sequelize, payments, mover, idempotency } = this.deps;
    const id = newId('pay');
    const insert = (t?: Transaction) =>
      payments.insertCreated(
        this.newPayment(id, input, price, actor, customerId),
        { source: 'api' },
        idem ? idempotency.checkpointCte(idem, 'payment_created', '(SELECT id FROM p)') : null,
        t,
      );
    const orderId = input.order_id;
    const result = orderId
      ? await withTransaction(sequelize, async (t) => {
          // (user, order) is the natural key with or without an Idempotency-Key: a second key must
          // not make a second charge for the same order.
          const open = await claimOrder(payments, actor.userId, orderId, price, t);
          if (open) return { payment: open, created: false };
          const payment = await insert(t);
          t.afterCommit(() => mover.countCreation(payment));
          return { payment, created: true };
        })
      : // Without an order the one statement is atomic on its own: autocommit, no START/COMMIT.
        await insert().then((payment) => {
          mover.countCreation(payment);
          return { payment, created: true };
        });
    if (idem && result.created) idempotency.checkpointed(idem, 'payment_created', result.payment.id);
    return result;
  }

  /**
   * Phase 1 with a new key in one autocommit statement: the key (already at `payment_created`), the
   * payment and its history row, committed together or not at all. Null when the key exists (nothing
   * written). A crash after the commit leaves the key locked at `payment_created`, as `recordPayment`.
   */
  private async recordPaymentWithKey(input: CreatePaymentBody, price: Price, actor: Principal, key: PendingKey): Promise<Payment | null> {
    const { payments, mover, idempotency } = this.deps;
    const id = newId('pay');
    let written: Awaited<ReturnType<typeof payments.insertCreatedWithKey>>;
    try {
      // Only a create without an order or a customer look-up comes here (see `execute`).
      written = await payments.insertCreatedWithKey(
        this.newPayment(id, input, price, actor, null),
        { source: 'api' },
        idempotency.newKeyCte(key, 'payment_created', id),
      );
    } catch (err) {
      // The statement may have committed with only its answer lost (the connection died): unlock the
      // key it would have written, so a retry resumes at once instead of meeting 409 until the lease ends.
      await idempotency.releaseUnacknowledged(key, id).catch((releaseError) => logger.warn('idempotency key not released', { err: releaseError }));
      throw err;
    }
    if (!written) return null;
    idempotency.begunWith(key, written.key, 'payment_created', id);
    mover.countCreation(written.payment);
    return written.payment;
  }

  /**
   * Phases 2 and 3: the provider call (no transaction open), then the result committed: in one
   * statement (with the answer stored under `finish.key`) when it fits (`attachAtOnce`), else locked.
   */
  async attachIntent(payment: Payment, source: MoveSource = 'api', finish?: FinishWith): Promise<Payment> {
    const { provider, metrics } = this.deps;
    let intent: ProviderPaymentIntent;
    let declined: ProviderDeclinedError | undefined;
    try {
      intent = await callProvider(metrics, 'create_payment_intent', () =>
        provider.createPaymentIntent(
          {
            paymentId: payment.id,
            amount: payment.amount,
            currency: payment.currency,
            orderId: payment.orderId,
            description: payment.description,
            metadata: payment.metadata,
            paymentMethod: payment.paymentMethod,
            customer: payment.providerCustomerId,
            setupFutureUsage: payment.setupFutureUsage,
          },
          { idempotencyKey: `${payment.id}:create` },
        ),
      );
    } catch (err) {
      if (err instanceof ProviderRejectedError) await this.markRejected(payment, err, source);
      if (err instanceof ProviderDeclinedError && !err.intent) {
        throw declineError(await recordDeclineWithoutIntent(this.deps, payment.id, err, source), err);
      }
      if (!(err instanceof ProviderDeclinedError && err.intent)) throw providerFailure(err);
      declined = err;
      intent = err.intent;
    }

    if (!declined) {
      const done = await attachAtOnce(this.deps, payment, intent, source, finish);
      if (done) return done;
    }
    const saved = await withTransaction(this.deps.sequelize, async (t) => {
      let current = (await this.deps.payments.findById(payment.id, t, { lock: true }))!;
      if (!current.providerPaymentId) {
        // A webhook may have attached the intent already (it can beat this commit); announce once.
        current = await this.deps.payments.update(current.id, { provider_payment_id: intent.id, client_secret: intent.clientSecret }, t);
        await this.deps.mover.announceCreated(current, t);
      }
      return (await applyIntent(this.deps.mover, current, intent, { source }, t)).payment;
    });
    if (declined) throw declineError(saved, declined);
    return saved;
  }

  /** The provider refused to create the intent (a final answer): the payment fails instead of hanging open. */
  private async markRejected(payment: Payment, err: ProviderRejectedError, source: MoveSource): Promise<void> {
    await withTransaction(this.deps.sequelize, async (t) => {
      const current = (await this.deps.payments.findById(payment.id, t, { lock: true }))!;
      if (current.providerPaymentId) return;
      await this.deps.mover.move(current, 'failed', { source }, t, { failure_code: err.code, failure_message: err.message });
    });
  }
}
