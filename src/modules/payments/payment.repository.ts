import type { Transaction } from 'sequelize';
import { json, type Sql } from '../../shared/db/sql';
import { LockedPayments } from './locked-payments';
import { HeldMoves } from './held-moves';
import { toPayment, type OrderCheck, type Payment, type PaymentMove, type PaymentRow } from './payment.model';
import type { MoveSource, PaymentStatus } from './payment-status';

export interface NewPayment {
  id: string;
  userId: string;
  orderId: string | null;
  amount: number;
  currency: string;
  description: string | null;
  metadata: Record<string, string>;
  provider: Payment['provider'];
  status: PaymentStatus;
  /** Set when the order service priced the payment. */
  orderCheck?: OrderCheck | null;
}

/** A new payment as a create's phase 1 writes it: with the card, customer and future usage asked for. */
export type NewCreatedPayment = NewPayment & {
  paymentMethod: string | null;
  providerCustomerId: string | null;
  setupFutureUsage: Payment['setupFutureUsage'];
};

/** Columns a use case may change; keys are column names. */
export interface PaymentChanges {
  status?: PaymentStatus;
  amount_refunded?: number;
  provider_payment_id?: string | null;
  client_secret?: string | null;
  payment_method?: string | null;
  failure_code?: string | null;
  failure_message?: string | null;
  next_action?: Record<string, unknown> | null;
  dispute_id?: string | null;
  dispute_status?: string | null;
  dispute_reason?: string | null;
  amount_disputed?: number;
  provider_object?: Record<string, unknown> | null;
  provider_customer_id?: string | null;
  setup_future_usage?: 'on_session' | 'off_session' | null;
}

const JSONB_COLUMNS = new Set(['next_action', 'provider_object']);

/** A PaymentIntent event applied to a payment: its id and provider `created` (unix seconds). */
export interface AppliedEvent {
  id: string;
  created: number;
}

/**
 * True when recording `event` on a row with these last-event columns writes them: no event recorded
 * yet, or an older one, or another one of the same second. SQL over the row's columns, and the same
 * rule in TypeScript over a locked row (`recordsEvent`).
 */
const RECORDS_EVENT = `(last_event_created IS NULL OR last_event_created < :evCreated
                        OR (last_event_created = :evCreated AND last_event_id IS DISTINCT FROM :evId))`;

/** `RECORDS_EVENT` for a locked row: false only when the row has this event or a later one already. */
export function recordsEvent(payment: Pick<Payment, 'lastEvent'>, event: AppliedEvent): boolean {
  const last = payment.lastEvent;
  // A row with no event id reads as lastEvent null: let the SQL guard decide.
  if (!last) return true;
  return last.created < event.created || (last.created === event.created && last.id !== event.id);
}

export interface ListFilters {
  userId?: string;
  status?: PaymentStatus;
  orderId?: string;
  createdGte?: Date;
  createdLte?: Date;
  q?: string;
  sort: 'created_at' | '-created_at' | 'amount' | '-amount';
  limit: number;
  startingAfter?: string;
}

/** The replacements of a new payment's row and its first history row (`insertCreated*`). */
function createdValues(p: NewPayment, move: { source: MoveSource }): Record<string, unknown> {
  return {
    ...p,
    metadata: json(p.metadata),
    orderAmount: p.orderCheck?.amount ?? null,
    orderCurrency: p.orderCheck?.currency ?? null,
    orderCheckedAt: p.orderCheck?.checkedAt ?? null,
    moveSource: move.source,
  };
}


export class PaymentRepository {
  constructor(private readonly sql: Sql) {}

  async insert(p: NewPayment, t: Transaction): Promise<Payment> {
    const [row] = await this.sql.returning<PaymentRow>(
      `INSERT INTO payments (id, user_id, order_id, amount, currency, description, metadata, provider, status,
                             order_amount, order_currency, order_checked_at)
       VALUES (:id, :userId, :orderId, :amount, :currency, :description, CAST(:metadata AS jsonb), :provider, :status,
               :orderAmount, :orderCurrency, :orderCheckedAt)
       RETURNING *`,
      {
        ...p,
        metadata: json(p.metadata),
        orderAmount: p.orderCheck?.amount ?? null,
        orderCurrency: p.orderCheck?.currency ?? null,
        orderCheckedAt: p.orderCheck?.checkedAt ?? null,
      },
      t,
    );
    return toPayment(row);
  }

