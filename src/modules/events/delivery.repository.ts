import type { Sql } from '../../shared/db/sql';
import type { OutgoingEvent } from './targets/delivery-target';

export type DeliveryState = 'pending' | 'delivered' | 'dead';
export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'delivered', 'dead'];

/** One event on its way to one target. */
export interface Delivery {
  id: number;
  target: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
  event: OutgoingEvent;
}

interface DeliveryRow {
  id: string;
  target: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
  event_id: string;
  type: string;
  aggregate_id: string;
  payload: OutgoingEvent['payload'];
}

/** A claimed delivery; `followers` is true when later events of its payment wait behind it for the same target. */
export type ClaimedDelivery = Delivery & { followers: boolean };

const toDelivery = (r: DeliveryRow): Delivery => ({
  id: Number(r.id),
  target: r.target,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: new Date(r.next_attempt_at),
  lastError: r.last_error,
  deliveredAt: r.delivered_at ? new Date(r.delivered_at) : null,
  createdAt: new Date(r.created_at),
  event: { id: r.event_id, type: r.type, aggregateId: r.aggregate_id, payload: r.payload },
});

const WITH_EVENT = `SELECT d.*, e.type, e.payload FROM outbox_deliveries d JOIN outbox_events e ON e.id = d.event_id`;

export class DeliveryRepository {
  constructor(
    private readonly sql: Sql,
    /** How long a claim holds a delivery (seconds); it must outlast one attempt (three HTTP tries). */
    private readonly leaseSeconds = 60,
  ) {}

  /**
   * Claims up to `limit` due deliveries of one target, each under a lease (`leaseSeconds`, longer than
   * one attempt can take): a crashed holder's delivery is due again once its lease runs out. A delivery waits while an earlier event of the same payment is still pending for
   * the same target, so each target sees a payment's events in order, across replicas, and a batch
   * holds at most one delivery per payment (its deliveries can run side by side).
   *
   * One statement claims and reads the events (the UPDATE in a CTE, joined to `outbox_events`), and
   * says per delivery whether later events of its payment wait behind it for this target
   * (`followers`), so the dispatcher knows whether to claim again without an empty claim.
   */
  async claimDue(limit: number, target: string): Promise<ClaimedDelivery[]> {
    const rows = await this.sql.returning<DeliveryRow & { followers: boolean }>(
      `WITH c AS (
         UPDATE outbox_deliveries SET attempts = attempts + 1, locked_until = now() + make_interval(secs => :leaseSeconds)
          WHERE id IN (
            SELECT d.id FROM outbox_deliveries d
             WHERE d.state = 'pending' AND d.next_attempt_at <= now() AND (d.locked_until IS NULL OR d.locked_until < now())
               AND d.target = :target
               AND NOT EXISTS (SELECT 1 FROM outbox_deliveries earlier
                                WHERE earlier.target = d.target AND earlier.aggregate_id = d.aggregate_id
                                  AND earlier.sequence < d.sequence AND earlier.state = 'pending')
             ORDER BY d.sequence
             LIMIT :limit
             FOR UPDATE SKIP LOCKED)
          RETURNING *)
       SELECT c.*, e.type, e.payload,
              EXISTS (SELECT 1 FROM outbox_deliveries f
                       WHERE f.target = c.target AND f.aggregate_id = c.aggregate_id
                         AND f.sequence > c.sequence AND f.state = 'pending') AS followers
         FROM c JOIN outbox_events e ON e.id = c.event_id
        ORDER BY c.sequence`,
      { limit, target, leaseSeconds: this.leaseSeconds },
    );
    return rows.map((r) => ({ ...toDelivery(r), followers: r.followers === true }));
  }

  /**
   * Deliveries whose claim lease ran out (the replica holding them crashed or hung): made due now.
   * The claim above already takes them back; this makes them count and show at once (reconcile).
   * Returns how many.
   */
  async releaseExpiredLeases(): Promise<number> {
    const rows = await this.sql.returning<{ id: string }>(
      `UPDATE outbox_deliveries SET locked_until = NULL, next_attempt_at = LEAST(next_attempt_at, now())
        WHERE state = 'pending' AND locked_until < now() RETURNING id`,
    );
    return rows.length;
  }

  /** Marks a batch's delivered rows in one statement. */
  async markDelivered(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.sql.exec(
      `UPDATE outbox_deliveries SET state = 'delivered', delivered_at = now(), locked_until = NULL, last_error = NULL
        WHERE id = ANY(ARRAY[:ids]::bigint[])`,
      { ids },
    );
  }

  async markFailed(id: number, state: 'pending' | 'dead', error: string, nextAttemptAt: Date): Promise<void> {
    await this.sql.exec(
      `UPDATE outbox_deliveries SET state = :state, last_error = :error, next_attempt_at = :nextAttemptAt, locked_until = NULL
        WHERE id = :id`,
      { id, state, error: error.slice(0, 2000), nextAttemptAt },
    );
  }

  /** Sends a delivery again with a fresh set of attempts (admin re-send of a dead or delivered event). */
  async requeue(id: number): Promise<boolean> {
    const rows = await this.sql.returning<{ id: string }>(
      `UPDATE outbox_deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(), locked_until = NULL, last_error = NULL
        WHERE id = :id AND NOT (state = 'pending' AND locked_until > now()) RETURNING id`,
      { id },
    );
    return rows.length === 1;
  }

  async findById(id: number): Promise<Delivery | null> {
    const row = await this.sql.one<DeliveryRow>(`${WITH_EVENT} WHERE d.id = :id`, { id });
    return row ? toDelivery(row) : null;
  }

  async list(filters: { state?: DeliveryState; target?: string; paymentId?: string; limit: number; startingAfter?: number }) {
    const where: string[] = [];
    const values: Record<string, unknown> = { limit: filters.limit + 1 };
    if (filters.state) (where.push('d.state = :state'), (values.state = filters.state));
    if (filters.target) (where.push('d.target = :target'), (values.target = filters.target));
    if (filters.paymentId) (where.push('d.aggregate_id = :paymentId'), (values.paymentId = filters.paymentId));
    if (filters.startingAfter) (where.push('d.id < :cursor'), (values.cursor = filters.startingAfter));
    const rows = await this.sql.many<DeliveryRow>(
      `${WITH_EVENT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id DESC LIMIT :limit`,
      values,
    );
    return { data: rows.slice(0, filters.limit).map(toDelivery), hasMore: rows.length > filters.limit };
  }

  async countByState(): Promise<Record<string, number>> {
    const rows = await this.sql.many<{ state: string; count: string }>(`SELECT state, count(*) AS count FROM outbox_deliveries GROUP BY state`);
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.count)]));
  }
}
