import { MockProvider, type SimulationScenario } from '../../providers/mock/mock-provider';
import type { StripeObject } from '../../providers/mock/stripe-objects';
import type { PaymentProvider } from '../../providers/payment-provider';
import type { Principal } from '../../shared/auth/jwt-verifier';
import { AppError } from '../../shared/errors';
import { findVisiblePayment, type Payment, type PaymentRepository } from '../payments';
import { deliverSignedEvent, type WebhooksModule } from '../webhooks';

export interface SimulationResult {
  payment: Payment;
  events: Array<{ id: string; type: string }>;
}

/**
 * Development only: makes the provider side of a scenario happen and delivers the events Stripe
 * would send, signed, through the real webhook pipeline; then applies them before answering.
 */
export class SimulateUseCase {
  constructor(
    private readonly deps: {
      payments: PaymentRepository;
      provider: PaymentProvider;
      webhooks: WebhooksModule;
      webhookSecret: string;
    },
  ) {}

  async execute(paymentId: string, scenario: SimulationScenario, actor: Principal): Promise<SimulationResult> {
    const payment = await findVisiblePayment(this.deps.payments, paymentId, actor);
    if (!payment.providerPaymentId || !payment.providerObject) {
      throw new AppError('payment_unexpected_state', 'The payment has no provider intent yet; nothing to simulate');
    }
    const events = await this.eventsFor(payment, scenario);
    for (const event of events) await deliverSignedEvent(this.deps.webhooks.ingest, event, this.deps.webhookSecret, 'simulate');
    await this.deps.webhooks.worker.drain();
    return {
      payment: (await this.deps.payments.findById(payment.id))!,
      events: events.map((e) => ({ id: e.id, type: String(e.type) })),
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