  /**
   * Phase 1 of a create in one statement (one round trip; autocommit unless `t` is given): the payment
   * row (with its payment method, customer and future-usage choice), its first history row, and, when
   * `also` is given, another data-modifying CTE written atomically with them (the idempotency key's
   * recovery point; it may name the new payment as `(SELECT id FROM p)`). A foreign key from `also`'s
   * row to the payment is checked at the end of the statement, when the payment row exists.
   */
  async insertCreated(
    p: NewCreatedPayment,
    move: { source: MoveSource },
    also: { sql: string; replacements: Record<string, unknown> } | null,
    t?: Transaction,
  ): Promise<Payment> {
    const [row] = await this.sql.returning<PaymentRow>(
      `WITH p AS (
         INSERT INTO payments (id, user_id, order_id, amount, currency, description, metadata, provider, status,
                               order_amount, order_currency, order_checked_at, payment_method, provider_customer_id, setup_future_usage)
         VALUES (:id, :userId, :orderId, :amount, :currency, :description, CAST(:metadata AS jsonb), :provider, :status,
                 :orderAmount, :orderCurrency, :orderCheckedAt, :paymentMethod, :providerCustomerId, :setupFutureUsage)
         RETURNING *),
       h AS (
         INSERT INTO payment_status_history (payment_id, from_status, to_status, source, event_id)
         SELECT id, NULL, status, :moveSource, NULL FROM p)
       ${also ? `, k AS (${also.sql})` : ''}
       SELECT * FROM p`,
      { ...also?.replacements, ...createdValues(p, move) },
      t,
    );
    return toPayment(row);
  }

  /**
   * Phase 1 of a create with a new Idempotency-Key in one autocommit statement (one round trip, one
   * commit): `key` inserts the key already at its `payment_created` recovery point (see
   * `IdempotencyStore.newKeyCte`), and only if it did are the payment row and its first history row
   * inserted. Null when the key existed (nothing written: resume it instead); else the payment and
   * the key row (`id`, `lock_token`).
   */
  async insertCreatedWithKey(
    p: NewCreatedPayment,
    move: { source: MoveSource },
    key: { sql: string; replacements: Record<string, unknown> },
  ): Promise<{ payment: Payment; key: { id: string; lock_token: string } } | null> {
    const [row] = await this.sql.returning<PaymentRow & { idem_key_id: string; idem_lock_token: string }>(
      `WITH k AS (${key.sql}),
       p AS (
         INSERT INTO payments (id, user_id, order_id, amount, currency, description, metadata, provider, status,
                               order_amount, order_currency, order_checked_at, payment_method, provider_customer_id, setup_future_usage)
         SELECT :id, :userId, :orderId, :amount, :currency, :description, CAST(:metadata AS jsonb), :provider, :status,
                :orderAmount, :orderCurrency, :orderCheckedAt, :paymentMethod, :providerCustomerId, :setupFutureUsage
          WHERE EXISTS (SELECT 1 FROM k)
         RETURNING *),
       h AS (
         INSERT INTO payment_status_history (payment_id, from_status, to_status, source, event_id)
         SELECT id, NULL, status, :moveSource, NULL FROM p)
       SELECT p.*, k.id AS idem_key_id, k.lock_token AS idem_lock_token FROM p CROSS JOIN k`,
      { ...key.replacements, ...createdValues(p, move) },
    );
    if (!row) return null;
    return { payment: toPayment(row), key: { id: row.idem_key_id, lock_token: row.idem_lock_token } };
  }

