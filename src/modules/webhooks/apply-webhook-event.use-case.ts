import type { Sequelize, Transaction } from 'sequelize';
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
import { handlerFor, type EventHandler, type HandlerResult } from './handlers';
import type { StripeObject } from './handlers/handler.types';
import type { WebhookEvent } from './webhook-event.model';
import type { FinishedEvent, WebhookEventRepository } from './webhook-event.repository';

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

/** What applying one event inside a transaction decided: finished, or to be synced from the provider after commit. */
type Decision = { event: WebhookEvent } & ({ finished: FinishedEvent } | { syncPaymentId: string });

/**
 * Applies claimed events: the handler's changes and the event's "processed" mark commit in one
 * transaction, so an event has its effect exactly once. A failure schedules a retry, or after the
 * last attempt marks it dead (visible to admins, replayable).
 */
export class ApplyWebhookEventUseCase {
  constructor(private readonly deps: ApplyDeps) {}

  /**
   * Applies a claimed batch in ONE transaction: the events in lock order (by payment key, then
   * provider time, so two batches never lock payments in opposite orders and one payment's events go
   * oldest first), then one UPDATE finishing them all. If anything in the batch throws, the batch
   * rolls back and each event is applied on its own (`execute`): one bad event neither blocks nor
   * poisons the others, and only it counts an attempt failed. The batch's payments are locked up
   * front in one statement (`lockPayments`), so its handlers' own locks cost no round trip, and
   * their history rows and outbox events are written at the end, one statement each (`holdWrites`). Events a handler sends to the provider
   * are synced after the commit, one by one, with no transaction open across the provider call.
   */
  async executeBatch(batch: WebhookEvent[], stopping?: AbortSignal): Promise<void> {
    if (batch.length === 1) return this.execute(batch[0]);
    let decisions: Decision[];
    try {
      decisions = await withTransaction(this.deps.sequelize, async (t) => {
        await this.lockPayments(batch, t);
        // History rows and outbox events of the whole batch: one statement each, at the end.
        this.deps.payments.holdWrites(t);
        const decided: Decision[] = [];
        for (const event of [...batch].sort(lockOrder)) decided.push(await this.decide(event, t));
        await this.deps.payments.flushWrites(t);
        await this.deps.events.finishMany(decided.flatMap((d) => ('finished' in d ? [d.finished] : [])), t);
        return decided;
      });
    } catch (err) {
      logger.warn('webhook batch failed; applying its events one at a time', { events: batch.length, err });
      for (const event of batch) {
        if (stopping?.aborted) return;
        await this.execute(event);
      }
      return;
    }
    for (const d of decisions) {
      if ('finished' in d) this.count(d.finished.state);
      else if (!stopping?.aborted) await this.syncThenFinish(d.event, d.syncPaymentId);
    }
  }

  /** Applies one claimed event in its own transaction (single events, and a failed batch's fallback). */
  async execute(event: WebhookEvent): Promise<void> {
    try {
      const planned = this.plan(event);
      if ('skipped' in planned) {
        await this.deps.events.finish(event.id, planned.skipped.state, planned.skipped.outcome, null);
        return this.count('ignored');
      }
      const decision = await withTransaction(this.deps.sequelize, async (t) => {
        const decided = await this.decide(event, t, planned);
        if ('finished' in decided) {
          const { state, outcome, paymentId } = decided.finished;
          await this.deps.events.finish(event.id, state, outcome, paymentId, t);
        }
        return decided;
      });
      if ('syncPaymentId' in decision) return await this.syncThenFinish(event, decision.syncPaymentId);
      this.count(decision.finished.state);
    } catch (err) {
      await this.retryLater(event, err);
    }
  }

  /**
   * Locks every payment the batch's events name (our id from metadata, else their PaymentIntent) in
   * one statement, in id order; the handlers' `lock` / `lockByIntent` in `t` then read the locked
   * rows kept by the ledger instead of a SELECT ... FOR UPDATE each. A payment none of these finds
   * (say its intent was attached since) is still locked by its handler, as before.
   */
  private async lockPayments(batch: WebhookEvent[], t: Transaction): Promise<void> {
    const ids = [...new Set(batch.flatMap((e) => (e.paymentId ? [e.paymentId] : [])))];
    const intents = [...new Set(batch.flatMap((e) => (e.orderingKey ? [e.orderingKey] : [])))];
    if (ids.length + intents.length > 0) await this.deps.payments.lockMany(ids, intents, t);
  }

  /** Runs the event's handler in `t` (or decides it needs none): how the event ends. */
  private async decide(event: WebhookEvent, t: Transaction, planned = this.plan(event)): Promise<Decision> {
    if ('skipped' in planned) return { event, finished: planned.skipped };
    const { payments, provider, refunds, outbox } = this.deps;
    const outcome: HandlerResult = await planned.handler(planned.object, {
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
    if (outcome.kind === 'needs_sync') return { event, syncPaymentId: outcome.paymentId };
    return { event, finished: { id: event.id, state: outcome.state, outcome: outcome.outcome, paymentId: outcome.paymentId } };
  }

  /**
   * What to apply: the handler and the object snapshot (the payload parsed once), or, for an event
   * with no handler, no object snapshot, or of another mode or account, how it is ignored and why.
   */
  private plan(event: WebhookEvent): { skipped: FinishedEvent } | { handler: EventHandler; object: StripeObject } {
    const handler = handlerFor(event.type);
    const object = snapshotObject(event.payload);
    const notOurs = outOfScope(event, this.deps.scope);
    if (notOurs) {
      // Ingest ignores these already; this is a row stored under another setting, or a replay.
      logger.warn('webhook event is of another mode or account; ignored', { event_id: event.id, type: event.type, outcome: notOurs });
    }
    if (handler && object && !notOurs) return { handler, object };
    return { skipped: { id: event.id, state: 'ignored', outcome: notOurs ?? (object ? 'unhandled_type' : 'unhandled_thin_event'), paymentId: null } };
  }

  /** The event contradicts our state: the provider's answer, fetched outside any transaction, is applied and the event finished. */
  private async syncThenFinish(event: WebhookEvent, paymentId: string): Promise<void> {
    try {
      // Provider call outside any transaction; its answer is applied in the sync's own transaction.
      const payment = await this.deps.sync.execute(paymentId, event.source, event.id);
      await withTransaction(this.deps.sequelize, async (t) => {
        // The provider's answer is at least as new as this event: later-created events only from now on.
        await this.deps.payments.recordAppliedEvent(payment.id, { id: event.id, created: event.providerCreated }, t);
        await this.deps.events.finish(event.id, 'processed', 'synced_from_provider', payment.id, t);
      });
      this.count('processed');
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

/**
 * Lock order for a batch: by the payment the event is about (our id, else its PaymentIntent), then
 * the provider's time and arrival, the claim's order within one payment. Every batch takes payment
 * row locks in this order, so two batches cannot deadlock on each other.
 */
function lockOrder(a: WebhookEvent, b: WebhookEvent): number {
  const ka = a.paymentId ?? a.orderingKey ?? '';
  const kb = b.paymentId ?? b.orderingKey ?? '';
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.providerCreated - b.providerCreated || a.receivedAt.getTime() - b.receivedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
