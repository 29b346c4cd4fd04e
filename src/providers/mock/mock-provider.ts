import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { toProviderIntent, toProviderPaymentMethod, toProviderSetupIntent } from '../stripe/stripe-mappers';
import {
  ProviderDeclinedError,
  ProviderRejectedError,
  type CallOptions,
  type CreateCustomerInput,
  type CreateIntentInput,
  type CreateRefundInput,
  type ListCardsOptions,
  type ProviderCardPage,
  type ProviderCustomer,
  type ProviderPaymentMethod,
  type ProviderRefund,
  type ProviderSetupIntent,
  type IntentStatus,
  type PaymentProvider,
  type ProviderPaymentIntent,
} from '../payment-provider';
import { outcomeForPaymentMethod, randomFailure, type MockOutcome } from './mock-outcomes';
import { MockWallet } from './mock-wallet';
import { applyCustomer, AUTHENTICATION_FAILURE, saveCardIfAsked, savedCardOutcome, type AuthenticationOutcome } from './mock-checkout';
import {
  buildCharge,
  buildDispute,
  buildEvent,
  buildPaymentIntent,
  buildRefund,
  setIntentStatus,
  type StripeObject,
} from './stripe-objects';

export const SIMULATION_SCENARIOS = ['succeed', 'fail', 'require_action', 'process', 'cancel', 'refund', 'dispute'] as const;
export type SimulationScenario = (typeof SIMULATION_SCENARIOS)[number];

export interface MockProviderOptions {
  latencyMs: number;
  /** Chance that a payment with a succeeding test card succeeds anyway; below 1 mixes in declines. */
  successRate: number;
  random?: () => number;
}

/** `refundedBefore`: what an adopted intent had refunded before the mock held it (not itemised). */
type Stored = { pi: StripeObject; refunds: StripeObject[]; refundedBefore: number };
// A copy, so an answer cached for an idempotency key does not change when the intent moves later.
const snapshot = (pi: StripeObject): ProviderPaymentIntent => toProviderIntent(structuredClone(pi) as never);
const paymentMethodOf = (pm: StripeObject): ProviderPaymentMethod => toProviderPaymentMethod(structuredClone(pm) as never);

const EVENT_FOR_STATUS: Partial<Record<IntentStatus, string>> = {
  succeeded: 'payment_intent.succeeded',
  processing: 'payment_intent.processing',
  requires_action: 'payment_intent.requires_action',
  canceled: 'payment_intent.canceled',
};

/**
 * Stripe test mode in process: test PaymentMethods decide outcomes, provider idempotency keys are
 * honoured, and every move emits a Stripe-shaped event ('event') for the webhook pipeline.
 * State lives in memory: a restart forgets the mock's intents (the payments themselves are in the database).
 */
export class MockProvider implements PaymentProvider {
  readonly name = 'mock' as const;
  readonly events = new EventEmitter();
  private readonly intents = new Map<string, Stored>();
  // The call's promise, not its result: a second call with the key while the first runs gets the same answer.
  private readonly idempotency = new Map<string, Promise<unknown>>();
  private readonly wallet = new MockWallet();
  private readonly random: () => number;
  private capture?: StripeObject[];

  constructor(private readonly options: MockProviderOptions) {
    this.random = options.random ?? Math.random;
  }

  createPaymentIntent(input: CreateIntentInput, options: CallOptions): Promise<ProviderPaymentIntent> {
    return this.idempotent(options.idempotencyKey, async () => {
      const pi = buildPaymentIntent({
        amount: input.amount,
        currency: input.currency,
        description: input.description,
        metadata: { ...input.metadata, payment_id: input.paymentId, ...(input.orderId ? { order_id: input.orderId } : {}) },
      });
      applyCustomer(pi, input);
      this.intents.set(pi.id, { pi, refunds: [], refundedBefore: 0 });
      this.emit('payment_intent.created', pi);
      if (input.paymentMethod) return this.confirmNow(pi, input.paymentMethod);
      return snapshot(pi);
    });
  }