  /**
   * Phase 3 in one autocommit statement (one round trip; the UPDATE takes the row lock): sets `next`'s
   * provider fields, status and `updated_at` (the application's clock, so an answer computed from
   * `next` matches the row byte for byte), only while the row is still as `seen` was read (same
   * intent, status and `updated_at`); writes the history row when the status changes; and runs
   * `also` (more CTEs, e.g. outbox events and the stored answer, each gated on `EXISTS (SELECT 1 FROM
   * u)`; may be empty). False when the guard matched nothing (e.g. a webhook got there first): nothing written.
   */
  async applyIntentAtOnce(
    next: Payment,
    seen: Payment,
    source: MoveSource,
    also: { sql: string; replacements: Record<string, unknown> },
  ): Promise<boolean> {
    const moved = next.status !== seen.status;
    const [row] = await this.sql.returning<{ n: number }>(
      `WITH u AS (
         UPDATE payments SET provider_payment_id = :atPid, client_secret = :atSecret, payment_method = :atMethod,
                next_action = CAST(:atNextAction AS jsonb), provider_object = CAST(:atObject AS jsonb),
                failure_code = :atFailureCode, failure_message = :atFailureMessage, status = :atTo, updated_at = :atUpdatedAt
          WHERE id = :atId AND provider_payment_id IS NOT DISTINCT FROM :atSeenPid AND status = :atFrom
            AND date_trunc('milliseconds', updated_at) = :atSeenUpdatedAt
         RETURNING id)
       ${moved ? `, h AS (INSERT INTO payment_status_history (payment_id, from_status, to_status, source, event_id) SELECT id, :atFrom, :atTo, :atSource, NULL FROM u)` : ''}
       ${also.sql ? `, ${also.sql}` : ''}
       SELECT count(*)::int AS n FROM u`,
      {
        ...also.replacements,
        atId: next.id,
        atPid: next.providerPaymentId,
        atSecret: next.clientSecret,
        atMethod: next.paymentMethod,
        atNextAction: json(next.nextAction),
        atObject: json(next.providerObject),
        atFailureCode: next.failureCode,
        atFailureMessage: next.failureMessage,
        atTo: next.status,
        atUpdatedAt: next.updatedAt,
        atSeenPid: seen.providerPaymentId,
        atFrom: seen.status,
        atSeenUpdatedAt: seen.updatedAt,
        atSource: source,
      },
    );
    return Number(row?.n ?? 0) > 0;
  }

  /**
   * Locks every payment with one of `ids` or one of the PaymentIntent ids `providerPaymentIds` in
   * `t`, in one statement, in id order (every caller locking several payments takes them in this
   * order, so two cannot deadlock on each other), and keeps the rows for `t`: the later `findById` /
   * `findByProviderId` with `lock` of these payments in `t` read them from there, with no statement
   * (see `LockedPayments`). Returns the locked rows.
   */
  async lockMany(ids: string[], providerPaymentIds: string[], t: Transaction): Promise<Payment[]> {
    const rows = await this.sql.many<PaymentRow>(
      `SELECT * FROM payments
        WHERE id = ANY(ARRAY[:ids]::text[]) OR provider_payment_id = ANY(ARRAY[:providerPaymentIds]::text[])
        ORDER BY id FOR UPDATE`,
      // An empty list would render as ARRAY[] (no type): a null element matches nothing instead.
      { ids: ids.length ? ids : [null], providerPaymentIds: providerPaymentIds.length ? providerPaymentIds : [null] },
      t,
    );
    const payments = rows.map(toPayment);
    LockedPayments.start(t, payments);
    return payments;
  }

  async findById(id: string, t?: Transaction, options: { lock?: boolean } = {}): Promise<Payment | null> {
    const held = options.lock ? LockedPayments.byId(t, id) : undefined;
    if (held) return held;
    const row = await this.sql.one<PaymentRow>(
      `SELECT * FROM payments WHERE id = :id ${options.lock ? 'FOR UPDATE' : ''}`,
      { id },
      t,
    );
    const payment = row ? toPayment(row) : null;
    if (payment && options.lock) LockedPayments.remember(t, payment);
    return payment;
  }

  async findByProviderId(providerPaymentId: string, t?: Transaction, options: { lock?: boolean } = {}): Promise<Payment | null> {
    const held = options.lock ? LockedPayments.byIntent(t, providerPaymentId) : undefined;
    if (held) return held;
    const row = await this.sql.one<PaymentRow>(
      `SELECT * FROM payments WHERE provider_payment_id = :providerPaymentId ${options.lock ? 'FOR UPDATE' : ''}`,
      { providerPaymentId },
      t,
    );
    const payment = row ? toPayment(row) : null;
    if (payment && options.lock) LockedPayments.remember(t, payment);
    return payment;
  }

  /** Serialises creates for one (user, order) within the caller's transaction. */
  async lockOrder(userId: string, orderId: string, t: Transaction): Promise<void> {
    await this.sql.exec(`SELECT pg_advisory_xact_lock(hashtext(:key))`, { key: `order:${userId}:${orderId}` }, t);
  }

