import type { Sequelize } from 'sequelize';
import { nextAttemptDelay } from '../../shared/backoff';
import { withTransaction } from '../../shared/db/database';
import { logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import type { OutboxRepository } from '../events';
import type { PaymentProvider } from '../../providers/payment-provider';
import type { PaymentLedger, SyncPaymentUseCase } from '../payments';
import type { RefundRepository } from '../refunds';
import { outOfScope, type EventScope } from './event-scope';
import { snapshotObject } from './event-shape';
import { handlerFor, type HandlerResult } from './handlers';
import type { WebhookEvent } from './webhook-event.model';
import type { WebhookEventRepository } from './webhook-event.repository';

export interface ApplyDeps {
  sequelize: Sequelize;
  events: WebhookEventRepository;
  /** The payments module's write door: handlers lock and change payments only through it. */
  payments: PaymentLedger;
  provider: Pick<PaymentProvider, 'intentFromEvent'>;
  refunds: RefundRepository;
  outbox: OutboxRepository;
  sync: SyncPaymentUseCase;
  metrics: Metrics;
  maxAttempts: number;
  /** Events of another mode or account are never applied (checked again here for replays and old rows). */
  scope: EventScope;
}

/**
 * Applies one claimed event: the handler's changes and the event's "processed" mark commit in one
 * transaction, so an event has its effect exactly once. A failure schedules a retry, or after the
 * last attempt marks it dead (visible to admins, replayable).
 */
export class ApplyWebhookEventUseCase {
  constructor(private readonly deps: ApplyDeps) {}

  async execute(event: WebhookEvent): Promise<void> {
    const handler = handlerFor(event.type);
    try {
      const object = snapshotObject(event.payload);
      const notOurs = outOfScope(event, this.deps.scope);
      if (notOurs) {
        // Ingest ignores these already; this is a row stored under another setting, or a replay.
        logger.warn('webhook event is of another mode or account; ignored', { event_id: event.id, type: event.type, outcome: notOurs });
      }
      if (!handler || !object || notOurs) {
        await this.deps.events.finish(event.id, 'ignored', notOurs ?? (object ? 'unhandled_type' : 'unhandled_thin_event'), null);
        return this.count('ignored');
      }
      const result: HandlerResult = await withTransaction(this.deps.sequelize, async (t) => {
        const { payments, provider, refunds, outbox } = this.deps;
        const outcome = await handler(object, {
          t,
          eventId: event.id,
          eventType: event.type,
          eventCreated: event.providerCreated,
          source: event.source,
          payments,
          provider,
          refunds,
          outbox,
        });
        if (outcome.kind === 'done') await this.deps.events.finish(event.id, outcome.state, outcome.outcome, outcome.paymentId, t);
        return outcome;
      });
      if (result.kind === 'needs_sync') {
        // Provider call outside any transaction; its answer is applied in the sync's own transaction.
        const payment = await this.deps.sync.execute(result.paymentId, event.source, event.id);
        await withTransaction(this.deps.sequelize, async (t) => {
          // The provider's answer is at least as new as this event: later-created events only from now on.
          await this.deps.payments.recordAppliedEvent(payment.id, { id: event.id, created: event.providerCreated }, t);
          await this.deps.events.finish(event.id, 'processed', 'synced_from_provider', payment.id, t);
        });
        return this.count('processed');
      }
      this.count(result.state);
    } catch (err) {
      await this.retryLater(event, err);
    }
  }

  private async retryLater(event: WebhookEvent, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const dead = event.attempts >= this.deps.maxAttempts;
    const next = new Date(Date.now() + nextAttemptDelay(event.attempts));
    await this.deps.events.fail(event.id, dead ? 'dead' : 'retrying', message, next);
    this.count(dead ? 'dead' : 'retrying');
    const log = dead ? logger.error.bind(logger) : logger.warn.bind(logger);
    log(dead ? 'webhook event dead after its last attempt' : 'webhook event failed; will retry', {
      event_id: event.id,
      type: event.type,
      attempts: event.attempts,
      err,
    });
  }

  private count(outcome: string): void {
    this.deps.metrics.webhookApplied.inc({ outcome });
  }
}
