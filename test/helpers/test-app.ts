import type { Express } from 'express';
import { createApp } from '../../src/app';
import { buildContainer, type Container } from '../../src/container';
import { MockProvider } from '../../src/providers/mock/mock-provider';
import type { PaymentProvider } from '../../src/providers/payment-provider';
import { StripeProvider, createStripeClient } from '../../src/providers/stripe/stripe-provider';
import { loadConfig, type Config } from '../../src/shared/config';
import { TEST_JWT_SECRET } from './auth';
import { testDatabase } from './database';
import { FakeStripe } from './fake-stripe';

export const TEST_WEBHOOK_SECRET = 'whsec_test_secret_for_the_suite';

export interface TestApp {
  app: Express;
  container: Container;
  config: Readonly<Config>;
}

/** Configuration for tests: the given overrides on top of safe test defaults. */
export function testConfig(overrides: Record<string, string> = {}): Readonly<Config> {
  return loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    RATE_LIMIT_PER_MINUTE: '0',
    JOBS_ENABLED: 'false',
    STRIPE_MAX_NETWORK_RETRIES: '0',
    STRIPE_TIMEOUT_MS: '1500',
    ...overrides,
  });
}

/** The app in process on the test database, with the mock provider or the real SDK against a fake Stripe. */
export function buildTestApp(options: { provider?: PaymentProvider; fakeStripe?: FakeStripe; env?: Record<string, string> } = {}): TestApp {
  const stripeEnv: Record<string, string> = options.fakeStripe
    ? { STRIPE_SECRET_KEY: 'sk_test_fake', STRIPE_API_URL: options.fakeStripe.url }
    : {};
  const config = testConfig({ ...stripeEnv, ...options.env });
  const provider =
    options.provider ??
    (options.fakeStripe
      ? new StripeProvider(createStripeClient(config.stripe))
      : new MockProvider({ latencyMs: 0, successRate: 1, sequelize: testDatabase() }));
  const container = buildContainer({ config, sequelize: testDatabase(), provider });
  return { app: createApp(container), container, config };
}

export async function withFakeStripe(): Promise<FakeStripe> {
  return new FakeStripe().start();
}
