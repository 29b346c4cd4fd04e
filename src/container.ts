import type { Redis } from 'ioredis';
import type { Sequelize } from 'sequelize';
import { createAnalyticsModule, type AnalyticsModule } from './modules/analytics';
import { createEventsModule, type EventsModule } from './modules/events';
import { IdempotencyStore } from './modules/idempotency';
import { createPaymentMethodsModule, type PaymentMethodsModule } from './modules/payment-methods';
import { OrderServiceClient } from './modules/orders';
import { createPaymentsModule, type PaymentsModule } from './modules/payments';
import { createRefundsModule, type RefundsModule } from './modules/refunds';
import { registerOpsGauges } from './modules/health/ops.gauges';
import { SimulateUseCase } from './modules/simulate/simulate.use-case';
import { createWebhooksModule, deliverSignedEvent, type WebhooksModule } from './modules/webhooks';
import { MockProvider } from './providers/mock/mock-provider';
import type { PaymentProvider } from './providers/payment-provider';
import { JwtVerifier } from './shared/auth/jwt-verifier';
import type { Config } from './shared/config';
import { reportError } from './shared/http/error-handler';
import { Sql } from './shared/db/sql';
import { Lifecycle } from './shared/lifecycle';
import { createMetrics, type Metrics } from './shared/metrics';

export interface Infrastructure {
  config: Readonly<Config>;
  sequelize: Sequelize;
  redis?: Redis;
  provider: PaymentProvider;
  metrics?: Metrics;
}

/** Every module, wired once. The HTTP app and the jobs are built from the same container. */
export interface Container extends Infrastructure {
  metrics: Metrics;
  verifier: JwtVerifier;
  idempotency: IdempotencyStore;
  events: EventsModule;
  payments: PaymentsModule;
  webhooks: WebhooksModule;
  refunds: RefundsModule;
  paymentMethods: PaymentMethodsModule;
  analytics: AnalyticsModule;
  /** The order service lookup; absent without ORDER_SERVICE_URL (the client's amount is used). */
  orders?: OrderServiceClient;
  /** Draining or serving: readiness answers 503 once SIGTERM has started the drain. */
  lifecycle: Lifecycle;
  /** Absent in production: POST /v1/test/simulate does not exist there. */
  simulate?: SimulateUseCase;
}

export function buildContainer(infra: Infrastructure): Container {
  const { config, sequelize, provider } = infra;
  const metrics = infra.metrics ?? createMetrics();
  const sql = new Sql(sequelize);
  const idempotency = new IdempotencyStore(sequelize, sql, config.idempotency);
  const events = createEventsModule({ config, sequelize, redis: infra.redis, metrics });
  const orderServiceUrl = config.orderService.url;
  const orders = orderServiceUrl ? new OrderServiceClient({ ...config.orderService, url: orderServiceUrl }, metrics) : undefined;
  // Before payments: a payment may be made with, or save, a card on the user's customer.
  const paymentMethods = createPaymentMethodsModule({ config, sequelize, provider, idempotency, metrics });
  const payments = createPaymentsModule(
    { sequelize, provider, idempotency, metrics, customers: paymentMethods.customers, orders },
    idempotency,
    events.outbox,
  );
  const webhooks = createWebhooksModule({ config, sequelize, metrics, payments, outbox: events.outbox, provider });
  const webhookSecret = config.stripe.webhookSecrets[0];

  if (provider instanceof MockProvider && webhookSecret) {
    // The mock's events take the same road as Stripe's: signed, verified, stored, applied by the worker.
    provider.events.on('event', (event: object) => {
      deliverSignedEvent(webhooks.ingest, event, webhookSecret)
        .then(() => provider.recordDelivery((event as { id: string }).id, true))
        .catch((err) => {
          reportError(err, { source: 'mock-provider-event' });
          return provider.recordDelivery((event as { id: string }).id, false);
        });
    });
  }
  const simulate =
    config.isProduction || !webhookSecret
      ? undefined
      : new SimulateUseCase({ payments: payments.payments, provider, webhooks, webhookSecret });

  const refunds = createRefundsModule({ sequelize, provider, idempotency, metrics, payments, outbox: events.outbox });
  registerOpsGauges({ sequelize, redis: infra.redis, metrics });

  return {
    ...infra,
    metrics,
    verifier: new JwtVerifier(config.jwt),
    idempotency,
    events,
    payments,
    webhooks,
    refunds,
    paymentMethods,
    analytics: createAnalyticsModule({ sequelize }),
    orders,
    lifecycle: new Lifecycle(),
    simulate,
  };
}
