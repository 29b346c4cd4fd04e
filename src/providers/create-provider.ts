import type { Sequelize } from 'sequelize';
import type { Config } from '../shared/config';
import { MockProvider } from './mock/mock-provider';
import type { PaymentProvider } from './payment-provider';
import { StripeProvider, createStripeClient } from './stripe/stripe-provider';

/**
 * The configured provider. The mock keeps its state in `sequelize`'s database (its `mock_*` tables),
 * so every replica and every restart sees the same mock Stripe account.
 */
export function createProvider(config: Pick<Config, 'provider' | 'stripe' | 'mock'>, sequelize?: Sequelize): PaymentProvider {
  if (config.provider === 'stripe') return new StripeProvider(createStripeClient(config.stripe));
  return new MockProvider({ latencyMs: config.mock.latencyMs, successRate: config.mock.successRate, sequelize });
}
