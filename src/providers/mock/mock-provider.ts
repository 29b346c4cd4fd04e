import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sequelize } from 'sequelize';
import { toProviderIntent, toProviderPaymentMethod, toProviderRefund, toProviderSetupIntent } from '../stripe/stripe-mappers';
import {
  ProviderDeclinedError,
  ProviderRejectedError,
  type CallOptions,
  type CreateCustomerInput,
  type CreateIntentInput,
  type CreateRefundInput,
  type IntentStatus,
  type ListCardsOptions,
  type ListEventsOptions,
  type PaymentProvider,
  type ProviderCardPage,
  type ProviderCustomer,
  type ProviderEventPage,
  type ProviderPaymentIntent,
  type ProviderPaymentMethod,
  type ProviderRefund,
  type ProviderSetupIntent,
} from '../payment-provider';
import { stripeWebhookEvents } from '../stripe/stripe-webhook-event';
import { outcomeForPaymentMethod, randomFailure, type MockOutcome } from './mock-outcomes';
import { MockWallet } from './mock-wallet';
import { answerOf, fingerprint, refuseAmount, unwrap } from './mock-answers';
import { MemoryMockStore, type MockAnswer, type MockStore, type MockTx, type StoredIntent } from './mock-store';
import { SqlMockStore } from './mock-sql-store';
import { buildCharge, buildDispute, buildEvent, buildPaymentIntent, buildRefund, setIntentStatus, type StripeObject } from './stripe-objects';
import { applyCustomer, AUTHENTICATION_FAILURE, saveCardIfAsked, savedCardOutcome, type AuthenticationOutcome } from './mock-checkout';

export const SIMULATION_SCENARIOS = ['succeed', 'fail', 'require_action', 'process', 'cancel', 'refund', 'dispute'] as const;
export type SimulationScenario = (typeof SIMULATION_SCENARIOS)[number];

export interface MockProviderOptions {
  latencyMs: number;
  /** Chance that a payment with a succeeding test card succeeds anyway; below 1 mixes in declines. */
  successRate: number;
  random?: () => number;
  /**
   * The service's database: the mock keeps its objects, events and idempotency keys in its `mock_*`
   * tables there, one Stripe account for every replica and across restarts. Without it the state is
   * in this process's memory (unit tests, the simulator's scratch copy for the Stripe provider).
   */
  sequelize?: Sequelize;
}

/** One operation's transaction and the events it emits (published, or returned to the simulator, after commit). */
interface Op {
  tx: MockTx;
  events: StripeObject[];
}

const snapshot = (pi: StripeObject): ProviderPaymentIntent => toProviderIntent(structuredClone(pi) as never);
const paymentMethodOf = (pm: StripeObject): ProviderPaymentMethod => toProviderPaymentMethod(structuredClone(pm) as never);

const EVENT_FOR_STATUS: Partial<Record<IntentStatus, string>> = {
  succeeded: 'payment_intent.succeeded',
  processing: 'payment_intent.processing',
  requires_action: 'payment_intent.requires_action',
  canceled: 'payment_intent.canceled',
};

/**
 * Stripe test mode inside the service: test PaymentMethods decide outcomes, provider idempotency keys
 * are honoured (same key, same answer, errors included; another request under the key is
 * `idempotency_error`), amounts follow the currency table as Stripe's do, and every move emits a
 * Stripe-shaped event ('event') for the webhook pipeline once its transaction has committed.
 */
export class MockProvider implements PaymentProvider {
  readonly name = 'mock' as const;
  readonly events = new EventEmitter();
  private readonly store: MockStore;
  private readonly random: () => number;

  constructor(private readonly options: MockProviderOptions) {
    this.random = options.random ?? Math.random;
    this.store = options.sequelize ? new SqlMockStore(options.sequelize) : new MemoryMockStore();
  }

  async createPaymentIntent(input: CreateIntentInput, options: CallOptions): Promise<ProviderPaymentIntent> {
    const pi = await this.idempotent(options.idempotencyKey, ['create_payment_intent', input], async (op) => {
      refuseAmount(input.amount, input.currency, 'charge');
      // An unknown payment method is refused before anything is created, as Stripe validates first.
      const outcome = input.paymentMethod ? await this.outcomeFor(op.tx, input.paymentMethod) : undefined;
      const created = buildPaymentIntent({
        amount: input.amount,
        currency: input.currency,
        description: input.description,
        metadata: { ...input.metadata, payment_id: input.paymentId, ...(input.orderId ? { order_id: input.orderId } : {}) },
      });
      applyCustomer(created, input);
      await op.tx.insertIntent({ pi: created, refundedBefore: 0 });
      await this.emit(op, 'payment_intent.created', created);
      return outcome ? this.confirmNow(op, created, input.paymentMethod!, outcome) : created;
    });
    return snapshot(pi);
  }

