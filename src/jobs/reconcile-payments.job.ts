import { QueryTypes } from 'sequelize';
import type { Container } from '../container';
import { logger } from '../shared/logger';
import { providerPacer } from '../shared/provider-pacer';

/** What one reconcile run found; every changed thing is also logged and counted in `reconcile_drift_total{kind}`. */
export interface ReconcileReport {
  payments: { checked: number; failed: number; drift: number };
  refunds: { checked: number; failed: number; drift: number };
  /** Outbox deliveries whose claim lease ran out (their replica died mid-delivery), made due again. */
  outboxLeasesReleased: number;
  /** Webhook events left `processing` past their lease; the webhook worker's claim takes them back. */
  webhookLeasesExpired: number;
}

export type ReconcileDeps = Pick<Container, 'config' | 'payments' | 'refunds' | 'events' | 'sequelize' | 'metrics'>;

/**
 * The reconcile job: settles what can stay open when a webhook is missed, a provider call never
 * answered or a replica crashed: open payments and refunds still pending at the provider (re-read,
 * at most RECONCILE_MAX_PROVIDER_RPS calls per second), and claims whose lease ran out.
 */
export async function reconcilePayments(c: ReconcileDeps): Promise<void> {
  await reconcile(c);
}

/** One reconcile run (what the job does), with its report; tests and `reconcilePayments` call it. */
export async function reconcile(c: ReconcileDeps): Promise<ReconcileReport> {
  const { minAgeSeconds, batchSize } = c.config.reconcile;
  const throttle = providerThrottle(c);
  const drift = c.metrics.reconcileDrift;

  const payments = await c.payments.reconcile.execute({ minAgeSeconds, batchSize, throttle });
  for (const d of payments.drift) {
    drift.inc({ kind: 'payment' });
    logger.info('reconcile drift: payment', { payment_id: d.paymentId, from: d.from, to: d.to, intent_attached: d.intentAttached });
  }
  const refunds = await c.refunds.reconcile.execute({ minAgeSeconds, batchSize, throttle });
  for (const d of refunds.drift) {
    drift.inc({ kind: 'refund' });
    logger.info('reconcile drift: refund', { refund_id: d.refundId, payment_id: d.paymentId, from: d.from, to: d.to });
  }
  const outboxLeasesReleased = await c.events.deliveries.releaseExpiredLeases();
  if (outboxLeasesReleased > 0) drift.inc({ kind: 'outbox_delivery_lease' }, outboxLeasesReleased);
  const webhookLeasesExpired = await countExpiredWebhookLeases(c);
  if (webhookLeasesExpired > 0) drift.inc({ kind: 'webhook_event_lease' }, webhookLeasesExpired);

  const report: ReconcileReport = {
    payments: { checked: payments.checked, failed: payments.failed, drift: payments.drift.length },
    refunds: { checked: refunds.checked, failed: refunds.failed, drift: refunds.drift.length },
    outboxLeasesReleased,
    webhookLeasesExpired,
  };
  if (payments.checked + refunds.checked + outboxLeasesReleased + webhookLeasesExpired > 0) logger.info('reconcile run', report);
  return report;
}

/**
 * Read-only: the webhook worker's claim already treats an expired `processing` lease as due, so this
 * only reports them (a count above zero means a replica died while applying an event).
 */
async function countExpiredWebhookLeases(c: ReconcileDeps): Promise<number> {
  const [row] = await c.sequelize.query<{ count: string }>(
    `SELECT count(*) AS count FROM webhook_events WHERE state = 'processing' AND locked_until < now()`,
    { type: QueryTypes.SELECT },
  );
  return Number(row?.count ?? 0);
}

const throttles = new WeakMap<object, () => Promise<void>>();

/**
 * One token per 1/RECONCILE_MAX_PROVIDER_RPS seconds (see providerPacer), shared by every reconcile
 * call of this process, so no second ever holds more than the limit. Runs are once per
 * cluster (job lock), so this is the service's reconcile rate; requests serving clients are not counted.
 */
function providerThrottle(c: ReconcileDeps): () => Promise<void> {
  let throttle = throttles.get(c.payments);
  if (!throttle) {
    throttle = providerPacer(c.config.reconcile.maxProviderRps);
    throttles.set(c.payments, throttle);
  }
  return throttle;
}
