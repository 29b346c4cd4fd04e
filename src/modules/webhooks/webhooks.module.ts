import type { Router } from 'express';
import { Gauge } from 'prom-client';
import type { Sequelize } from 'sequelize';
import type { PaymentProvider } from '../../providers/payment-provider';
import type { Config } from '../../shared/config';
import { Sql } from '../../shared/db/sql';
import type { Metrics } from '../../shared/metrics';
import type { OutboxRepository } from '../events';
import type { PaymentsModule } from '../payments';
import { RefundRepository } from '../refunds';
import { ApplyWebhookEventUseCase } from './apply-webhook-event.use-case';
import type { EventScope } from './event-scope';
import { CatchUpEventsUseCase } from './catch-up-events.use-case';
import { EventScanRepository } from './event-scan.repository';
import { IngestWebhookUseCase } from './ingest-webhook.use-case';
import { webhookEventsAdminRouter } from './webhook-events.admin';
import { WEBHOOK_EVENT_STATES } from './webhook-event.model';
import { WebhookEventRepository } from './webhook-event.repository';
import { WebhookWorker } from './webhook-worker';
import { settleEvents, type Settlement } from './settle-events';
import { webhooksRouter } from './webhooks.routes';

export interface WebhooksModule {
  router: Router;
  adminRouter: Router;
  ingest: IngestWebhookUseCase;
  worker: WebhookWorker;
  events: WebhookEventRepository;
  /** Applies the given stored events and waits (at most `timeoutMs`) until each is final. */
  settle(ids: string[], timeoutMs: number): Promise<Settlement>;
  /** Stores the provider's events the webhook never delivered (job `catch-up-events`). */
  catchUp: CatchUpEventsUseCase;
}

export function createWebhooksModule(deps: {
  config: Pick<Config, 'stripe' | 'webhooks' | 'catchUp'>;
  sequelize: Sequelize;
  metrics: Metrics;
  payments: PaymentsModule;
  outbox: OutboxRepository;
  provider: PaymentProvider;
}): WebhooksModule {
  const sql = new Sql(deps.sequelize);
  const scope: EventScope = { livemode: deps.config.stripe.livemode, accountId: deps.config.stripe.accountId ?? null };
  const events = new WebhookEventRepository(sql);
  const apply = new ApplyWebhookEventUseCase({
    sequelize: deps.sequelize,
    events,
    payments: deps.payments.ledger,
    provider: deps.provider,
    refunds: new RefundRepository(sql),
    outbox: deps.outbox,
    sync: deps.payments.sync,
    metrics: deps.metrics,
    maxAttempts: deps.config.webhooks.maxAttempts,
    scope,
  });
  const worker = new WebhookWorker(events, apply, deps.config.webhooks.workerIntervalMs);
  const ingest = new IngestWebhookUseCase({
    events,
    provider: deps.provider,
    secrets: deps.config.stripe.webhookSecrets,
    toleranceSeconds: deps.config.stripe.webhookToleranceSeconds,
    metrics: deps.metrics,
    scope,
    onStored: () => worker.poke(),
  });
  // Dead (and waiting) events are visible to whoever watches the metrics, not only to admins.
  new Gauge({
    name: 'webhook_events_stored',
    help: 'Stored webhook events by processing state (dead ones need an admin replay)',
    labelNames: ['state'],
    registers: [deps.metrics.registry],
    async collect() {
      const counts = await events.countByState().catch(() => ({}) as Record<string, number>);
      for (const state of WEBHOOK_EVENT_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
  const catchUp = new CatchUpEventsUseCase({
    provider: deps.provider,
    ingest,
    scans: new EventScanRepository(sql),
    metrics: deps.metrics,
    ...deps.config.catchUp,
  });
  return {
    router: webhooksRouter(ingest),
    adminRouter: webhookEventsAdminRouter(events, worker),
    ingest,
    worker,
    events,
    settle: (ids, timeoutMs) => settleEvents(events, worker, ids, timeoutMs),
    catchUp,
  };
}
