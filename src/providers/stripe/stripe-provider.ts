import Stripe from 'stripe';
import type { Config } from '../../shared/config';
import {
  type CallOptions,
  type CreateCustomerInput,
  type CreateIntentInput,
  type CreateRefundInput,
  type ListCardsOptions,
  type ListEventsOptions,
  type ProviderEventPage,
  type ProviderCardPage,
  type ProviderCustomer,
  type ProviderPaymentMethod,
  type ProviderRefund,
  type PaymentProvider,
  type ProviderPaymentIntent,
  type ProviderSetupIntent,
} from '../payment-provider';
import { translateStripeError } from './stripe-errors';
import { toProviderIntent, toProviderPaymentMethod, toProviderRefund, toProviderSetupIntent } from './stripe-mappers';
import { stripeWebhookEvents } from './stripe-webhook-event';

export { translateStripeError } from './stripe-errors';

/** Builds the SDK client: explicit timeout, network retries, and STRIPE_API_URL for a local fake or simulator. */
export function createStripeClient(stripe: Config['stripe']): Stripe {
  const target = stripe.apiUrl ? new URL(stripe.apiUrl) : undefined;
  return new Stripe(stripe.secretKey ?? 'sk_test_unset', {
    timeout: stripe.timeoutMs,
    maxNetworkRetries: stripe.maxNetworkRetries,
    telemetry: false,
    appInfo: { name: 'payments-service' },
    ...(target
      ? {
          host: target.hostname,
          port: Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
          protocol: target.protocol.replace(':', '') as 'http' | 'https',
        }
      : {}),
  });
}

export class StripeProvider implements PaymentProvider {
  readonly name = 'stripe' as const;

  constructor(private readonly stripe: Stripe) {}

  async createPaymentIntent(input: CreateIntentInput, options: CallOptions): Promise<ProviderPaymentIntent> {
    return this.call(async () =>
      this.stripe.paymentIntents.create(
        {
          amount: input.amount,
          currency: input.currency,
          description: input.description ?? undefined,
          // Our ids ride along so webhooks can be matched to payments.
          metadata: {
            ...input.metadata,
            payment_id: input.paymentId,
            ...(input.orderId ? { order_id: input.orderId } : {}),
          },
          automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
          ...(input.paymentMethod ? { payment_method: input.paymentMethod, confirm: true } : {}),
          ...(input.customer ? { customer: input.customer } : {}),
          ...(input.setupFutureUsage ? { setup_future_usage: input.setupFutureUsage } : {}),
        },
        { idempotencyKey: options.idempotencyKey },
      ),
    );
  }

  async confirmPaymentIntent(id: string, paymentMethod: string, options: CallOptions): Promise<ProviderPaymentIntent> {
    return this.call(() =>
      this.stripe.paymentIntents.confirm(id, { payment_method: paymentMethod }, { idempotencyKey: options.idempotencyKey }),
    );
  }

  async cancelPaymentIntent(id: string, options: CallOptions): Promise<ProviderPaymentIntent> {
    return this.call(() => this.stripe.paymentIntents.cancel(id, {}, { idempotencyKey: options.idempotencyKey }));
  }

  async retrievePaymentIntent(id: string): Promise<ProviderPaymentIntent> {
    return this.call(() => this.stripe.paymentIntents.retrieve(id));
  }

  async createRefund(input: CreateRefundInput, options: CallOptions): Promise<ProviderRefund> {
    try {
      const refund = await this.stripe.refunds.create(
        {
          payment_intent: input.paymentIntentId,
          amount: input.amount,
          ...(input.reason ? { reason: input.reason } : {}),
          metadata: { refund_id: input.refundId, payment_id: input.paymentId },
        },
        { idempotencyKey: options.idempotencyKey },
      );
      return toProviderRefund(refund);
    } catch (err) {
      throw translateStripeError(err);
    }
  }

  async retrieveRefund(id: string): Promise<ProviderRefund> {
    try {
      return toProviderRefund(await this.stripe.refunds.retrieve(id));
    } catch (err) {
      throw translateStripeError(err);
    }
  }

  async createCustomer(input: CreateCustomerInput, options: CallOptions): Promise<ProviderCustomer> {
    const customer = await this.attempt(() =>
      this.stripe.customers.create({ metadata: { user_id: input.userId } }, { idempotencyKey: options.idempotencyKey }),
    );
    return { id: customer.id };
  }

  async createSetupIntent(customerId: string, options: CallOptions): Promise<ProviderSetupIntent> {
    const si = await this.attempt(() =>
      this.stripe.setupIntents.create(
        // off_session: the card is saved to be charged later without the customer present. Cards only;
        // the SDK's API version (2026-10-28) names the list `allowed_payment_method_types`.
        { customer: customerId, usage: 'off_session', allowed_payment_method_types: ['card'] },
        { idempotencyKey: options.idempotencyKey },
      ),
    );
    return toProviderSetupIntent(si);
  }

  async listCards(customerId: string, options: ListCardsOptions): Promise<ProviderCardPage> {
    const page = await this.attempt(() =>
      this.stripe.paymentMethods.list({
        customer: customerId,
        type: 'card',
        limit: options.limit,
        ...(options.startingAfter ? { starting_after: options.startingAfter } : {}),
      }),
    );
    return { data: page.data.map(toProviderPaymentMethod), hasMore: page.has_more };
  }

  async retrievePaymentMethod(id: string): Promise<ProviderPaymentMethod> {
    return toProviderPaymentMethod(await this.attempt(() => this.stripe.paymentMethods.retrieve(id)));
  }

  async detachPaymentMethod(id: string, options: CallOptions): Promise<ProviderPaymentMethod> {
    const pm = await this.attempt(() => this.stripe.paymentMethods.detach(id, {}, { idempotencyKey: options.idempotencyKey }));
    return toProviderPaymentMethod(pm);
  }

  async listEvents(options: ListEventsOptions = {}): Promise<ProviderEventPage> {
    const page = await this.attempt(() =>
      this.stripe.events.list({
        limit: options.limit ?? 10,
        ...(options.createdGte !== undefined ? { created: { gte: options.createdGte } } : {}),
        ...(options.startingAfter ? { starting_after: options.startingAfter } : {}),
        ...(options.deliverySuccess !== undefined ? { delivery_success: options.deliverySuccess } : {}),
      }),
    );
    return { data: page.data as unknown as Array<Record<string, unknown>>, hasMore: page.has_more };
  }

  async ping(): Promise<boolean> {
    // Reaching Stripe is not a readiness condition for us; the SDK is configured if we got here.
    return true;
  }

  // Webhook events are read and verified as `stripe-webhook-event.ts` documents (Stripe's rules).
  readonly verifyWebhookEvent = stripeWebhookEvents.verifyWebhookEvent;
  readonly readEvent = stripeWebhookEvents.readEvent;
  readonly signWebhookPayload = stripeWebhookEvents.signWebhookPayload;
  readonly intentFromEvent = stripeWebhookEvents.intentFromEvent;

  private async call(fn: () => Promise<Stripe.PaymentIntent>): Promise<ProviderPaymentIntent> {
    return toProviderIntent(await this.attempt(fn));
  }

  private async attempt<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateStripeError(err);
    }
  }
}
