import type { PaymentProvider, ProviderPaymentMethod } from '../../providers/payment-provider';
import type { Principal } from '../../shared/auth/jwt-verifier';
import { AppError } from '../../shared/errors';
import type { Metrics } from '../../shared/metrics';
import { callProvider } from '../../shared/provider-call';
import { isMissingAtProvider, providerError } from './payment-method.errors';
import type { ListPaymentMethodsQuery } from './payment-method.schemas';
import type { UserCustomers } from './user-customers';

const badCursor = () =>
  new AppError('parameter_invalid', 'starting_after must be the id of a card in this list', { param: 'starting_after' });

/** The caller's saved cards, newest first, as the provider lists them on their customer. */
export class ListPaymentMethodsUseCase {
  constructor(private readonly deps: { customers: UserCustomers; provider: PaymentProvider; metrics: Metrics }) {}

  async execute(actor: Principal, query: ListPaymentMethodsQuery): Promise<{ data: ProviderPaymentMethod[]; hasMore: boolean }> {
    const customerId = await this.deps.customers.find(actor.userId);
    // No customer yet means no card saved yet: no reason to create one to list nothing.
    if (!customerId) {
      if (query.starting_after) throw badCursor();
      return { data: [], hasMore: false };
    }
    try {
      return await callProvider(this.deps.metrics, 'list_cards', () =>
        this.deps.provider.listCards(customerId, { limit: query.limit, startingAfter: query.starting_after }),
      );
    } catch (err) {
      if (query.starting_after && isMissingAtProvider(err)) throw badCursor();
      throw providerError(err);
    }
  }
}
