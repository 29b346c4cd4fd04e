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
  /** Transactions that already wake the dispatcher on commit (one wake per transaction, however many events). */
  private readonly waking = new WeakSet<Transaction>();

  constructor(
    private readonly sql: Sql,
    private readonly targetsFor: TargetsFor = () => [],
    /** Called after a transaction that appended events commits: wakes the dispatcher (an in-process poke). */
    private readonly onCommitted: () => void = () => {},
  ) {}

  /**
   * Writes the event and its deliveries (one per target) in `t`, in one statement. Once `t`
   * commits, the dispatcher is woken, so delivery starts at once instead of on its next timer pass.
   */
  async append(type: OutboxEventType, subject: EventSubject, data: Record<string, unknown>, t: Transaction): Promise<string> {
    const id = newId('evt');
    const payload = { id, object: 'event', type, created_at: new Date().toISOString(), data };
    const targets = this.targetsFor(subject);
    const values = { id, aggregateId: subject.id, type, payload: json(payload), targets };
    const insertEvent = `INSERT INTO outbox_events (id, aggregate_id, type, payload) VALUES (:id, :aggregateId, :type, CAST(:payload AS jsonb))`;
    if (targets.length === 0) await this.sql.exec(insertEvent, values, t);
    else {
      await this.sql.exec(
        `WITH e AS (${insertEvent} RETURNING sequence)
         INSERT INTO outbox_deliveries (event_id, aggregate_id, sequence, target)
         SELECT :id, :aggregateId, e.sequence, target FROM e, unnest(ARRAY[:targets]::text[]) AS target`,
        values,
        t,
      );
      if (!this.waking.has(t)) {
        this.waking.add(t);
        t.afterCommit(() => this.onCommitted());
      }
    }
    return id;
  }

  async listForAggregate(aggregateId: string): Promise<Array<{ id: string; type: string; payload: Record<string, unknown> }>> {
    return this.sql.many(
      `SELECT id, type, payload FROM outbox_events WHERE aggregate_id = :aggregateId ORDER BY sequence`,
      { aggregateId },
    );
  }
}
