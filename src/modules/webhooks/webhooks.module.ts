import type { Router } from 'express';
import type { Sequelize } from 'sequelize';
import type { Config } from '../../shared/config';
import { Sql } from '../../shared/db/sql';
import type { Metrics } from '../../shared/metrics';
import { OutboxRepository } from '../events';
import type { PaymentsModule } from '../payments';
import { RefundRepository } from '../refunds';
import { ApplyWebhookEventUseCase } from './apply-webhook-event.use-case';
import { IngestWebhookUseCase } from './ingest-webhook.use-case';
import { webhookEventsAdminRouter } from './webhook-events.admin';
import { WebhookEventRepository } from './webhook-event.repository';
import { WebhookWorker } from './webhook-worker';
import { webhooksRouter } from './webhooks.routes';

export interface WebhooksModule {
  router: Router;
  adminRouter: Router;
  ingest: IngestWebhookUseCase;
  worker: WebhookWorker;
  events: WebhookEventRepository;
}

export function createWebhooksModule(deps: {
  config: Pick<Config, 'stripe' | 'webhooks'>;
  sequelize: Sequelize;
  metrics: Metrics;
  payments: PaymentsModule;
}): WebhooksModule {
  const sql = new Sql(deps.sequelize);
  const events = new WebhookEventRepository(sql);
  const apply = new ApplyWebhookEventUseCase({
    sequelize: deps.sequelize,
    events,
    payments: deps.payments.payments,
    mover: deps.payments.mover,
    refunds: new RefundRepository(sql),
    outbox: new OutboxRepository(sql),
    sync: deps.payments.sync,
    metrics: deps.metrics,
    maxAttempts: deps.config.webhooks.maxAttempts,
  });
  const worker = new WebhookWorker(events, apply, deps.config.webhooks.workerIntervalMs);
  const ingest = new IngestWebhookUseCase({
    events,
    secrets: deps.config.stripe.webhookSecrets,
    toleranceSeconds: deps.config.stripe.webhookToleranceSeconds,
    metrics: deps.metrics,
    onStored: () => worker.poke(),
  });
  return { router: webhooksRouter(ingest), adminRouter: webhookEventsAdminRouter(events, worker), ingest, worker, events };
}
