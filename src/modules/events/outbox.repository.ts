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
/** An appended event waiting in a holding transaction for `OutboxRepository.flush`. */
interface HeldEvent {
  id: string;
  aggregateId: string;
  type: OutboxEventType;
  payload: string | null;
  targets: string[];
}

/** Transactions whose appends wait for one `flush` (see `hold`): their events in append order. */
const held = new WeakMap<Transaction, HeldEvent[]>();

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
    const holding = held.get(t);
    if (holding) {
      holding.push({ id, aggregateId: subject.id, type, payload: values.payload, targets });
      return id;
    }
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

  /**
   * From now on, `append` in `t` only keeps the event; `flush(t)` writes all of them, in append order,
   * in one statement. For a transaction appending many events (a webhook batch): one round trip
   * instead of one per event. The caller must `flush` before it commits, or the events are lost.
   */
  hold(t: Transaction): void {
    if (!held.has(t)) held.set(t, []);
  }

  /**
   * Writes the events `t` held (see `hold`) and their deliveries in one statement, their sequences
   * ascending in append order (so one payment's events keep their order), and stops holding: later
   * appends in `t` are written at once. Wakes the dispatcher once `t` commits.
   */
  async flush(t: Transaction): Promise<void> {
    const events = held.get(t) ?? [];
    held.delete(t);
    if (events.length === 0) return;
    const deliveries = events.flatMap((e) => e.targets.map((target) => ({ eventId: e.id, target })));
    // The sort sits under the INSERT, so each row's sequence default is drawn in append order.
    const insertEvents = `INSERT INTO outbox_events (id, aggregate_id, type, payload)
         SELECT v.id, v.aggregate_id, v.type, CAST(v.payload AS jsonb)
           FROM unnest(ARRAY[:ids]::text[], ARRAY[:aggregateIds]::text[], ARRAY[:types]::text[], ARRAY[:payloads]::text[])
                WITH ORDINALITY AS v(id, aggregate_id, type, payload, ord)
          ORDER BY v.ord`;
    const values: Record<string, unknown> = {
      ids: events.map((e) => e.id),
      aggregateIds: events.map((e) => e.aggregateId),
      types: events.map((e) => e.type),
      payloads: events.map((e) => e.payload),
    };
    if (deliveries.length === 0) return void (await this.sql.exec(insertEvents, values, t));
    await this.sql.exec(
      `WITH e AS (${insertEvents} RETURNING id, aggregate_id, sequence)
       INSERT INTO outbox_deliveries (event_id, aggregate_id, sequence, target)
       SELECT e.id, e.aggregate_id, e.sequence, d.target
         FROM unnest(ARRAY[:deliveryEvents]::text[], ARRAY[:deliveryTargets]::text[]) WITH ORDINALITY AS d(event_id, target, ord)
         JOIN e ON e.id = d.event_id
        ORDER BY e.sequence, d.ord`,
      { ...values, deliveryEvents: deliveries.map((d) => d.eventId), deliveryTargets: deliveries.map((d) => d.target) },
      t,
    );
    if (!this.waking.has(t)) {
      this.waking.add(t);
      t.afterCommit(() => this.onCommitted());
    }
  }

  /**
   * Wakes the dispatcher after an autocommit statement that wrote events through `appendCte` (a
   * transaction's `append` does this itself on commit). Call only once the statement has succeeded.
   */
  appended(): void {
    this.onCommitted();
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
