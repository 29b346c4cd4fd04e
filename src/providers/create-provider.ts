import type { Config } from '../shared/config';
import { MockProvider } from './mock/mock-provider';
import type { PaymentProvider } from './payment-provider';
import { StripeProvider, createStripeClient } from './stripe/stripe-provider';

export function createProvider(config: Pick<Config, 'provider' | 'stripe' | 'mock'>): PaymentProvider {
  if (config.provider === 'stripe') return new StripeProvider(createStripeClient(config.stripe));
  return new MockProvider({ latencyMs: config.mock.latencyMs, successRate: config.mock.successRate });
}
