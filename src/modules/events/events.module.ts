import type { Router } from 'express';
import type { Redis } from 'ioredis';
import { Gauge } from 'prom-client';
import type { Sequelize } from 'sequelize';
import type { Config } from '../../shared/config';
import { Sql } from '../../shared/db/sql';
import type { Metrics } from '../../shared/metrics';
import { DeliverEventsUseCase } from './deliver-events.use-case';
import { DeliveryDispatcher } from './delivery-dispatcher';
import { DELIVERY_STATES, DeliveryRepository } from './delivery.repository';
import { eventDeliveriesAdminRouter } from './event-deliveries.admin';
import { OutboxRepository, type EventSubject } from './outbox.repository';
import { ORDER_SERVICE_TARGET, STREAM_TARGET, webhookTarget, type DeliveryTarget } from './targets/delivery-target';
import { createDeliveryClient, OrderServiceTarget, SignedWebhookTarget } from './targets/http.targets';
import { InMemoryStreamTarget, RedisStreamTarget } from './targets/stream.target';

export interface EventsModule {
  outbox: OutboxRepository;
  deliveries: DeliveryRepository;
  dispatcher: DeliveryDispatcher;
  adminRouter: Router;
  /** Set when REDIS_URL is not: the in-process stand-in for the `payments:events` stream. */
  inMemoryStream?: InMemoryStreamTarget;
}

/**
 * The events this service emits: the outbox (written with each change), the targets it delivers to,
 * and the dispatcher that delivers them at least once, in order per payment and target, each target
 * on its own (a slow receiver never delays the others).
 */
export function createEventsModule(deps: {
  config: Pick<Config, 'orderServiceUrl' | 'eventWebhookUrls' | 'eventWebhookSecret' | 'outbox'>;
  sequelize: Sequelize;
  redis?: Redis;
  metrics: Metrics;
}): EventsModule {
  const { config } = deps;
  const sql = new Sql(deps.sequelize);
  const client = createDeliveryClient(config.outbox.deliveryTimeoutMs);
  const inMemoryStream = deps.redis ? undefined : new InMemoryStreamTarget();
  const targets = new Map<string, DeliveryTarget>([[STREAM_TARGET, deps.redis ? new RedisStreamTarget(deps.redis) : inMemoryStream!]]);
  if (config.orderServiceUrl) targets.set(ORDER_SERVICE_TARGET, new OrderServiceTarget(client, config.orderServiceUrl));
  for (const url of config.eventWebhookUrls) targets.set(webhookTarget(url), new SignedWebhookTarget(client, url, config.eventWebhookSecret!));

  const targetsFor = (subject: EventSubject) =>
    [...targets.keys()].filter((name) => name !== ORDER_SERVICE_TARGET || subject.orderId !== null);
  // A committed change with events wakes the dispatcher at once; its timer stays for retries and for
  // events other replicas wrote. (`dispatcher` is assigned below, before any transaction can commit.)
  const outbox = new OutboxRepository(sql, targetsFor, () => dispatcher.poke());
  // A claim outlasts one attempt (three tries of the delivery timeout, plus axios-retry's short pauses).
  const deliveries = new DeliveryRepository(sql, Math.max(60, Math.ceil((3 * config.outbox.deliveryTimeoutMs) / 1000) + 10));
  const deliver = new DeliverEventsUseCase({
    deliveries,
    targets: (name) => targets.get(name),
    metrics: deps.metrics,
    maxAttempts: config.outbox.maxAttempts,
  });
  const dispatcher = new DeliveryDispatcher({
    deliveries,
    deliver,
    targets: [...targets.keys()],
    intervalMs: config.outbox.workerIntervalMs,
    concurrency: config.outbox.targetConcurrency,
  });

  new Gauge({
    name: 'outbox_deliveries_stored',
    help: 'Event deliveries by state (dead ones need an admin re-send)',
    labelNames: ['state'],
    registers: [deps.metrics.registry],
    async collect() {
      const counts = await deliveries.countByState().catch(() => ({}) as Record<string, number>);
      for (const state of DELIVERY_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });

  return { outbox, deliveries, dispatcher, adminRouter: eventDeliveriesAdminRouter(deliveries, dispatcher), inMemoryStream };
}
