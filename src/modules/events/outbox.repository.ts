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

/** The payment an event is about: its id orders the deliveries, its order id addresses the order service. */
export interface EventSubject {
  id: string;
  orderId: string | null;
}

/** Which targets get an event; decided when the event is written, in the same transaction. */
export type TargetsFor = (subject: EventSubject) => string[];

/**
 * The transactional outbox: an event and its deliveries are written in the same transaction as the
 * change it describes, so it exists exactly when the change does and cannot be lost. The dispatcher
 * delivers them, in order per payment and target.
 */
export class OutboxRepository {
  constructor(
    private readonly sql: Sql,
    private readonly targetsFor: TargetsFor = () => [],
  ) {}

  async append(type: OutboxEventType, subject: EventSubject, data: Record<string, unknown>, t: Transaction): Promise<string> {
    const id = newId('evt');
    const payload = { id, object: 'event', type, created_at: new Date().toISOString(), data };
    const [event] = await this.sql.returning<{ sequence: string }>(
      `INSERT INTO outbox_events (id, aggregate_id, type, payload) VALUES (:id, :aggregateId, :type, CAST(:payload AS jsonb))
       RETURNING sequence`,
      { id, aggregateId: subject.id, type, payload: json(payload) },
      t,
    );
    for (const target of this.targetsFor(subject)) {
      await this.sql.exec(
        `INSERT INTO outbox_deliveries (event_id, aggregate_id, sequence, target) VALUES (:id, :aggregateId, :sequence, :target)`,
        { id, aggregateId: subject.id, sequence: event.sequence, target },
        t,
      );
    }
    return id;
  }

  /**
   * `append` for several events of one subject as data-modifying CTEs (named `ob_e`, `ob_d`), for a
   * caller that writes them in the statement making the change (one round trip). They are written
   * only when `gateSql` (an SQL condition, e.g. `EXISTS (SELECT 1 FROM u)`) holds, in the given order
   * (their sequences ascend: a VALUES list is scanned in order, and the sequence's default is drawn
   * per row as it is inserted). Replacement names start with `ob`. Returns the CTE text, its
   * replacements and the event ids.
   */
  appendCte(subject: EventSubject, events: Array<{ type: OutboxEventType; data: Record<string, unknown> }>, gateSql: string): {
    sql: string;
    replacements: Record<string, unknown>;
    ids: string[];
  } {
    const replacements: Record<string, unknown> = { obAggregate: subject.id };
    const ids: string[] = [];
    const rows = events.map((event, i) => {
      const id = newId('evt');
      ids.push(id);
      replacements[`obId${i}`] = id;
      replacements[`obType${i}`] = event.type;
      replacements[`obPayload${i}`] = json({ id, object: 'event', type: event.type, created_at: new Date().toISOString(), data: event.data });
      return `(:obId${i}, :obType${i}, :obPayload${i})`;
    });
    const targets = this.targetsFor(subject);
    targets.forEach((target, i) => (replacements[`obTarget${i}`] = target));
    const sql = `ob_e AS (
        INSERT INTO outbox_events (id, aggregate_id, type, payload)
        SELECT v.id, :obAggregate, v.type, CAST(v.payload AS jsonb) FROM (VALUES ${rows.join(', ')}) AS v(id, type, payload)
         WHERE ${gateSql}
        RETURNING id, aggregate_id, sequence)
      ${
        targets.length > 0
          ? `, ob_d AS (
        INSERT INTO outbox_deliveries (event_id, aggregate_id, sequence, target)
        SELECT ob_e.id, ob_e.aggregate_id, ob_e.sequence, t.target FROM ob_e CROSS JOIN (VALUES ${targets.map((_, i) => `(:obTarget${i})`).join(', ')}) AS t(target))`
          : ''
      }`;
    return { sql, replacements, ids };
  }

  async listForAggregate(aggregateId: string): Promise<Array<{ id: string; type: string; payload: Record<string, unknown> }>> {
    return this.sql.many(
      `SELECT id, type, payload FROM outbox_events WHERE aggregate_id = :aggregateId ORDER BY sequence`,
      { aggregateId },
    );
  }
}