  async confirmPaymentIntent(id: string, paymentMethod: string, options: CallOptions): Promise<ProviderPaymentIntent> {
    const pi = await this.idempotent(options.idempotencyKey, ['confirm_payment_intent', id, paymentMethod], async (op) => {
      const { pi: current } = await this.find(op.tx, id);
      if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(current.status as string)) {
        throw new ProviderRejectedError('payment_intent_unexpected_state', `This PaymentIntent's status is ${String(current.status)}`);
      }
      return this.confirmNow(op, current, paymentMethod, await this.outcomeFor(op.tx, paymentMethod));
    });
    return snapshot(pi);
  }

  async cancelPaymentIntent(id: string, options: CallOptions): Promise<ProviderPaymentIntent> {
    const pi = await this.idempotent(options.idempotencyKey, ['cancel_payment_intent', id], async (op) => {
      const { pi: current } = await this.find(op.tx, id);
      if (current.status === 'succeeded' || current.status === 'canceled') {
        throw new ProviderRejectedError('payment_intent_unexpected_state', `This PaymentIntent's status is ${String(current.status)}`);
      }
      await this.move(op, current, 'canceled');
      return current;
    });
    return snapshot(pi);
  }

  async retrievePaymentIntent(id: string): Promise<ProviderPaymentIntent> {
    await this.latency();
    return snapshot((await this.store.transaction((tx) => this.find(tx, id, false))).pi);
  }

  async createRefund(input: CreateRefundInput, options: CallOptions): Promise<ProviderRefund> {
    const refund = await this.idempotent(options.idempotencyKey, ['create_refund', input], async (op) =>
      this.refund(op, await this.find(op.tx, input.paymentIntentId), input.amount, input.reason ?? null, {
        refund_id: input.refundId,
        payment_id: input.paymentId,
      }),
    );
    return { id: refund.id, status: 'succeeded', amount: refund.amount as number, failureReason: null };
  }

  async retrieveRefund(id: string): Promise<ProviderRefund> {
    await this.latency();
    const refund = await this.store.transaction((tx) => tx.find('mock_refunds', id, { lock: false }));
    if (!refund) throw new ProviderRejectedError('resource_missing', `No such refund: '${id}'`, 'id');
    return toProviderRefund(refund as never);
  }

  async createCustomer(input: CreateCustomerInput, options: CallOptions): Promise<ProviderCustomer> {
    const customer = await this.idempotent(options.idempotencyKey, ['create_customer', input], (op) => MockWallet.createCustomer(op.tx, input.userId));
    return { id: customer.id };
  }

  async createSetupIntent(customerId: string, options: CallOptions): Promise<ProviderSetupIntent> {
    const si = await this.idempotent(options.idempotencyKey, ['create_setup_intent', customerId], (op) => MockWallet.createSetupIntent(op.tx, customerId));
    return toProviderSetupIntent(si as never);
  }

  async listCards(customerId: string, options: ListCardsOptions): Promise<ProviderCardPage> {
    await this.latency();
    const page = await this.store.transaction((tx) => MockWallet.listCards(tx, customerId, options));
    return { data: page.data.map(paymentMethodOf), hasMore: page.hasMore };
  }

  async retrievePaymentMethod(id: string): Promise<ProviderPaymentMethod> {
    await this.latency();
    return paymentMethodOf(await this.store.transaction((tx) => MockWallet.retrievePaymentMethod(tx, id)));
  }

  async detachPaymentMethod(id: string, options: CallOptions): Promise<ProviderPaymentMethod> {
    return paymentMethodOf(await this.idempotent(options.idempotencyKey, ['detach_payment_method', id], (op) => MockWallet.detachPaymentMethod(op.tx, id)));
  }

  /** The events the mock emitted, newest first, as Stripe's GET /v1/events lists them. */
  async listEvents(options: ListEventsOptions = {}): Promise<ProviderEventPage> {
    return this.store.listEvents(options);
  }

  /** Records whether an emitted event reached the webhook pipeline (Stripe's `delivery_success`); never throws. */
  async recordDelivery(eventId: string, success: boolean): Promise<void> {
    await this.store.markDelivery(eventId, success).catch(() => undefined);
  }

  /**
   * Mock only, for tests: what the browser confirming a SetupIntent with Stripe.js does, i.e. a card
   * (the one `paymentMethod`, a test PaymentMethod, stands for) saved on the intent's customer.
   */
  async simulateSetupSucceeded(setupIntentId: string, paymentMethod = 'pm_card_visa'): Promise<ProviderPaymentMethod> {
    return paymentMethodOf(await this.store.transaction((tx) => MockWallet.setupSucceeded(tx, setupIntentId, paymentMethod)));
  }

  /**
   * Mock only: the person's answer on the mock 3-D Secure page. Completed, the intent succeeds (and
   * saves the card if asked); failed, it goes back to requires_payment_method with Stripe's
   * authentication error. Either way the events go out as Stripe's would, through the webhook pipeline.
   * Throws ProviderRejectedError `payment_intent_unexpected_state` unless the intent requires_action.
   */
  async completeAuthentication(id: string, outcome: AuthenticationOutcome): Promise<ProviderPaymentIntent> {
    const { pi, events } = await this.store.transaction(async (tx) => {
      const op: Op = { tx, events: [] };
      const { pi: current } = await this.find(tx, id);
      if (current.status !== 'requires_action') {
        throw new ProviderRejectedError('payment_intent_unexpected_state', `This PaymentIntent's status is ${String(current.status)}`);
      }
      if (outcome === 'fail') {
        await this.decline(op, current, AUTHENTICATION_FAILURE);
      } else {
        await saveCardIfAsked(tx, current);
        await this.move(op, current, 'succeeded');
      }
      return { pi: current, events: op.events };
    });
    // As after any call: the events go out once the change committed.
    setImmediate(() => events.forEach((event) => this.events.emit('event', event)));
    return snapshot(pi);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  // The mock's events are Stripe's, signed Stripe's way: read and verified as Stripe's are.
  readonly verifyWebhookEvent = stripeWebhookEvents.verifyWebhookEvent;
  readonly readEvent = stripeWebhookEvents.readEvent;
  readonly signWebhookPayload = stripeWebhookEvents.signWebhookPayload;
  readonly intentFromEvent = stripeWebhookEvents.intentFromEvent;

  /**
   * Drives a mock intent as `POST /v1/test/simulate` asks and returns the events Stripe would send,
   * for the caller to deliver (they are recorded, not emitted on `events`).
   */
  async simulate(id: string, scenario: SimulationScenario): Promise<StripeObject[]> {
    return this.store.transaction(async (tx) => {
      const op: Op = { tx, events: [] };
      await this.drive(op, id, scenario);
      return op.events;
    });
  }

  /**
   * Adopts an intent the mock does not hold (a Stripe intent, for the simulator's scratch copy) so
   * simulate can drive it; `amountRefunded` is what was refunded on it already. An intent held is kept.
   */
  async adopt(raw: StripeObject, amountRefunded = 0): Promise<void> {
    await this.store.transaction((tx) => tx.insertIntent({ pi: structuredClone(raw), refundedBefore: amountRefunded }, { ifAbsent: true }));
  }

  async has(id: string): Promise<boolean> {
    return (await this.store.transaction((tx) => tx.findIntent(id))) !== null;
  }

  private async drive(op: Op, id: string, scenario: SimulationScenario): Promise<void> {
    const stored = await this.find(op.tx, id);
    const { pi } = stored;
    switch (scenario) {
      case 'succeed':
        return this.move(op, pi, 'succeeded');
      case 'process':
        return this.move(op, pi, 'processing');
      case 'require_action':
        return this.move(op, pi, 'requires_action');
      case 'cancel':
        return this.move(op, pi, 'canceled');
      case 'fail':
        return this.decline(op, pi, { code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' });
      case 'refund':
        await this.refund(op, stored);
        return;
      case 'dispute':
        // Only a captured charge can be disputed.
        if (pi.status !== 'succeeded' || !pi.latest_charge) {
          throw new ProviderRejectedError('charge_not_disputable', 'Only a succeeded PaymentIntent can be disputed');
        }
        await this.emit(op, 'charge.dispute.created', buildDispute(pi));
    }
  }

  /** Refunds `amount` (default: all that remains) as Stripe would, emitting refund.created and charge.refunded. */
  private async refund(op: Op, stored: StoredIntent, amount?: number, reason: string | null = 'requested_by_customer', metadata: Record<string, string> = {}): Promise<StripeObject> {
    const { pi } = stored;
    if (amount !== undefined) refuseAmount(amount, pi.currency as string, 'refund');
    if (pi.status !== 'succeeded') {
      throw new ProviderRejectedError('charge_not_refundable', 'Only a succeeded PaymentIntent can be refunded');
    }
    const refunds = await op.tx.children('mock_refunds', pi.id);
    const refunded = stored.refundedBefore + refunds.reduce((sum, r) => sum + (r.amount as number), 0);
    const remaining = (pi.amount as number) - refunded;
    if (remaining <= 0) throw new ProviderRejectedError('charge_already_refunded', 'The charge is fully refunded');
    const value = amount ?? remaining;
    if (value > remaining) {
      throw new ProviderRejectedError('amount_too_large', `Refund amount (${value}) is greater than unrefunded amount (${remaining})`, 'amount');
    }
    const refund = { ...buildRefund(pi, value, reason), metadata };
    await op.tx.insert('mock_refunds', refund, pi.id);
    await this.emit(op, 'refund.created', refund);
    await this.emit(op, 'charge.refunded', buildCharge(pi, refunded + value, [...refunds, refund]), { amount_refunded: refunded });
    return refund;
  }

  private async confirmNow(op: Op, pi: StripeObject, paymentMethod: string, outcome: MockOutcome): Promise<StripeObject> {
    pi.payment_method = paymentMethod;
    if (outcome.kind === 'decline') {
      await this.decline(op, pi, outcome.error);
      throw new ProviderDeclinedError(outcome.error, snapshot(pi));
    }
    const status: IntentStatus =
      outcome.kind === 'succeed' ? 'succeeded' : outcome.kind === 'process' ? 'processing' : 'requires_action';
    if (status === 'succeeded') await saveCardIfAsked(op.tx, pi);
    await this.move(op, pi, status);
    return pi;
  }

  private async outcomeFor(tx: MockTx, paymentMethod: string): Promise<MockOutcome> {
    const outcome = outcomeForPaymentMethod(paymentMethod) ?? (await savedCardOutcome(tx, paymentMethod));
    if (!outcome) {
      throw new ProviderRejectedError('resource_missing', `No such PaymentMethod: '${paymentMethod}'`, 'payment_method');
    }
    if (outcome.kind === 'succeed' && this.random() >= this.options.successRate) return randomFailure(this.random);
    return outcome;
  }

  private async decline(op: Op, pi: StripeObject, error: { code?: string; declineCode?: string; message?: string }): Promise<void> {
    setIntentStatus(pi, 'requires_payment_method', error);
    await op.tx.saveIntent(pi);
    await this.emit(op, 'payment_intent.payment_failed', pi);
  }

  private async move(op: Op, pi: StripeObject, status: IntentStatus): Promise<void> {
    const previous = pi.status;
    setIntentStatus(pi, status);
    await op.tx.saveIntent(pi);
    const type = EVENT_FOR_STATUS[status];
    if (type) await this.emit(op, type, pi, { status: previous });
  }

  /** Records the event with the operation's writes; it is published only once they have committed. */
  private async emit(op: Op, type: string, object: StripeObject, previous?: Record<string, unknown>): Promise<void> {
    const event = buildEvent(type, object, previous);
    await op.tx.addEvent(event);
    op.events.push(event);
  }

  /** The intent, locked for the rest of the transaction (unless `lock` is false). */
  private async find(tx: MockTx, id: string, lock = true): Promise<StoredIntent> {
    const stored = await tx.findIntent(id, { lock });
    if (!stored) throw new ProviderRejectedError('resource_missing', `No such payment_intent: '${id}'`, 'id');
    return stored;
  }

  /**
   * Same key, same answer (declines and refusals included), as Stripe's idempotency keys: the key, the
   * work and the answer commit together, and a concurrent request under the key waits for the answer.
   * The same key with other parameters is refused (`idempotency_error`) and changes nothing.
   */
  private async idempotent(key: string, request: unknown, fn: (op: Op) => Promise<StripeObject>): Promise<StripeObject> {
    await this.latency();
    const requestHash = fingerprint(request);
    const once = await this.writeOnce(key, requestHash, fn);
    const { answer, events } = once ?? (await this.store.transaction(async (tx) => {
      const prior = await tx.claimKey(key, requestHash);
      if (prior) {
        if (prior.request !== requestHash) {
          const message = 'Keys for idempotent requests can only be used with the same parameters they were first used with.';
          return { answer: { kind: 'rejected', code: 'idempotency_error', message } as MockAnswer, events: [] };
        }
        return { answer: prior.answer, events: [] };
      }
      const op: Op = { tx, events: [] };
      const answer = await answerOf(() => fn(op));
      await tx.saveAnswer(key, answer);
      return { answer, events: op.events };
    }));
    // Stripe delivers after the API call returns; so does the mock, and only what committed.
    if (events.length > 0) setImmediate(() => events.forEach((event) => this.events.emit('event', event)));
    return unwrap(answer);
  }

  /**
   * The one-statement path of `idempotent` (a store that has it, an operation that only writes, a new
   * key): the answer and its events, or null to take the transaction. An operation that reads stops
   * at its first read, before anything is written.
   */
  private async writeOnce(key: string, requestHash: string, fn: (op: Op) => Promise<StripeObject>): Promise<{ answer: MockAnswer; events: StripeObject[] } | null> {
    if (!this.store.writeOnce) return null;
    let events: StripeObject[] = [];
    const answer = await this.store.writeOnce(key, requestHash, (tx) => {
      const op: Op = { tx, events: [] };
      events = op.events;
      return answerOf(() => fn(op));
    });
    return answer ? { answer, events } : null;
  }

  private async latency(): Promise<void> {
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
  }
}