  /**
   * The order's newest payment that can still take money: pending, requires_action, processing, or
   * failed with its PaymentIntent (retryable on the same payment). A failed payment without an intent
   * (its create was refused, or declined without `payment_intent`) cannot be confirmed again, so it
   * does not hold the order.
   */
  async findOpenForOrder(userId: string, orderId: string, t: Transaction): Promise<Payment | null> {
    const row = await this.sql.one<PaymentRow>(
      `SELECT * FROM payments
        WHERE user_id = :userId AND order_id = :orderId
          AND (status IN ('pending', 'requires_action', 'processing')
               OR (status = 'failed' AND provider_payment_id IS NOT NULL))
        ORDER BY created_at DESC LIMIT 1`,
      { userId, orderId },
      t,
    );
    return row ? toPayment(row) : null;
  }

  /** The order's oldest payment whose money moved: succeeded, partially_refunded or refunded. */
  async findPaidForOrder(userId: string, orderId: string, t: Transaction): Promise<Payment | null> {
    const row = await this.sql.one<PaymentRow>(
      `SELECT * FROM payments
        WHERE user_id = :userId AND order_id = :orderId AND status IN ('succeeded', 'partially_refunded', 'refunded')
        ORDER BY created_at LIMIT 1`,
      { userId, orderId },
      t,
    );
    return row ? toPayment(row) : null;
  }

  /**
   * Another payment of the order (not `exceptId`) that stops a confirm: processing, succeeded,
   * partially_refunded or refunded, or open with a confirm in flight (its claim not yet expired).
   */
  async findConfirmBlocker(userId: string, orderId: string, exceptId: string, t: Transaction): Promise<Payment | null> {
    const row = await this.sql.one<PaymentRow>(
      `SELECT * FROM payments
        WHERE user_id = :userId AND order_id = :orderId AND id <> :exceptId
          AND (status IN ('processing', 'succeeded', 'partially_refunded', 'refunded')
               OR (status IN ('pending', 'requires_action', 'failed') AND confirm_claimed_until > now()))
        ORDER BY created_at LIMIT 1`,
      { userId, orderId, exceptId },
      t,
    );
    return row ? toPayment(row) : null;
  }

  /** Marks a confirm of the payment in flight for `seconds` (a lease); `null` ends it. Leaves `updated_at` alone. */
  async setConfirmClaim(id: string, seconds: number | null, t?: Transaction): Promise<void> {
    await this.sql.exec(
      `UPDATE payments SET confirm_claimed_until = CASE WHEN CAST(:seconds AS integer) IS NULL THEN NULL
                                                        ELSE now() + make_interval(secs => :seconds) END
        WHERE id = :id`,
      { id, seconds },
      t,
    );
  }

  /**
   * Writes `changes` and bumps `updated_at`; with `event`, also records it as the last PaymentIntent
   * event applied (by `recordAppliedEvent`'s rule, in the same UPDATE: one statement, not two).
   */
  async update(id: string, changes: PaymentChanges, t: Transaction, event?: AppliedEvent): Promise<Payment> {
    const columns = Object.keys(changes) as Array<keyof PaymentChanges>;
    const sets = columns.map((c) => (JSONB_COLUMNS.has(c) ? `${c} = CAST(:${c} AS jsonb)` : `${c} = :${c}`));
    const values: Record<string, unknown> = { id };
    for (const c of columns) values[c] = JSONB_COLUMNS.has(c) ? json(changes[c]) : changes[c];
    if (event) {
      // SET expressions read the row as it was, so both columns see the same guard.
      sets.push(
        `last_event_created = CASE WHEN ${RECORDS_EVENT} THEN :evCreated ELSE last_event_created END`,
        `last_event_id = CASE WHEN ${RECORDS_EVENT} THEN :evId ELSE last_event_id END`,
      );
      Object.assign(values, { evId: event.id, evCreated: event.created });
    }
    const [row] = await this.sql.returning<PaymentRow>(
      `UPDATE payments SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = :id RETURNING *`,
      values,
      t,
    );
    const payment = toPayment(row);
    LockedPayments.remember(t, payment);
    return payment;
  }

