import type { Transaction } from 'sequelize';
import { json, type Sql } from '../../shared/db/sql';
import { newId } from '../../shared/ids';

/** Events this service emits (API.md "Events the service emits"). */
export type OutboxEventType =
  | 'payment.created'
  | 'payment.requires_action'
  | 'payment.processing'
  | 'payment.succeeded'
  | 'payment.failed'
  | 'payment.canceled'
  | 'payment.partially_refunded'
  | 'payment.refunded'
  | 'refund.failed'
  | 'payment.disputed';

/**
 * The transactional outbox: an event is written in the same transaction as the change it describes,
 * so it exists exactly when the change does. Delivery (Redis stream, order service, webhooks) reads
 * `outbox_events` in `sequence` order per aggregate.
 */
export class OutboxRepository {
  constructor(private readonly sql: Sql) {}

  async append(type: OutboxEventType, aggregateId: string, data: Record<string, unknown>, t: Transaction): Promise<string> {
    const id = newId('evt');
    const payload = { id, object: 'event', type, created_at: new Date().toISOString(), data };
    await this.sql.exec(
      `INSERT INTO outbox_events (id, aggregate_id, type, payload) VALUES (:id, :aggregateId, :type, CAST(:payload AS jsonb))`,
      { id, aggregateId, type, payload: json(payload) },
      t,
    );
    return id;
  }

  async listForAggregate(aggregateId: string): Promise<Array<{ id: string; type: string; payload: Record<string, unknown> }>> {
    return this.sql.many(
      `SELECT id, type, payload FROM outbox_events WHERE aggregate_id = :aggregateId ORDER BY sequence`,
      { aggregateId },
    );
  }
}
