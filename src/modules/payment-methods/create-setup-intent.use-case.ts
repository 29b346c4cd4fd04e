import { randomUUID } from 'node:crypto';
import type { PaymentProvider, ProviderSetupIntent } from '../../providers/payment-provider';
import type { Principal } from '../../shared/auth/jwt-verifier';
import type { Metrics } from '../../shared/metrics';
import type { IdempotencyRecord } from '../idempotency';
import { callProvider } from '../../shared/provider-call';
import { providerError } from './payment-method.errors';
import type { UserCustomers } from './user-customers';

/**
 * A SetupIntent on the caller's customer (created on first need), for Stripe.js to save a card with.
 * Nothing of it is stored: the card, once saved, lives at the provider and is listed from there.
 */
export class CreateSetupIntentUseCase {
  constructor(private readonly deps: { customers: UserCustomers; provider: PaymentProvider; metrics: Metrics }) {}

  async execute(actor: Principal, idem?: IdempotencyRecord): Promise<ProviderSetupIntent> {
    const customerId = await this.deps.customers.ensure(actor.userId);
    // Under the client's Idempotency-Key, a retry after an unknown outcome gets the SetupIntent the
    // first attempt may have made (the key's row survives the retry); without one, each call is new.
    const idempotencyKey = idem ? `idem_${idem.id}:setup_intent` : `setup_intent:${randomUUID()}`;
    try {
      return await callProvider(this.deps.metrics, 'create_setup_intent', () =>
        this.deps.provider.createSetupIntent(customerId, { idempotencyKey }),
      );
    } catch (err) {
      throw providerError(err);
    }
  }
}