  /**
   * Records `event` (provider `created` in unix seconds, and id) as the last PaymentIntent event
   * applied to the payment, unless a later one (or this one) is recorded already. Does not touch
   * `updated_at`: news that changed nothing is not activity. Call under the payment's row lock.
   */
  async recordAppliedEvent(paymentId: string, event: AppliedEvent, t: Transaction): Promise<void> {
    // A row `t` holds locked says already whether this would write anything.
    const held = LockedPayments.byId(t, paymentId);
    if (held && !recordsEvent(held, event)) return;
    const [row] = await this.sql.returning<PaymentRow>(
      `UPDATE payments SET last_event_created = :evCreated, last_event_id = :evId
        WHERE id = :paymentId AND ${RECORDS_EVENT}
        RETURNING *`,
      { paymentId, evId: event.id, evCreated: event.created },
      t,
    );
    if (row) LockedPayments.remember(t, toPayment(row));
  }

  /**
   * From now on, `insertMove` in `t` only keeps the row; `flushMoves(t)` writes them all, in order,
   * in one statement (a webhook batch: one round trip instead of one per move). The caller must
   * `flushMoves` before it commits, or the rows are lost.
   */
  holdMoves(t: Transaction): void {
    HeldMoves.hold(t);
  }

  /** Writes the history rows `t` held, ids ascending in insert order, and stops holding. */
  flushMoves(t: Transaction): Promise<void> {
    return HeldMoves.flush(this.sql, t);
  }

  async insertMove(
    paymentId: string,
    move: { from: PaymentStatus | null; to: PaymentStatus; source: MoveSource; eventId?: string | null },
    t: Transaction,
  ): Promise<void> {
    if (HeldMoves.keep(t, { paymentId, from: move.from, to: move.to, source: move.source, eventId: move.eventId ?? null })) return;
    await this.sql.exec(
      `INSERT INTO payment_status_history (payment_id, from_status, to_status, source, event_id)
       VALUES (:paymentId, :from, :to, :source, :eventId)`,
      { paymentId, from: move.from, to: move.to, source: move.source, eventId: move.eventId ?? null },
      t,
    );
  }

  async listMoves(paymentId: string): Promise<PaymentMove[]> {
    const rows = await this.sql.many<{ from_status: string | null; to_status: string; source: string; event_id: string | null; created_at: Date }>(
      `SELECT from_status, to_status, source, event_id, created_at FROM payment_status_history
        WHERE payment_id = :paymentId ORDER BY id`,
      { paymentId },
    );
    return rows.map((r) => ({
      from: r.from_status as PaymentStatus | null,
      to: r.to_status as PaymentStatus,
      source: r.source as MoveSource,
      eventId: r.event_id,
      at: new Date(r.created_at),
    }));
  }

  /** Keyset pagination: rows strictly after the cursor row in the chosen order, `limit + 1` to know `has_more`. */
  async list(filters: ListFilters): Promise<{ data: Payment[]; hasMore: boolean }> {
    const column = filters.sort.replace('-', '') as 'created_at' | 'amount';
    const descending = filters.sort.startsWith('-');
    const where: string[] = [];
    const values: Record<string, unknown> = { limit: filters.limit + 1 };
    if (filters.userId) (where.push('user_id = :userId'), (values.userId = filters.userId));
    if (filters.status) (where.push('status = :status'), (values.status = filters.status));
    if (filters.orderId) (where.push('order_id = :orderId'), (values.orderId = filters.orderId));
    if (filters.createdGte) (where.push('created_at >= :createdGte'), (values.createdGte = filters.createdGte));
    // The API shows milliseconds, the column keeps microseconds: `created_lte` = a payment's own
    // created_at must still include that payment.
    if (filters.createdLte) {
      where.push(`created_at < CAST(:createdLte AS timestamptz) + interval '1 millisecond'`);
      values.createdLte = filters.createdLte;
    }
    if (filters.q) (where.push('(id = :q OR order_id = :q OR provider_payment_id = :q)'), (values.q = filters.q));
    if (filters.startingAfter) {
      const op = descending ? '<' : '>';
      where.push(`(${column}, id) ${op} (SELECT ${column}, id FROM payments WHERE id = :cursor)`);
      values.cursor = filters.startingAfter;
    }
    const direction = descending ? 'DESC' : 'ASC';
    const rows = await this.sql.many<PaymentRow>(
      `SELECT * FROM payments ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY ${column} ${direction}, id ${direction} LIMIT :limit`,
      values,
    );
    return { data: rows.slice(0, filters.limit).map(toPayment), hasMore: rows.length > filters.limit };
  }
}
