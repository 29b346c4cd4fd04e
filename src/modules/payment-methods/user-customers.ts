import { createHash } from 'node:crypto';
import type { PaymentProvider } from '../../providers/payment-provider';
import type { Metrics } from '../../shared/metrics';
import { callProvider } from '../../shared/provider-call';
import { providerError } from './payment-method.errors';
import type { ProviderCustomerRepository } from './provider-customer.repository';

// Stripe's limit on idempotency keys; a JWT subject may be as long (255), so a long one is hashed.
const MAX_PROVIDER_KEY = 255;

/** `customer:<user_id>`: every first request for one user asks the provider for the same customer. */
export function customerIdempotencyKey(userId: string): string {
  const key = `customer:${userId}`;
  return key.length <= MAX_PROVIDER_KEY ? key : `customer:sha256:${createHash('sha256').update(userId).digest('hex')}`;
}

/**
 * Each user's customer at the current provider, created on first need. Concurrent first requests
 * may all call the provider, but with one idempotency key they get one customer, and
 * INSERT ... ON CONFLICT DO NOTHING plus a re-read leaves one row. No transaction spans the call.
 */
export class UserCustomers {
  constructor(
    private readonly deps: { customers: ProviderCustomerRepository; provider: PaymentProvider; metrics: Metrics },
  ) {}

  /** The user's provider customer id, or null when they never needed one (so they have no saved card). */
  async find(userId: string): Promise<string | null> {
    return (await this.deps.customers.find(userId, this.deps.provider.name))?.providerCustomerId ?? null;
  }

  async ensure(userId: string): Promise<string> {
    const existing = await this.find(userId);
    if (existing) return existing;

    const { provider, metrics } = this.deps;
    let created: { id: string };
    try {
      created = await callProvider(metrics, 'create_customer', () =>
        provider.createCustomer({ userId }, { idempotencyKey: customerIdempotencyKey(userId) }),
      );
    } catch (err) {
      throw providerError(err);
    }
    await this.deps.customers.insertIfAbsent({ userId, provider: provider.name, providerCustomerId: created.id });
    const stored = await this.find(userId);
    // Only a provider customer id already stored for another user could leave nothing here.
    if (!stored) throw new Error(`provider customer ${created.id} could not be stored for user ${userId}`);
    return stored;
  }
}
