import type { Router } from 'express';
import type { Sequelize } from 'sequelize';
import type { PaymentProvider } from '../../providers/payment-provider';
import type { Config } from '../../shared/config';
import { Sql } from '../../shared/db/sql';
import type { Metrics } from '../../shared/metrics';
import type { IdempotencyStore } from '../idempotency';
import { CreateSetupIntentUseCase } from './create-setup-intent.use-case';
import { DetachPaymentMethodUseCase } from './detach-payment-method.use-case';
import { ListPaymentMethodsUseCase } from './list-payment-methods.use-case';
import { paymentMethodsRouter } from './payment-methods.routes';
import { ProviderCustomerRepository } from './provider-customer.repository';
import { UserCustomers } from './user-customers';

export interface PaymentMethodsModule {
  router: Router;
  /** Each user's provider customer, created on first need (for paying with a saved card later). */
  customers: UserCustomers;
}

export function createPaymentMethodsModule(deps: {
  config: Pick<Config, 'stripe'>;
  sequelize: Sequelize;
  provider: PaymentProvider;
  idempotency: IdempotencyStore;
  metrics: Metrics;
}): PaymentMethodsModule {
  const { provider, metrics } = deps;
  const customers = new UserCustomers({ customers: new ProviderCustomerRepository(new Sql(deps.sequelize)), provider, metrics });
  const useCaseDeps = { customers, provider, metrics };
  return {
    router: paymentMethodsRouter({
      list: new ListPaymentMethodsUseCase(useCaseDeps),
      createSetupIntent: new CreateSetupIntentUseCase(useCaseDeps),
      detach: new DetachPaymentMethodUseCase(useCaseDeps),
      idempotency: deps.idempotency,
      // A real publishable key with a mock SetupIntent would send Stripe.js to Stripe with a secret it never issued.
      publishableKey: provider.name === 'stripe' ? (deps.config.stripe.publishableKey ?? null) : null,
    }),
    customers,
  };
}
