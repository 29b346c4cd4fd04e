import { MockProvider, type SimulationScenario } from '../../providers/mock/mock-provider';
import type { StripeObject } from '../../providers/mock/stripe-objects';
import type { PaymentProvider } from '../../providers/payment-provider';
import type { Principal } from '../../shared/auth/jwt-verifier';
import { AppError } from '../../shared/errors';
import { findVisiblePayment, type Payment, type PaymentReads } from '../payments';
import { deliverSignedEvent, type WebhookEventState, type WebhooksModule } from '../webhooks';

/** How long a simulation waits for its events to be applied before answering "queued", in ms. */
export const DEFAULT_SIMULATE_WAIT_MS = 10_000;

export interface SimulationResult {
  /** The payment as stored when answering: after the events when `applied`, else as it stood. */
  payment: Payment;
  /** True when every event of the scenario was applied (or settled as ignored) before the answer. */
  applied: boolean;
  events: Array<{ id: string; type: string; state: WebhookEventState; outcome: string | null }>;
}

/**
 * Development only: makes the provider side of a scenario happen and delivers the events Stripe
 * would send, signed, through the real webhook pipeline; then applies them, and waits for them
 * (bounded by `waitMs`) before reading the payment, so the answer shows their effect. Events another
 * replica holds, or queued behind an older event of the payment, are waited for; when the wait runs
 * out the answer says so (`applied: false`, each event's state) instead of showing a stale payment as done.
 */
export class SimulateUseCase {
  constructor(
    private readonly deps: {
      payments: PaymentReads;
      provider: PaymentProvider;
      webhooks: WebhooksModule;
      webhookSecret: string;
      waitMs?: number;
    },
  ) {}

  async execute(paymentId: string, scenario: SimulationScenario, actor: Principal): Promise<SimulationResult> {
    const payment = await findVisiblePayment(this.deps.payments, paymentId, actor);
    if (!payment.providerPaymentId || !payment.providerObject) {
      throw new AppError('payment_unexpected_state', 'The payment has no provider intent yet; nothing to simulate');
    }
    const events = await this.eventsFor(payment, scenario);
    for (const event of events) await deliverSignedEvent(this.deps.webhooks.ingest, event, this.deps.webhookSecret, 'simulate');
    const ids = events.map((e) => e.id);
    const settlement = await this.deps.webhooks.settle(ids, this.deps.waitMs ?? DEFAULT_SIMULATE_WAIT_MS);
    const stored = new Map(settlement.events.map((e) => [e.id, e]));
    return {
      payment: (await this.deps.payments.findById(payment.id))!,
      applied: settlement.settled,
      events: events.map((e) => ({
        id: e.id,
        type: String(e.type),
        state: stored.get(e.id)?.state ?? 'pending',
        outcome: stored.get(e.id)?.outcome ?? null,
      })),
    };
  }

  private async eventsFor(payment: Payment, scenario: SimulationScenario): Promise<StripeObject[]> {
    // The mock drives its own intent; for Stripe, a scratch mock seeded with the last known intent
    // produces the same Stripe-shaped events without touching Stripe.
    const provider = this.deps.provider instanceof MockProvider ? this.deps.provider : new MockProvider({ latencyMs: 0, successRate: 1 });
    await provider.adopt(payment.providerObject as StripeObject, payment.amountRefunded);
    try {
      return await provider.simulate(payment.providerPaymentId!, scenario);
    } catch (err) {
      throw new AppError('payment_unexpected_state', `Scenario '${scenario}' is not possible now: ${(err as Error).message}`);
    }
  }
}