  confirmPaymentIntent(id: string, paymentMethod: string, options: CallOptions): Promise<ProviderPaymentIntent> {
    return this.idempotent(options.idempotencyKey, async () => {
      const { pi } = this.find(id);
      if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(pi.status as string)) {
        throw new ProviderRejectedError('payment_intent_unexpected_state', `This PaymentIntent's status is ${String(pi.status)}`);
      }
      return this.confirmNow(pi, paymentMethod);
    });
  }

  cancelPaymentIntent(id: string, options: CallOptions): Promise<ProviderPaymentIntent> {
    return this.idempotent(options.idempotencyKey, async () => {
      const { pi } = this.find(id);
      if (pi.status === 'succeeded' || pi.status === 'canceled') {
        throw new ProviderRejectedError('payment_intent_unexpected_state', `This PaymentIntent's status is ${String(pi.status)}`);
      }
      this.move(pi, 'canceled');
      return snapshot(pi);
    });
  }

  async retrievePaymentIntent(id: string): Promise<ProviderPaymentIntent> {
    await this.latency();
    return toProviderIntent(this.find(id).pi as never);
  }

  createRefund(input: CreateRefundInput, options: CallOptions): Promise<ProviderRefund> {
    return this.idempotent(options.idempotencyKey, async () => {
      const refund = this.refund(this.find(input.paymentIntentId), input.amount, input.reason ?? null, {
        refund_id: input.refundId,
        payment_id: input.paymentId,
      });
      return { id: refund.id, status: 'succeeded' as const, amount: input.amount, failureReason: null };
    });
  }

  createCustomer(input: CreateCustomerInput, options: CallOptions): Promise<ProviderCustomer> {
    return this.idempotent(options.idempotencyKey, async () => ({ id: this.wallet.createCustomer(input.userId).id }));
  }

  createSetupIntent(customerId: string, options: CallOptions): Promise<ProviderSetupIntent> {
    return this.idempotent(options.idempotencyKey, async () =>
      toProviderSetupIntent(structuredClone(this.wallet.createSetupIntent(customerId)) as never),
    );
  }

  async listCards(customerId: string, options: ListCardsOptions): Promise<ProviderCardPage> {
    await this.latency();
    const page = this.wallet.listCards(customerId, options);
    return { data: page.data.map(paymentMethodOf), hasMore: page.hasMore };
  }

  async retrievePaymentMethod(id: string): Promise<ProviderPaymentMethod> {
    await this.latency();
    return paymentMethodOf(this.wallet.retrievePaymentMethod(id));
  }

  detachPaymentMethod(id: string, options: CallOptions): Promise<ProviderPaymentMethod> {
    return this.idempotent(options.idempotencyKey, async () => paymentMethodOf(this.wallet.detachPaymentMethod(id)));
  }

  /**
   * Mock only, for tests: what the browser confirming a SetupIntent with Stripe.js does, i.e. a card
   * (the one `paymentMethod`, a test PaymentMethod, stands for) saved on the intent's customer.
   */
  simulateSetupSucceeded(setupIntentId: string, paymentMethod = 'pm_card_visa'): ProviderPaymentMethod {
    return paymentMethodOf(this.wallet.setupSucceeded(setupIntentId, paymentMethod));
  }

  /**
   * Mock only: the person's answer on the mock 3-D Secure page. Completed, the intent succeeds (and
   * saves the card if asked); failed, it goes back to requires_payment_method with Stripe's
   * authentication error. Either way the events go out as Stripe's would, through the webhook pipeline.
   * Throws ProviderRejectedError `payment_intent_unexpected_state` unless the intent requires_action.
   */
  completeAuthentication(id: string, outcome: AuthenticationOutcome): ProviderPaymentIntent {
    const { pi } = this.find(id);
    if (pi.status !== 'requires_action') {
      throw new ProviderRejectedError('payment_intent_unexpected_state', `This PaymentIntent's status is ${String(pi.status)}`);
    }
    if (outcome === 'fail') {
      this.decline(pi, AUTHENTICATION_FAILURE);
    } else {
      saveCardIfAsked(this.wallet, pi);
      this.move(pi, 'succeeded');
    }
    return snapshot(pi);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  /**
   * Drives a mock intent as `POST /v1/test/simulate` asks and returns the events Stripe would send,
   * for the caller to deliver (they are not emitted on `events`).
   */
  simulate(id: string, scenario: SimulationScenario): StripeObject[] {
    const captured: StripeObject[] = [];
    this.capture = captured;
    try {
      this.drive(id, scenario);
    } finally {
      this.capture = undefined;
    }
    return captured;
  }

  private drive(id: string, scenario: SimulationScenario): void {
    const stored = this.find(id);
    const { pi } = stored;
    switch (scenario) {
      case 'succeed':
        return this.move(pi, 'succeeded');
      case 'process':
        return this.move(pi, 'processing');
      case 'require_action':
        return this.move(pi, 'requires_action');
      case 'cancel':
        return this.move(pi, 'canceled');
      case 'fail':
        return this.decline(pi, { code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' });
      case 'refund':
        this.refund(stored);
        return;
      case 'dispute':
        // Only a captured charge can be disputed.
        if (pi.status !== 'succeeded' || !pi.latest_charge) {
          throw new ProviderRejectedError('charge_not_disputable', 'Only a succeeded PaymentIntent can be disputed');
        }
        this.emit('charge.dispute.created', buildDispute(pi));
        return;
    }
  }

  /**
   * Adopts an intent the mock does not hold (e.g. after a restart, or a Stripe intent) so simulate can
   * still drive it; `amountRefunded` is what was refunded on it already, so it is not refunded twice.
   */
  adopt(raw: StripeObject, amountRefunded = 0): void {
    if (!this.intents.has(raw.id)) this.intents.set(raw.id, { pi: structuredClone(raw), refunds: [], refundedBefore: amountRefunded });
  }

  has(id: string): boolean {
    return this.intents.has(id);
  }

  /** Refunds `amount` (default: all that remains) as Stripe would, emitting refund.created and charge.refunded. */
  private refund(stored: Stored, amount?: number, reason: string | null = 'requested_by_customer', metadata: Record<string, string> = {}): StripeObject {
    const { pi } = stored;
    if (pi.status !== 'succeeded') {
      throw new ProviderRejectedError('charge_not_refundable', 'Only a succeeded PaymentIntent can be refunded');
    }
    const refunded = stored.refundedBefore + stored.refunds.reduce((sum, r) => sum + (r.amount as number), 0);
    const remaining = (pi.amount as number) - refunded;
    if (remaining <= 0) throw new ProviderRejectedError('charge_already_refunded', 'The charge is fully refunded');
    const value = amount ?? remaining;
    if (value > remaining) {
      throw new ProviderRejectedError('amount_too_large', `Refund amount (${value}) is greater than unrefunded amount (${remaining})`, 'amount');
    }
    const refund = { ...buildRefund(pi, value, reason), metadata };
    stored.refunds.push(refund);
    this.emit('refund.created', refund);
    this.emit('charge.refunded', buildCharge(pi, refunded + value, stored.refunds), { amount_refunded: refunded });
    return refund;
  }

  private confirmNow(pi: StripeObject, paymentMethod: string): ProviderPaymentIntent {
    const outcome = this.outcomeFor(paymentMethod);
    pi.payment_method = paymentMethod;
    if (outcome.kind === 'decline') {
      this.decline(pi, outcome.error);
      throw new ProviderDeclinedError(outcome.error, snapshot(pi));
    }
    const status: IntentStatus =
      outcome.kind === 'succeed' ? 'succeeded' : outcome.kind === 'process' ? 'processing' : 'requires_action';
    if (status === 'succeeded') saveCardIfAsked(this.wallet, pi);
    this.move(pi, status);
    return snapshot(pi);
  }

  private outcomeFor(paymentMethod: string): MockOutcome {
    const outcome = outcomeForPaymentMethod(paymentMethod) ?? savedCardOutcome(this.wallet, paymentMethod);
    if (!outcome) {
      throw new ProviderRejectedError('resource_missing', `No such PaymentMethod: '${paymentMethod}'`, 'payment_method');
    }
    if (outcome.kind === 'succeed' && this.random() >= this.options.successRate) return randomFailure(this.random);
    return outcome;
  }

  private decline(pi: StripeObject, error: { code?: string; declineCode?: string; message?: string }): void {
    setIntentStatus(pi, 'requires_payment_method', error);
    this.emit('payment_intent.payment_failed', pi);
  }

  private move(pi: StripeObject, status: IntentStatus): void {
    const previous = pi.status;
    setIntentStatus(pi, status);
    const type = EVENT_FOR_STATUS[status];
    if (type) this.emit(type, pi, { status: previous });
  }

  private emit(type: string, object: StripeObject, previous?: Record<string, unknown>): void {
    const event = buildEvent(type, object, previous);
    if (this.capture) {
      this.capture.push(event);
      return;
    }
    // Stripe delivers after the API call returns; so does the mock.
    setImmediate(() => this.events.emit('event', event));
  }

  private find(id: string): Stored {
    const stored = this.intents.get(id);
    if (!stored) throw new ProviderRejectedError('resource_missing', `No such payment_intent: '${id}'`, 'id');
    return stored;
  }

  /** Same key, same answer (errors included), as Stripe's idempotency keys. */
  private async idempotent<T>(key: string, fn: () => Promise<T>): Promise<T> {
    await this.latency();
    const cached = this.idempotency.get(key) as Promise<T> | undefined;
    if (cached) return cached;
    const answer = fn();
    this.idempotency.set(key, answer);
    return answer;
  }

  private async latency(): Promise<void> {
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
  }
}
